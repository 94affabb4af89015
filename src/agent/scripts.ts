import { spawn } from "node:child_process";
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import type { Cron } from "croner";
import type { ManifestScript } from "../sdk/agent.js";
import { coderCron } from "../sdk/cron.js";
import type { LogLevel } from "../sdk/logs.js";
import type { ScriptStage, ScriptStatus, ScriptTiming } from "../sdk/timings.js";

/** Coder's agent waits this long for a script's output pipes after it exits (exec.Cmd.WaitDelay). */
export const DEFAULT_WAIT_DELAY_MS = 10_000;

export class ScriptError extends Error {
  constructor(
    readonly script: ManifestScript,
    readonly status: Exclude<ScriptStatus, "ok">,
    message: string,
  ) {
    super(message);
    this.name = "ScriptError";
  }
}

export interface ScriptRunnerOptions {
  /** Per-agent directory: script files, CODER_SCRIPT_DATA_DIR, CODER_SCRIPT_BIN_DIR, log files. */
  dataDir: string;
  /** Environment of every script (agent env, CODER_* variables). */
  env: NodeJS.ProcessEnv;
  waitDelayMs?: number;
  /** Every output line, to ship under the script's log source. */
  output: (script: ManifestScript, line: string, level: LogLevel) => void;
  /** Every finished run. */
  completed: (timing: ScriptTiming, script: ManifestScript) => void;
  log: (event: Record<string, unknown>) => void;
}

/**
 * Runs `coder_script`s as Coder's agent (agentscripts) does: each in `sh -c` with
 * CODER_SCRIPT_DATA_DIR/CODER_SCRIPT_BIN_DIR, stdout and stderr line by line to its log source and
 * to its log_path file; a run ends `timed_out` past `timeout` (the process group is signalled, then
 * killed after the wait delay), `exit_failure` on a non-zero exit, `pipes_left_open` when it exits 0
 * but a background child still holds its output after the wait delay, else `ok`.
 */
export class ScriptRunner {
  private readonly groups = new Set<number>();
  private readonly crons: Cron[] = [];
  private readonly waitDelayMs: number;
  readonly binDir: string;

  constructor(
    private readonly scripts: ManifestScript[],
    private readonly opts: ScriptRunnerOptions,
  ) {
    this.waitDelayMs = opts.waitDelayMs ?? DEFAULT_WAIT_DELAY_MS;
    this.binDir = join(opts.dataDir, "bin");
    mkdirSync(this.binDir, { recursive: true });
  }

  /**
   * Runs the scripts of a stage in parallel; resolves when all are done with the error of the first
   * one to fail (undefined when all succeeded), as errgroup.Wait does in Coder's agent.
   */
  async execute(stage: Exclude<ScriptStage, "cron">): Promise<ScriptError | undefined> {
    const selected = this.scripts.filter((s) => (stage === "start" ? s.run_on_start : s.run_on_stop));
    let first: ScriptError | undefined;
    await Promise.all(
      selected.map(async (s) => {
        const err = await this.run(s, stage);
        first ??= err;
      }),
    );
    return first;
  }

  /** Schedules the cron scripts (after the start scripts, as Coder does); a run still going skips its next tick. */
  startCron(): void {
    for (const s of this.scripts.filter((x) => x.cron !== "")) {
      this.crons.push(coderCron(s.cron, () => this.run(s, "cron").then(() => undefined)));
    }
  }

  /** Stops cron and kills whatever scripts still run (their process groups). */
  stop(): void {
    for (const c of this.crons.splice(0)) c.stop();
    for (const pgid of [...this.groups]) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.groups.clear();
  }

