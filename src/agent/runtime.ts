import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LifecycleState, Manifest } from "../sdk/agent.js";
import { SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import { clientErrorFromResponse } from "../sdk/client-errors.js";
import type { LogLevel } from "../sdk/logs.js";
import type { ScriptTiming } from "../sdk/timings.js";
import { startAgentApi } from "./api.js";
import { AppHealthChecker } from "./app-health.js";
import { Devcontainers } from "./devcontainers.js";
import { LogSender } from "./log-sender.js";
import { ScriptRunner } from "./scripts.js";

export interface RuntimeOptions {
  url: string;
  token: string;
  /** Absolute path of bin/provisioner.js: scripts get a `provisioner` command, dev containers the agent. */
  cliPath: string;
  /** Kept when given; otherwise a temporary directory removed on close. */
  dataDir?: string;
  scriptWaitDelayMs?: number;
}

/** How often the agent re-reports its API address (its heartbeat). */
const HEARTBEAT_MS = 20_000;

const LEVELS: Record<string, LogLevel> = { trace: "trace", debug: "debug", info: "info", warn: "warn", error: "error" };

/** The agent's own log events as text lines, the way the text logger prints them. */
export function eventLine(event: Record<string, unknown>): string {
  const { level: _level, msg = "", ...rest } = event;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [String(msg), ...fields].join(" ");
}

/**
 * What the agent runs for one manifest: log shipping, the scripts, the agent API and the dev
 * containers. `start()` runs the start scripts and says how the start ended; `stop()` runs the stop
 * scripts and says how the shutdown ended.
 */
export class AgentRuntime {
  readonly sender: LogSender;
  readonly scripts: ScriptRunner;
  readonly devcontainers: Devcontainers;
  private readonly health: AppHealthChecker;
  private readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private readonly reports: Promise<void>[] = [];
  private api?: { url: string; close: () => Promise<void> };
  private readonly env: NodeJS.ProcessEnv;
  private heartbeat?: NodeJS.Timeout;
  readonly log: (event: Record<string, unknown>) => void;

  constructor(
    private readonly opts: RuntimeOptions,
    private readonly manifest: Manifest,
    log: (event: Record<string, unknown>) => void,
  ) {
    // The runtime's own events are shipped too, under the default log source.
    const raw = log;
    this.log = (event) => {
      raw(event);
      this.ship(event);
    };
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ? join(opts.dataDir, manifest.agent_name) : mkdtempSync(join(tmpdir(), `provisioner-agent-${manifest.agent_name}-`));
    mkdirSync(join(this.dataDir, "logs"), { recursive: true });
    // Not shipped: a failure to ship must not queue more lines to ship.
    this.sender = new LogSender(opts.url, opts.token, (err) => raw({ level: "warn", msg: "sending logs failed", error: err.message }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...manifest.environment_variables,
      CODER: "true",
      CODER_AGENT_URL: opts.url,
      CODER_AGENT_AUTH: "token",
      CODER_AGENT_TOKEN: opts.token,
      CODER_WORKSPACE_NAME: manifest.workspace_name,
      CODER_WORKSPACE_AGENT_NAME: manifest.agent_name,
      CODER_WORKSPACE_OWNER_NAME: manifest.owner_name,
    };
    delete env.CODER_AGENT_TOKEN_FILE;
    delete env.CODER_AGENT_NAME;
    this.env = env;
    this.scripts = new ScriptRunner(manifest.scripts, {
      dataDir: this.dataDir,
      env,
      waitDelayMs: opts.scriptWaitDelayMs,
      output: (script, line, level) => this.sender.enqueue(script.log_source_id, line, level),
      completed: (timing) => this.reports.push(this.reportTiming(timing)),
      log: this.log,
    });
    // The `provisioner` command inside scripts (e.g. `provisioner agent app-status`) and the sub-agent binary.
    const launcher = join(this.scripts.binDir, "provisioner");
    writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${opts.cliPath}' "$@"\n`);
    chmodSync(launcher, 0o755);
    this.health = new AppHealthChecker(manifest.apps, (healths) => this.post("/api/v2/workspaceagents/me/app-health", { healths }), this.log);
    this.devcontainers = new Devcontainers(manifest.devcontainers, { url: opts.url, agentBinary: launcher, logDir: join(this.dataDir, "logs"), env, log: this.log });
  }

  /** Ships one of the agent's own events under the default log source. */
  ship(event: Record<string, unknown>): void {
    const level = LEVELS[String(event.level ?? "info")] ?? "info";
    if (level !== "debug" && level !== "trace") this.sender.enqueue(undefined, eventLine(event), level);
  }

  /** POSTs JSON to one of the agent's routes; throws the typed client error. */
  private async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(new URL(path, this.opts.url), {
      method: "POST",
      headers: { [SESSION_TOKEN_HEADER]: this.opts.token, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await clientErrorFromResponse(res);
    await res.body?.cancel();
  }

  private async reportTiming(timing: ScriptTiming): Promise<void> {
    await this.post("/api/v2/workspaceagents/me/script-timings", timing).catch((err: Error) => this.log({ level: "warn", msg: "reporting a script timing failed", error: err.message }));
  }

  /** Waits until every script run so far is reported (and, with `logs`, every log line stored). */
  async settle(opts: { logs: boolean } = { logs: true }): Promise<void> {
    await Promise.all([...this.reports.splice(0), opts.logs ? this.sender.flush() : undefined]);
  }

  /** Serves the agent API (and reports its address), starts the dev containers, runs the start scripts (parallel). */
  async start(): Promise<{ state: Extract<LifecycleState, "ready" | "start_error" | "start_timeout">; error?: string }> {
    // The scripts do not wait for the agent API.
    const api = this.serveApi();
    this.health.start();
    this.devcontainers.startAll();
    const err = await this.scripts.execute("start");
    this.scripts.startCron();
    // As in Coder, the lifecycle does not wait for log shipping (10,000 lines take PGlite ~200 ms);
    // the script runs are reported first, so timings are complete when `ready` is.
    void this.sender.flush();
    await Promise.all([api, this.settle({ logs: false })]);
    if (!err) return { state: "ready" };
    return { state: err.status === "timed_out" ? "start_timeout" : "start_error", error: err.message };
  }

  private async serveApi(): Promise<void> {
    const api = (this.api = await startAgentApi({ token: this.opts.token, devcontainers: this.devcontainers, env: this.env }));
    const report = () => this.post("/api/v2/workspaceagents/me/api-address", { url: api.url });
    await report();
    // Also the agent's heartbeat: coderd sees its agents over a live connection, the coordinator
    // counts an agent connected while it hears from it (a minute at most between requests).
    this.heartbeat = setInterval(() => report().catch((err: Error) => this.log({ level: "warn", msg: "heartbeat failed", error: err.message })), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Runs the stop scripts, then stops everything this runtime started. */
  async stop(): Promise<{ state: Extract<LifecycleState, "off" | "shutdown_error" | "shutdown_timeout">; error?: string }> {
    this.scripts.stop();
    const err = await this.scripts.execute("stop");
    await this.close();
    if (!err) return { state: "off" };
    return { state: err.status === "timed_out" ? "shutdown_timeout" : "shutdown_error", error: err.message };
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.health.stop();
    this.scripts.stop();
    await this.devcontainers.close();
    await this.api?.close();
    this.api = undefined;
    await this.settle();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
