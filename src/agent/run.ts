import { readFile } from "node:fs/promises";
import { describeErrno, UsageError } from "../errors.js";
import { Manifest, type LifecycleState } from "../sdk/agent.js";
import { AUTH_ROUTES, AuthenticateResponse, SESSION_TOKEN_HEADER, type AgentAuthType } from "../sdk/auth.js";
import { clientErrorFromResponse, CoderClientError, isRetryable, NetworkError, requestJson } from "../sdk/client-errors.js";
import { parseReinitEvent, REINIT_SSE, type ReinitEvent } from "../sdk/reinit.js";
import { CoderResponse } from "../sdk/response.js";
import { Backoff, sleep } from "./backoff.js";
import { fetchIdentity } from "./metadata.js";
import { AgentRuntime } from "./runtime.js";
import { SseParser } from "./sse.js";

export interface AgentOptions {
  /** Coordinator (coderd) URL. */
  url: string;
  auth: AgentAuthType;
  token?: string;
  tokenFile?: string;
  /** Sent as agent_name with instance-identity auth; absent when unset. */
  agentName?: string;
  /** Base URL of the cloud metadata service (never defaults to 169.254.169.254). */
  metadataUrl?: string;
  /** Scripts' data and log files go under DIR/<agent name> (default: a temporary directory, removed at exit). */
  dataDir?: string;
  /** How long a script's output pipes may stay open after it exits (Coder: 10 s). */
  scriptWaitDelayMs?: number;
  /** bin/provisioner.js, for the `provisioner` command inside scripts and dev containers. */
  cliPath: string;
}

export type AgentLog = (event: Record<string, unknown>) => void;

/** The server refused the agent for good (401/403/404/409 on auth, manifest or lifecycle): retrying cannot help. */
export class AgentAuthError extends Error {
  constructor(readonly refusal: CoderClientError) {
    super(refusal.message);
    this.name = "AgentAuthError";
  }
}

/** Body of an instance-identity exchange; `agent_name` only when set (trimmed, non-empty). */
export function identityRequestBody(identity: Record<string, string>, agentName: string | undefined): Record<string, string> {
  const name = agentName?.trim();
  return name ? { ...identity, agent_name: name } : { ...identity };
}

class AgentSession {
  constructor(
    private readonly opts: AgentOptions,
    readonly token: string,
    private readonly log: AgentLog,
  ) {}

  private url(path: string): string {
    return new URL(path, this.opts.url).toString();
  }

  manifest(signal: AbortSignal): Promise<Manifest> {
    return requestJson(this.url("/api/v2/workspaceagents/me/manifest"), { headers: { [SESSION_TOKEN_HEADER]: this.token }, signal }, Manifest);
  }

  async lifecycle(state: LifecycleState): Promise<void> {
    const res = await fetch(this.url("/api/v2/workspaceagents/me/report-lifecycle"), {
      method: "POST",
      headers: { [SESSION_TOKEN_HEADER]: this.token, "Content-Type": "application/json" },
      body: JSON.stringify({ state, changed_at: new Date().toISOString() }),
    });
    if (!res.ok) throw await clientErrorFromResponse(res);
    this.log({ level: "info", msg: "lifecycle", state });
  }

  /**
   * Waits on the reinit stream (SPEC §3) until an event arrives. Returns the event, "stop" when the
   * server answers 409 or ends the stream with an error event (not a prebuild, or the claim build
   * failed: stop polling for good), or "aborted".
   */
  async waitForReinit(signal: AbortSignal): Promise<ReinitEvent | "stop" | "aborted"> {
    const backoff = new Backoff();
    while (!signal.aborted) {
      try {
        const res = await fetch(this.url("/api/v2/workspaceagents/me/reinit?wait=true"), { headers: { [SESSION_TOKEN_HEADER]: this.token, Accept: "text/event-stream" }, signal });
        if (res.status === 409) {
          const err = await clientErrorFromResponse(res);
          this.log({ level: "info", msg: "reinit not applicable, polling stopped", status: 409, reason: err.message });
          return "stop";
        }
        if (!res.ok || !res.body) throw await clientErrorFromResponse(res);
        this.log({ level: "debug", msg: "waiting for reinit" });
        backoff.reset();
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
            if (ev.event === REINIT_SSE.ping) continue;
            if (ev.event === REINIT_SSE.error) {
              const body = CoderResponse.safeParse(JSON.parse(ev.data || "{}"));
              this.log({ level: "info", msg: "reinit not applicable, polling stopped", reason: body.success ? body.data.message : ev.data, detail: body.success ? body.data.detail : undefined });
              return "stop";
            }
            if (ev.event === REINIT_SSE.data || ev.event === "message") return parseReinitEvent(ev.data, "");
          }
        }
        this.log({ level: "debug", msg: "reinit stream ended, reconnecting" });
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof CoderClientError && !isRetryable(err) && err.status !== 404) throw err;
        const delay = backoff.next();
        this.log({ level: "warn", msg: "reinit stream failed, retrying", error: (err as Error).message, retry_in_ms: delay });
        await sleep(delay, signal);
      }
    }
    return "aborted";
  }
}