  private run(script: ManifestScript, stage: ScriptStage): Promise<ScriptError | undefined> {
    const dataDir = join(this.opts.dataDir, "scripts", script.log_source_id);
    mkdirSync(dataDir, { recursive: true });
    const logDir = join(this.opts.dataDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const logPath = script.log_path === "" ? join(logDir, `coder-script-${script.log_source_id}.log`) : isAbsolute(script.log_path) ? script.log_path : join(logDir, script.log_path);
    const file = createWriteStream(logPath, { flags: "a" });
    const env: NodeJS.ProcessEnv = { ...this.opts.env, CODER_SCRIPT_DATA_DIR: dataDir, CODER_SCRIPT_BIN_DIR: this.binDir, PATH: `${this.binDir}:${this.opts.env.PATH ?? process.env.PATH ?? ""}` };
    const start = new Date();
    this.opts.log({ level: "info", msg: "running script", script: script.display_name, stage });
    // As Coder's agent does (agentssh.CreateCommand): the user's login shell with `-c <script>`, so a
    // script written for bash (`set -o pipefail`, arrays) runs where the user's shell is bash.
    const child = spawn(loginShell(env.USER), ["-c", script.script], { env, cwd: env.HOME && isAbsolute(env.HOME) ? env.HOME : undefined, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const pgid = child.pid;
    if (pgid) this.groups.add(pgid);
    const emit = (line: string, level: LogLevel = "info") => {
      file.write(line + "\n");
      this.opts.output(script, line, level);
    };
    const lineReader = () => {
      let rest = "";
      return {
        push: (chunk: Buffer) => {
          const parts = (rest + chunk.toString("utf8")).split(/\r?\n/);
          rest = parts.pop()!;
          for (const p of parts) emit(p);
        },
        end: () => {
          if (rest !== "") emit(rest);
          rest = "";
        },
      };
    };
    const out = lineReader();
    const err = lineReader();
    child.stdout!.on("data", out.push);
    child.stderr!.on("data", err.push);

    return new Promise((resolve) => {
      let timedOut = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let pipesOpen = false;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (pgid) process.kill(-pgid, signal);
        } catch {
          // already gone
        }
      };
      if (script.timeout_seconds > 0) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            killGroup("SIGTERM");
            timers.push(setTimeout(() => killGroup("SIGKILL"), this.waitDelayMs));
          }, script.timeout_seconds * 1000),
        );
      }
      const finish = () => {
        if (settled || !exit) return;
        settled = true;
        timers.forEach(clearTimeout);
        out.end();
        err.end();
        const exitCode = exit.code ?? -1;
        let status: ScriptStatus = "ok";
        let message = "";
        if (timedOut) {
          status = "timed_out";
          message = `script timed out after ${script.timeout_seconds}s`;
        } else if (exitCode !== 0) {
          status = "exit_failure";
          message = `script exited with code ${exitCode}`;
        } else if (pipesOpen) {
          status = "pipes_left_open";
          message = `script exited successfully, but output pipes were not closed after ${this.waitDelayMs / 1000}s`;
          emit(
            `WARNING: ${message}. This usually means a child process was started with references to stdout or stderr. Consider redirecting the output or using a separate "coder_script" for the process.`,
            "warn",
          );
        }
        if (status === "timed_out") emit(`WARNING: ${message}`, "warn");
        file.end();
        if (pgid && !pipesOpen) this.groups.delete(pgid);
        const end = new Date();
        this.opts.completed({ script_id: script.id, start: start.toISOString(), end: end.toISOString(), exit_code: exitCode, stage, status }, script);
        this.opts.log({ level: status === "ok" ? "info" : "warn", msg: "script finished", script: script.display_name, stage, status, exit_code: exitCode, duration_ms: end.getTime() - start.getTime() });
        resolve(status === "ok" ? undefined : new ScriptError(script, status, `run agent script "${script.display_name}": ${message}`));
      };
      child.on("error", (e) => {
        emit(`failed to start script: ${e.message}`, "error");
        exit = { code: 127, signal: null };
        finish();
      });
      child.on("exit", (code, signal) => {
        exit = { code, signal };
        // Output may still be buffered: wait for the pipes, at most the wait delay.
        timers.push(
          setTimeout(() => {
            pipesOpen = true;
            child.stdout!.destroy();
            child.stderr!.destroy();
            finish();
          }, this.waitDelayMs),
        );
      });
      child.on("close", finish);
    });
  }
}

/** The login shell of `user` (default: this process's user) from /etc/passwd; /bin/sh when it has none. */
export function loginShell(user?: string): string {
  let name = user;
  try {
    name ??= userInfo().username;
  } catch {
    // no passwd entry for this uid
  }
  try {
    const entry = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((f) => f[0] === name);
    const shell = entry?.[6]?.trim();
    if (shell && !/(nologin|false)$/.test(shell)) {
      accessSync(shell, constants.X_OK);
      return shell;
    }
  } catch {
    // unreadable passwd or a shell that is not installed
  }
  return "/bin/sh";
}
