import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { cliPath } from "./cli.js";

export interface Spawned {
  child: ChildProcess;
  /** All stdout and stderr lines so far. */
  lines: string[];
  /** Resolves with the first stdout line that parses as JSON. */
  ready: Promise<Record<string, any>>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Waits for a line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built CLI as a child process (a long-running command: coordinator, imds, agent).
 * `wrap` runs it through another command first, e.g. `nsenter -t PID -m --` (the fault suite).
 */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}, opts: { wrap?: string[] } = {}): Spawned {
  const [command, ...prefix] = [...(opts.wrap ?? []), process.execPath];
  const child = spawn(command, [...prefix, cliPath, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let resolveReady: (v: Record<string, any>) => void;
  let rejectReady: (e: Error) => void;
  const ready = new Promise<Record<string, any>>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const onLine = (line: string, stdout: boolean) => {
    lines.push(line);
    if (stdout && line.startsWith("{")) {
      try {
        resolveReady(JSON.parse(line));
      } catch {
        // not the ready line
      }
    }
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on("line", (l) => onLine(l, true));
  createInterface({ input: child.stderr! }).on("line", (l) => onLine(l, false));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  exited.then((code) => rejectReady(new Error(`process exited (${code}) before it was ready:\n${lines.join("\n")}`)));
  // Only callers that await `ready` care that it never came.
  ready.catch(() => undefined);
  return {
    child,
    lines,
    ready,
    exited,
    waitFor(re, timeoutMs = 20_000) {
      const found = lines.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${lines.join("\n")}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