/** The agent token from CODER_AGENT_TOKEN_FILE, read at every (re)start. */
export async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read CODER_AGENT_TOKEN_FILE ${file}: ${describeErrno(code, (err as Error).message)}`, "point CODER_AGENT_TOKEN_FILE at the file holding the agent token");
  }
  const token = text.trim();
  if (!token) throw new UsageError(`CODER_AGENT_TOKEN_FILE ${file} is empty`, "write the agent token into it");
  return token;
}

async function exchangeToken(opts: AgentOptions, log: AgentLog, signal: AbortSignal): Promise<string> {
  if (opts.auth === "token") {
    if (opts.token) return opts.token.trim();
    if (opts.tokenFile) return readTokenFile(opts.tokenFile);
    throw new UsageError("token auth needs a token", "set CODER_AGENT_TOKEN or CODER_AGENT_TOKEN_FILE");
  }
  const backoff = new Backoff();
  for (;;) {
    try {
      const identity = await fetchIdentity(opts.auth, opts.metadataUrl!, signal);
      const body = identityRequestBody(identity, opts.agentName);
      const res = await requestJson(new URL(AUTH_ROUTES[opts.auth], opts.url).toString(), { method: "POST", json: body, signal }, AuthenticateResponse);
      log({ level: "info", msg: "authenticated", auth: opts.auth, agent_name: body.agent_name ?? null });
      return res.session_token;
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof CoderClientError && !isRetryable(err)) throw new AgentAuthError(err);
      const delay = backoff.next();
      log({ level: "warn", msg: "authentication failed, retrying", error: (err as Error).message, retry_in_ms: delay });
      await sleep(delay, signal);
    }
  }
}

/**
 * Runs the agent until `signal` aborts: exchange the identity for a token, fetch the manifest,
 * report starting → ready, then wait for prebuild-claim reinit events; on one (for a new owner),
 * stop cleanly, re-authenticate and start again. Throws AgentAuthError when the server refuses it.
 */
export async function runAgent(opts: AgentOptions, signal: AbortSignal, log: AgentLog): Promise<void> {
  // An agent runs until signalled, even when it has nothing to wait on (no reinit stream): this
  // handle keeps the process alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await agentLoop(opts, signal, log);
  } catch (err) {
    // A token the coordinator refuses (manifest, lifecycle): as final as a refused identity.
    if (err instanceof CoderClientError && !isRetryable(err) && !signal.aborted) throw new AgentAuthError(err);
    throw err;
  } finally {
    clearInterval(keepAlive);
  }
}

async function agentLoop(opts: AgentOptions, signal: AbortSignal, log: AgentLog): Promise<void> {
  let lastReinitOwner: string | undefined;
  let pollReinit = true;
  while (!signal.aborted) {
    const token = await exchangeToken(opts, log, signal);
    const session = new AgentSession(opts, token, log);
    const manifest = await withRetry(() => session.manifest(signal), signal, log, "manifest");
    log({ level: "info", msg: "manifest", agent_id: manifest.agent_id, agent_name: manifest.agent_name, workspace: manifest.workspace_name, owner: manifest.owner_name });
    const runtime = new AgentRuntime({ url: opts.url, token, cliPath: opts.cliPath, dataDir: opts.dataDir, scriptWaitDelayMs: opts.scriptWaitDelayMs }, manifest, log);
    // From here on the agent's own output is shipped too, under the default log source.
    const shipped = runtime.log;
    let reinit: ReinitEvent | undefined;
    try {
      await withRetry(() => session.lifecycle("starting"), signal, shipped, "lifecycle");
      const started = await runtime.start();
      await withRetry(() => session.lifecycle(started.state), signal, shipped, "lifecycle");
      if (started.state === "ready") shipped({ level: "info", msg: "agent ready", agent_name: manifest.agent_name, workspace: manifest.workspace_name });
      else shipped({ level: "error", msg: "agent start failed", agent_name: manifest.agent_name, lifecycle: started.state, error: started.error });
      await runtime.settle();

      while (pollReinit && !signal.aborted && !reinit) {
        const result = await session.waitForReinit(signal);
        if (result === "stop") pollReinit = false;
        else if (result !== "aborted") {
          if (result.user_id && result.user_id === lastReinitOwner) {
            shipped({ level: "info", msg: "reinit ignored: already re-initialised for this owner", user_id: result.user_id });
            continue;
          }
          reinit = result;
        }
      }
      // Not a prebuild (or shutting down): keep running until signalled.
      if (!reinit) await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
      else shipped({ level: "info", msg: "reinitializing", reason: reinit.reason, user_id: reinit.user_id, workspace_id: reinit.workspace_id });
      await session.lifecycle("shutting_down").catch((err: Error) => log({ level: "warn", msg: "lifecycle report failed", error: err.message }));
      const stopped = await runtime.stop();
      if (stopped.error) log({ level: "warn", msg: "shutdown scripts failed", lifecycle: stopped.state, error: stopped.error });
      // A reinit starts over at `starting`; a shutdown ends the lifecycle.
      if (!reinit || stopped.state !== "off") await session.lifecycle(stopped.state).catch(() => undefined);
    } finally {
      await runtime.close();
    }
    if (!reinit) return;
    lastReinitOwner = reinit.user_id;
  }
}

async function withRetry<T>(fn: () => Promise<T>, signal: AbortSignal, log: AgentLog, what: string): Promise<T> {
  const backoff = new Backoff();
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted || !(err instanceof NetworkError || (err instanceof CoderClientError && isRetryable(err)))) throw err;
      const delay = backoff.next();
      log({ level: "warn", msg: `${what} failed, retrying`, error: (err as Error).message, retry_in_ms: delay });
      await sleep(delay, signal);
    }
  }
}

