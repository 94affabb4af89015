import { Hono, type Context } from "hono";
import { getCookie } from "hono/cookie";
import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { IdentityError, TrustUnavailableError, type IdentityVerifier } from "../identity/index.js";
import { ReportLifecycleRequest, type Manifest } from "../sdk/agent.js";
import { AwsInstanceIdentityRequest, AzureInstanceIdentityRequest, GoogleInstanceIdentityRequest, SESSION_TOKEN_COOKIE, SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import { ClaimRequest, CompleteJobRequest, CreateBuildRequest, CreateWorkspaceRequest, type AdminResourceSpec } from "../sdk/admin.js";
import { PREBUILDS_SYSTEM_USER_ID } from "../sdk/reinit.js";
import { agentWorkspace, authorize, resolveActor } from "./actor.js";
import { adminTokenMatcher } from "./admin-token.js";
import type { Transaction } from "./db/index.js";
import { httpErrorOf } from "./error-response.js";
import { HttpError } from "./http-error.js";
import { LogStore } from "./logs.js";
import { methodGuard } from "./methods.js";
import { uuidParam as uuidPathParam } from "./params.js";
import { InProcessPubsub, type Pubsub } from "./pubsub.js";
import { registerAppRoutes } from "./routes/apps.js";
import { registerContainerRoutes } from "./routes/containers.js";
import type { AppEnv, RouteDeps } from "./routes/context.js";
import { registerLogRoutes } from "./routes/logs.js";
import { registerTimingRoutes } from "./routes/timings.js";
import { registerUserRoutes } from "./routes/users.js";
import type { SseStream } from "./sse.js";
import { iso, json, type AgentIdentity, type StoredDevcontainer, type Store } from "./store.js";
import { WorkspaceUpdates } from "./workspace-updates.js";

export const MAX_BODY_BYTES = 1 << 20;

export interface AppDeps {
  store: Store;
  verifier: IdentityVerifier;
  adminToken: string;
  /** Absolute path of bin/provisioner.js, served as the agent "binary". */
  cliPath: string;
  log: (event: Record<string, unknown>) => void;
  /** Called after a build was created (auth candidates may have changed, on every replica). */
  onBuildCreated?: () => Promise<void>;
  /** Called in the transaction that marks a job succeeded (prebuild claim → reinit, published iff it commits). */
  onJobSucceeded?: (jobId: string, tx: Transaction) => Promise<void>;
  /** Called in the transaction that marks a job failed (a failed claim build ends the reinit streams). */
  onJobFailed?: (jobId: string, tx: Transaction) => Promise<void>;
  /** Open reinit streams, reported by /healthz. */
  openStreams?: () => number;
  /** Called when an agent reports `starting` (it acted on any reinit sent before). */
  onAgentStarting?: (agent: AgentIdentity) => Promise<void>;
  /** The reinit SSE handler (needs the raw Node response). */
  reinit?: (c: Context, agent: AgentIdentity) => Promise<Response>;
  /** Claim a prebuild (admin). */
  claim?: (workspaceId: string, body: z.infer<typeof ClaimRequest>) => Promise<unknown>;
  /** Log followers and workspace updates are woken through it (default: in-process). */
  pubsub?: Pubsub;
  /** Ping interval of the log-follow and workspace-updates streams. Default 15 s. */
  ssePingMs?: number;
  /** Open streams, ended by the server on shutdown. */
  streams?: Set<SseStream>;
}

type Env = AppEnv;

const tooLarge = () => new HttpError(413, { message: "Request body too large.", detail: `The limit is ${MAX_BODY_BYTES} bytes.` });

/**
 * Reads the request body, at most MAX_BODY_BYTES. On the Node server it reads the incoming stream
 * directly: building a web Request per call costs more than the whole instance-identity check.
 */
async function readBody(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The path of the first string (or key) holding a NUL character, if any. */
function fieldWithNul(v: unknown, path: string[] = []): string | undefined {
  if (typeof v === "string") return v.includes("\0") ? path.join(".") : undefined;
  if (v === null || typeof v !== "object") return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (k.includes("\0")) return [...path, k.replace(/\0/g, "\\0")].join(".");
    const found = fieldWithNul(x, [...path, k]);
    if (found !== undefined) return found;
  }
  return undefined;
}

const jsonType = (v: unknown): string => (Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v);

/**
 * Parses a JSON body against a schema like coderd's httpapi.Read: what Go's decoder refuses (not JSON,
 * or a value of the wrong JSON type) is 400 `Request body must be valid JSON.`; what its validation
 * refuses (missing fields, bad values) is 400 `Validation failed.` with the fields.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, opts: { allowNul?: boolean } = {}): Promise<z.infer<S>> {
  const text = await readBody(c);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw HttpError.badRequest("Request body must be valid JSON.", (err as Error).message);
  }
  // Postgres text cannot hold NUL: refused here, with the field, not by the database (log output,
  // which coderd cleans instead, opts out).
  const nul = opts.allowNul ? undefined : fieldWithNul(raw);
  if (nul !== undefined) throw HttpError.badRequest("Validation failed.", undefined, [{ field: nul || "body", detail: "must not contain NUL characters" }]);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code !== "invalid_type") continue;
      // Present but of the wrong JSON type (null counts as absent, as for Go).
      const value = issue.path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined), raw);
      if (value === undefined || value === null) continue;
      const field = issue.path.join(".");
      throw HttpError.badRequest("Request body must be valid JSON.", `cannot unmarshal ${jsonType(value)} into ${field ? `field "${field}"` : "the request"} of type ${issue.expected}`);
    }
    throw HttpError.badRequest(
      "Validation failed.",
      undefined,
      parsed.error.issues.map((i) => ({ field: i.path.join(".") || "body", detail: i.message })),
    );
  }
  return parsed.data;
}

const LAUNCHER = /^coder-(linux|darwin)-(amd64|arm64|armv7)$/;
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A Postgres server's full disk or lost connections are only seen by the errors they cause: /healthz stays degraded this long after one. */
const STORAGE_FAILURE_WINDOW_MS = 30_000;

export function createApp(deps: AppDeps): Hono<Env> {
  const { store, verifier, log } = deps;
  const app = new Hono<Env>();
  const pubsub = deps.pubsub ?? new InProcessPubsub();
  const logs = new LogStore(store, pubsub);
  const updates = new WorkspaceUpdates(store, pubsub);
  const announce = (p: Promise<void>) => p.catch((err: Error) => log({ level: "warn", msg: "workspace event not published", error: err.message }));
  const isAdmin = adminTokenMatcher(deps.adminToken);
  const methods = methodGuard(app);
  let storageFailure: { at: number; reason: string } | undefined;
  const sseStreams = deps.streams ?? new Set<SseStream>();

  app.onError((err, c) => {
    const http = httpErrorOf(err);
    if (http !== err) {
      const level = http.status >= 500 ? "error" : "warn";
      log({ level, msg: "request failed", method: c.req.method, path: c.req.path, status: http.status, error: err instanceof Error ? err.message : String(err) });
      if (http.status === 507 || http.status === 503) storageFailure = { at: Date.now(), reason: http.body.message };
    }
    return c.json(http.body, http.status, http.headers);
  });
  app.notFound((c) => {
    const notAllowed = methods.notAllowed(c.req.method, c.req.path);
    if (notAllowed) return c.json(notAllowed.body, 405, notAllowed.headers);
    return c.json({ message: "Route not found.", detail: `${c.req.method} ${c.req.path}` }, 404);
  });

  /** The `id` path parameter as a UUID (params.ts); a POST route shadowed by a GET `:id` route is a 405 first. */
  const uuidParam = (c: Context): string => {
    // e.g. GET /api/v2/workspaceagents/aws-instance-identity: a POST route, not an agent ID.
    const notAllowed = UUID.test(c.req.param("id") ?? "") ? undefined : methods.notAllowed(c.req.method, c.req.path, { staticOnly: true });
    if (notAllowed) throw notAllowed;
    return uuidPathParam(c, "id");
  };
  // coderd writes JSON as `application/json; charset=utf-8`; hono's c.json leaves the charset out. The
  // type is given at creation: reading the response's headers afterwards would cost the Node server
  // its fast path on every request.
  app.use(async (c, next) => {
    const json = c.json;
    c.json = ((body: unknown, arg?: number, headers?: Record<string, string>) => json(body as never, arg as never, { "Content-Type": JSON_CONTENT_TYPE, ...headers })) as typeof c.json;
    await next();
  });

  // 200 ok, or 503 degraded with the reason (database stopped or unreachable, disk full).
  app.get("/healthz", async (c) => {
    const db = await store.db.health();
    // PGlite's own health is exact (stopped, space left); a Postgres server's is known from recent errors.
    const recent = store.db.kind === "postgres" && storageFailure && Date.now() - storageFailure.at < STORAGE_FAILURE_WINDOW_MS ? storageFailure : undefined;
    const reason = db.ok ? recent?.reason : db.reason;
    // Open streams: reinit, and log follow plus workspace updates (a leak shows here first).
    const counts = { reinit_streams: deps.openStreams?.() ?? 0, event_streams: sseStreams.size };
    if (reason) return c.json({ status: "degraded", reason, database: store.db.kind, ...counts }, 503, { "Retry-After": "1" });
    return c.json({ status: "ok", database: store.db.kind, ...counts });
  });

  // The agent "binary": a launcher for this package's CLI, so `./coder agent` runs `provisioner agent`.
  app.get("/bin/:file", (c) => {
    const m = LAUNCHER.exec(c.req.param("file"));
    if (!m) throw HttpError.notFound("Unknown agent binary.", `Available: coder-linux-amd64, coder-linux-arm64, coder-darwin-amd64, coder-darwin-arm64.`);
    const body = `#!/bin/sh\n# provisioner agent launcher (${m[1]}/${m[2]})\nexec '${process.execPath}' '${deps.cliPath}' "$@"\n`;
    return c.body(body, 200, { "Content-Type": "application/octet-stream" });
  });

  // ---- instance identity (SPEC §1) ----------------------------------------------------------

  async function authenticate(c: Context, cloud: string, instanceId: string, agentName: string | undefined): Promise<Response> {
    const name = agentName?.trim() || undefined;
    const candidates = await store.authCandidates(instanceId);
    let chosen;
    if (name !== undefined) {
      chosen = candidates.find((a) => a.name === name);
      if (!chosen) {
        if (candidates.length === 0) throw HttpError.notFound(`Instance with id "${instanceId}" not found.`);
        throw HttpError.notFound(`No agent found with instance ID "${instanceId}" and name "${name}".`);
      }
    } else {
      if (candidates.length === 0) throw HttpError.notFound(`Instance with id "${instanceId}" not found.`);
      if (candidates.length > 1) {
        const names = candidates.map((a) => a.name).sort();
        log({ level: "warn", msg: "ambiguous instance identity", cloud, instance_id: instanceId, agents: names });
        throw HttpError.conflict(`Multiple agents found with instance ID "${instanceId}". Set CODER_AGENT_NAME to one of: ${names.join(", ")}`);
      }
      chosen = candidates[0];
    }
    log({ level: "debug", msg: "agent authenticated", cloud, instance_id: instanceId, agent: chosen.name, agent_id: chosen.id });
    return c.json({ session_token: chosen.auth_token });
  }

  const invalid = (cloud: string, err: unknown): never => {
    if (err instanceof IdentityError) throw HttpError.unauthorized(`Invalid ${cloud} identity.`, err.detail);
    if (err instanceof TrustUnavailableError) throw new HttpError(503, { message: `${cloud} identity cannot be verified right now.`, detail: err.detail });
    throw err;
  };

  app.post("/api/v2/workspaceagents/aws-instance-identity", async (c) => {
    const body = await readJson(c, AwsInstanceIdentityRequest);
    const { instanceId } = await verifier.aws(body).catch((e) => invalid("AWS", e));
    return authenticate(c, "aws", instanceId, body.agent_name);
  });
  app.post("/api/v2/workspaceagents/azure-instance-identity", async (c) => {
    const body = await readJson(c, AzureInstanceIdentityRequest);
    const { instanceId } = await verifier.azure(body).catch((e) => invalid("Azure", e));
    return authenticate(c, "azure", instanceId, body.agent_name);
  });
  app.post("/api/v2/workspaceagents/google-instance-identity", async (c) => {
    const body = await readJson(c, GoogleInstanceIdentityRequest);
    const { instanceId } = await verifier.gcp(body.json_web_token).catch((e) => invalid("GCP", e));
    return authenticate(c, "gcp", instanceId, body.agent_name);
  });

  // ---- agent routes (token auth) ----------------------------------------------------------------

  // The agent token, where coderd looks for it and in its order: cookie, query parameter, header.
  app.use("/api/v2/workspaceagents/me/*", async (c, next) => {
    const token = getCookie(c, SESSION_TOKEN_COOKIE) || c.req.query(SESSION_TOKEN_COOKIE) || c.req.header(SESSION_TOKEN_HEADER);
    if (!token) {
      throw HttpError.unauthorized(
        `Cookie "${SESSION_TOKEN_COOKIE}" must be provided.`,
        `Send the agent token in the ${SESSION_TOKEN_HEADER} header, the ${SESSION_TOKEN_COOKIE} cookie or the ${SESSION_TOKEN_COOKIE} query parameter.`,
      );
    }
    if (!UUID.test(token)) throw HttpError.unauthorized("Workspace agent token invalid.", `An agent token must be a valid UUIDv4. (len ${token.length})`);
    const agent = await store.agentByToken(token);
    if (agent?.workspace_deleted) throw HttpError.unauthorized("Workspace agent not authorized.", "The agent token belongs to a deleted workspace.");
    if (!agent?.latest) {
      throw HttpError.unauthorized(
        "Workspace agent not authorized.",
        "The agent cannot authenticate until the workspace provision job has been completed. If the job is no longer running, this agent is invalid.",
      );
    }
    c.set("agent", agent);
    if (await store.markConnected(agent.id)) await announce(updates.workspaceChanged(agent.workspace_id));
    await next();
  });

  app.get("/api/v2/workspaceagents/me/manifest", async (c) => {
    const a = c.get("agent");
    const manifest: Manifest = {
      agent_id: a.id,
      agent_name: a.name,
      owner_name: a.owner_name,
      workspace_id: a.workspace_id,
      workspace_name: a.workspace_name,
      environment_variables: json<Record<string, string>>(a.environment),
      apps: json<Manifest["apps"]>(a.apps).map(({ id, slug, display_name, url, command, healthcheck }) => ({ id, slug, display_name, url, command, healthcheck })),
      scripts: json<(Manifest["scripts"][number] & { timeout: number })[]>(a.scripts).map(({ timeout, ...s }) => ({ ...s, timeout_seconds: timeout })),
      devcontainers: await store.manifestDevcontainers(json<StoredDevcontainer[]>(a.devcontainers)),
    };
    return c.json(manifest);
  });

  app.post("/api/v2/workspaceagents/me/report-lifecycle", async (c) => {
    const a = c.get("agent");
    const body = await readJson(c, ReportLifecycleRequest);
    await store.reportLifecycle(a.id, body.state, body.changed_at);
    if (body.state === "starting") await deps.onAgentStarting?.(a);
    await announce(updates.workspaceChanged(a.workspace_id));
    log({ level: "info", msg: "agent lifecycle", agent: a.name, agent_id: a.id, state: body.state });
    return c.body(null, 204);
  });

  app.get("/api/v2/workspaceagents/me/reinit", async (c) => {
    if (!deps.reinit) throw HttpError.notFound("Reinit is not available.");
    // HEAD: the stream's headers, no stream (the handler writes to the socket itself).
    if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    return deps.reinit(c, c.get("agent"));
  });

  // ---- admin API ----------------------------------------------------------------------------------

  const admin = async (c: Context, next: () => Promise<void>) => {
    if (!isAdmin(c.req.header(SESSION_TOKEN_HEADER))) throw HttpError.unauthorized("You must be logged in as an administrator.", `Set the ${SESSION_TOKEN_HEADER} header to the coordinator's admin token.`);
    await next();
  };
  // User-facing routes: the admin token, or a user's session token (then only their own workspaces).
  const actor = async (c: Context<Env>, next: () => Promise<void>) => {
    c.set("actor", await resolveActor(c, store, isAdmin));
    await next();
  };
  app.use("/api/v2/provisioner/*", admin);
  app.use("/api/v2/workspaces/*", actor);

  const routeDeps: RouteDeps = { store, logs, pubsub, updates, log, streams: sseStreams, ssePingMs: deps.ssePingMs ?? 15_000, actor, admin };
  registerLogRoutes(app, routeDeps);
  registerTimingRoutes(app, routeDeps);
  registerAppRoutes(app, routeDeps);
  registerContainerRoutes(app, routeDeps);
  registerUserRoutes(app, routeDeps);

  /** Build bookkeeping shared by every way a build is created: plan logs and timings, events. */
  const afterBuild = async (workspaceId: string, jobId: string, startedAt: Date, previousOwner?: string) => {
    await store.recordPlan(logs, jobId, startedAt);
    await logs.jobLogsWritten(jobId);
    await announce(updates.workspaceChanged(workspaceId, previousOwner ? [previousOwner] : []));
  };

  app.post("/api/v2/provisioner/workspaces", async (c) => {
    const body = await readJson(c, CreateWorkspaceRequest);
    if (body.prebuild && body.owner) throw HttpError.badRequest("Validation failed.", undefined, [{ field: "owner", detail: "a prebuild is owned by the prebuilds system user; omit owner" }]);
    const startedAt = new Date();
    const result = await store.db.transaction(async (tx) => {
      const ownerId = body.prebuild ? PREBUILDS_SYSTEM_USER_ID : await store.userId(tx, body.owner ?? "admin");
      const workspaceId = crypto.randomUUID();
      await tx.query("INSERT INTO workspaces (id, name, owner_id) VALUES ($1, $2, $3)", [workspaceId, body.name, ownerId]);
      const build = await store.insertBuild(tx, { workspaceId, transition: "start", initiatorId: ownerId, resources: body.resources, jobStatus: body.job });
      return { workspaceId, ...build };
    });
    await deps.onBuildCreated?.();
    await afterBuild(result.workspaceId, result.jobId, startedAt);
    log({ level: "info", msg: "workspace created", workspace_id: result.workspaceId, name: body.name, prebuild: body.prebuild, agents: result.agents.map((a) => a.name) });
    const ws = await store.workspace(store.db, result.workspaceId);
    return c.json({ ...ws, agents: result.agents }, 201);
  });

  app.post("/api/v2/provisioner/workspaces/:id/builds", async (c) => {
    const workspaceId = uuidParam(c);
    const body = await readJson(c, CreateBuildRequest);
    const startedAt = new Date();
    const result = await store.db.transaction(async (tx) => {
      // Concurrent builds of one workspace queue on its row: numbers without gaps or duplicates.
      const before = await store.lockWorkspace(tx, workspaceId);
      const initiatorId = body.initiator ? await store.userId(tx, body.initiator) : before.owner_id;
      // Without resources, the new build has the same resources as the last one: with its agents (new
      // tokens) to start, without agents to stop (their `count = start_count` is 0); a delete build has
      // none (it destroys them).
      const previous: AdminResourceSpec[] = body.resources ?? (body.transition === "delete" ? [] : (await store.resourcesOfJob(tx, before.latest_job_id)).resources);
      const resources = body.resources ?? (body.transition === "stop" ? previous.map((r) => ({ ...r, agents: [] })) : previous);
      const names = new Set(resources.flatMap((r) => r.agents.map((a) => a.name)));
      const unknown = body.keep_tokens.filter((n) => !names.has(n));
      if (unknown.length) throw HttpError.badRequest("Validation failed.", undefined, [{ field: "keep_tokens", detail: `no agent named ${unknown.map((n) => JSON.stringify(n)).join(", ")} in this build` }]);
      const tokens = await store.latestTokens(tx, workspaceId, body.keep_tokens);
      const build = await store.insertBuild(tx, { workspaceId, transition: body.transition, initiatorId, resources, jobStatus: body.job, tokens });
      await store.deleteWorkspaceOfJob(tx, build.jobId);
      if (body.job === "succeeded") await deps.onJobSucceeded?.(build.jobId, tx);
      return build;
    });
    await deps.onBuildCreated?.();
    await afterBuild(workspaceId, result.jobId, startedAt);
    const ws = await store.workspace(store.db, workspaceId, { includeDeleted: true });
    // This build, not the latest: another one may have been created since.
    const build = await store.build(store.db, result.buildId);
    log({ level: "info", msg: "build created", workspace_id: workspaceId, build_number: build.build_number, transition: body.transition });
    return c.json({ workspace: ws, build, agents: result.agents }, 201);
  });

  app.post("/api/v2/provisioner/jobs/:id/complete", async (c) => {
    const jobId = uuidParam(c);
    const body = await readJson(c, CompleteJobRequest);
    const deleted = await store.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string }>(
        "UPDATE provisioner_jobs SET status = $2, error = $3, completed_at = now() WHERE id = $1 AND status IN ('pending', 'running') RETURNING id",
        [jobId, body.status, body.error ?? null],
      );
      if (rows.length === 0) {
        const exists = await tx.query<{ status: string }>("SELECT status FROM provisioner_jobs WHERE id = $1", [jobId]);
        if (exists.length === 0) throw HttpError.notFound("Provisioner job not found.", `No job with ID "${jobId}".`);
        throw HttpError.conflict("Provisioner job is already completed.", `Job "${jobId}" is ${exists[0].status}.`);
      }
      // What the outcome means (a claim's reinit, a failed claim) is published in this transaction.
      if (body.status === "failed") {
        await deps.onJobFailed?.(jobId, tx);
        return false;
      }
      await deps.onJobSucceeded?.(jobId, tx);
      return store.deleteWorkspaceOfJob(tx, jobId);
    });
    log({ level: "info", msg: "job completed", job_id: jobId, status: body.status });
    if (deleted) await deps.onBuildCreated?.();
    await logs.jobLogsWritten(jobId);
    await announce(updates.jobChanged(jobId));
    const job = (await store.db.query<Record<string, unknown>>("SELECT id, type, status, error, created_at, completed_at FROM provisioner_jobs WHERE id = $1", [jobId]))[0];
    return c.json({ job: { ...job, created_at: iso(job.created_at), completed_at: iso(job.completed_at) } });
  });

  app.post("/api/v2/provisioner/workspaces/:id/claim", async (c) => {
    if (!deps.claim) throw HttpError.notFound("Claim is not available.");
    const workspaceId = uuidParam(c);
    const body = await readJson(c, ClaimRequest);
    const startedAt = new Date();
    const result = (await deps.claim(workspaceId, body)) as { build: { job_id: string } };
    await deps.onBuildCreated?.();
    await afterBuild(workspaceId, result.build.job_id, startedAt, PREBUILDS_SYSTEM_USER_ID);
    return c.json(result);
  });

  app.get("/api/v2/workspaces/:id", async (c) => {
    const ws = await store.workspace(store.db, uuidParam(c), { includeDeleted: c.req.query("include_deleted") === "true" });
    authorize(c.get("actor"), ws, "read");
    return c.json(ws);
  });
  app.get("/api/v2/workspaceagents/:id", actor, async (c) => {
    const agentId = uuidParam(c);
    authorize(c.get("actor"), await agentWorkspace(store, agentId), "read");
    return c.json(await store.agent(agentId));
  });

  return app;
}
