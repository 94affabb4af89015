import { randomUUID } from "node:crypto";
import { AppendJobLogsRequest, PatchLogsRequest, PostLogSourceRequest, type ProvisionerJobLog, type WorkspaceAgentLog } from "../../sdk/logs.js";
import { agentWorkspace, authorize, buildWorkspace } from "../actor.js";
import { readJson } from "../app.js";
import { HttpError } from "../http-error.js";
import { agentLogsChannel, jobLogsChannel } from "../logs.js";
import { uuidParam } from "../params.js";
import { serialized } from "../serial.js";
import { openSse } from "../sse.js";
import type { App, AppContext, RouteDeps } from "./context.js";

interface LogQuery {
  after: number;
  format: "json" | "text";
  follow: boolean;
}

/** `after`, `format` and `follow` as the four log routes take them (SPEC §4). */
export function parseLogQuery(c: AppContext): LogQuery {
  const afterRaw = c.req.query("after");
  let after = 0;
  if (afterRaw !== undefined && afterRaw !== "") {
    if (!/^\d+$/.test(afterRaw) || !Number.isSafeInteger(Number(afterRaw))) {
      throw HttpError.badRequest('Query param "after" must be an integer greater than or equal to zero.', undefined, [
        { field: "after", detail: "Must be an integer greater than or equal to zero" },
      ]);
    }
    after = Number(afterRaw);
  }
  const format = c.req.query("format") ?? "json";
  if (format !== "json" && format !== "text") {
    throw HttpError.badRequest('Query param "format" must be "json" or "text".', undefined, [{ field: "format", detail: `Unknown format "${format}"` }]);
  }
  const follow = c.req.query("follow") !== undefined;
  if (follow && format === "text") {
    throw HttpError.badRequest('Query param "follow" cannot be used with format=text.', "Follow logs as JSON (the default format), or drop follow to get them as text.", [
      { field: "follow", detail: "Not supported with format=text" },
    ]);
  }
  return { after, format, follow };
}

const text = (c: AppContext, body: string) => c.body(body, 200, { "Content-Type": "text/plain; charset=utf-8" });

export function registerLogRoutes(app: App, deps: RouteDeps): void {
  const { store, logs } = deps;

  // ---- agent side (our REST protocol; coderd agents use dRPC) ----
  app.patch("/api/v2/workspaceagents/me/logs", async (c) => {
    const body = await readJson(c, PatchLogsRequest, { allowNul: true });
    await logs.appendAgentLogs(c.get("agent").id, body.log_source_id, body.logs);
    return c.json({});
  });
  app.post("/api/v2/workspaceagents/me/log-source", async (c) => {
    const body = await readJson(c, PostLogSourceRequest);
    return c.json(await logs.registerSource(c.get("agent").id, body), 201);
  });

  // ---- readers ----
  app.get("/api/v2/workspaceagents/:id/logs", deps.actor, async (c) => {
    const agentId = uuidParam(c, "id");
    const ws = await agentWorkspace(store, agentId);
    authorize(c.get("actor"), ws, "read");
    const q = parseLogQuery(c);
    if (q.follow) return followAgent(c, deps, agentId, q.after);
    if (q.format === "text") return text(c, await logs.agentLogsText(agentId, ws.name, q.after));
    return c.json(await logs.agentLogs(agentId, q.after));
  });

  const jobLogs = async (c: AppContext, jobId: string) => {
    const q = parseLogQuery(c);
    if (q.follow) return followJob(c, deps, jobId, q.after);
    if (q.format === "text") return text(c, await logs.jobLogsText(jobId, q.after));
    return c.json(await logs.jobLogs(jobId, q.after));
  };

  app.get("/api/v2/workspacebuilds/:id/logs", deps.actor, async (c) => {
    const build = await buildWorkspace(store, uuidParam(c, "id"));
    authorize(c.get("actor"), build, "read");
    return jobLogs(c, build.job_id);
  });

  app.get("/api/v2/templateversions/:id/logs", deps.actor, async (c) => {
    const id = uuidParam(c, "id");
    const rows = await store.db.query<{ job_id: string }>("SELECT job_id FROM template_versions WHERE id = $1", [id]);
    if (!rows[0]) throw HttpError.notFound("Template version not found.", `No template version with ID "${id}".`);
    return jobLogs(c, rows[0].job_id);
  });

  app.get("/api/v2/templateversions/:id/dry-run/:jobId/logs", deps.actor, async (c) => {
    const id = uuidParam(c, "id");
    const jobId = uuidParam(c, "jobId");
    const rows = await store.db.query<{ id: string; dry_run: string | null }>(
      "SELECT v.id, d.job_id AS dry_run FROM template_versions v LEFT JOIN template_version_dry_runs d ON d.template_version_id = v.id AND d.job_id = $2 WHERE v.id = $1",
      [id, jobId],
    );
    if (!rows[0]) throw HttpError.notFound("Template version not found.", `No template version with ID "${id}".`);
    if (!rows[0].dry_run) throw HttpError.notFound("Provisioner job not found.", `Job "${jobId}" is not a dry run of template version "${id}".`);
    return jobLogs(c, jobId);
  });

  // ---- admin: provisioner job logs of builds run elsewhere (e2e's render and boot stages) ----
  app.post("/api/v2/provisioner/jobs/:id/logs", deps.admin, async (c) => {
    const jobId = uuidParam(c, "id");
    const body = await readJson(c, AppendJobLogsRequest, { allowNul: true });
    const exists = await store.db.query("SELECT 1 FROM provisioner_jobs WHERE id = $1", [jobId]);
    if (exists.length === 0) throw HttpError.notFound("Provisioner job not found.", `No job with ID "${jobId}".`);
    await logs.appendJobLogs(store.db, jobId, body.logs);
    await logs.jobLogsWritten(jobId);
    return c.body(null, 204);
  });

  // ---- admin: template versions (an import job each) and their dry runs ----
  app.post("/api/v2/provisioner/templateversions", deps.admin, async (c) => {
    const id = randomUUID();
    const jobId = randomUUID();
    const name = c.req.query("name") ?? `v-${id.slice(0, 8)}`;
    await store.db.transaction(async (tx) => {
      await tx.query("INSERT INTO provisioner_jobs (id, type, status, started_at) VALUES ($1, 'template_version_import', 'running', now())", [jobId]);
      await tx.query("INSERT INTO template_versions (id, name, job_id) VALUES ($1, $2, $3)", [id, name, jobId]);
    });
    return c.json({ id, name, job_id: jobId }, 201);
  });
  app.post("/api/v2/provisioner/templateversions/:id/dry-run", deps.admin, async (c) => {
    const id = uuidParam(c, "id");
    const jobId = randomUUID();
    const found = await store.db.query("SELECT 1 FROM template_versions WHERE id = $1", [id]);
    if (found.length === 0) throw HttpError.notFound("Template version not found.", `No template version with ID "${id}".`);
    await store.db.transaction(async (tx) => {
      await tx.query("INSERT INTO provisioner_jobs (id, type, status, started_at) VALUES ($1, 'template_version_dry_run', 'running', now())", [jobId]);
      await tx.query("INSERT INTO template_version_dry_runs (job_id, template_version_id) VALUES ($1, $2)", [jobId, id]);
    });
    return c.json({ id: jobId, template_version_id: id }, 201);
  });
}

/**
 * `follow`: an SSE stream whose `data` events each carry a JSON array of new logs (coderd streams
 * them over a WebSocket). Followers are woken through pubsub, so it works across replicas.
 */
async function follow<T extends { id: number }>(c: AppContext, deps: RouteDeps, channel: string, after: number, read: (after: number) => Promise<T[]>, done?: () => Promise<boolean>): Promise<Response> {
  const { RESPONSE_ALREADY_SENT } = await import("@hono/node-server/utils/response");
  let last = after;
  const stream = openSse(c, deps.ssePingMs, deps.streams);
  const { run } = serialized(async () => {
    if (stream.closed) return;
    const rows = await read(last);
    if (rows.length > 0) {
      last = rows[rows.length - 1].id;
      stream.send(rows);
    }
    if (done && (await done())) {
      // Logs written with the completion are read once more before the stream ends.
      const tail = await read(last);
      if (tail.length > 0) stream.send(tail);
      stream.end();
    }
  });
  const pump = () =>
    run().catch((err: Error) => {
      deps.log({ level: "warn", msg: "log follow failed", error: err.message });
      stream.end();
    });
  const unsubscribe = await deps.pubsub.subscribe(channel, () => void pump());
  // Job completion is not a log event: look again now and then.
  const poll = done ? setInterval(() => void pump(), 1000) : undefined;
  stream.onClose(() => {
    unsubscribe();
    if (poll) clearInterval(poll);
  });
  await pump();
  return RESPONSE_ALREADY_SENT;
}

function followAgent(c: AppContext, deps: RouteDeps, agentId: string, after: number): Promise<Response> {
  return follow<WorkspaceAgentLog>(c, deps, agentLogsChannel(agentId), after, (a) => deps.logs.agentLogs(agentId, a));
}

function followJob(c: AppContext, deps: RouteDeps, jobId: string, after: number): Promise<Response> {
  const done = async () => {
    const rows = await deps.store.db.query<{ completed_at: unknown }>("SELECT completed_at FROM provisioner_jobs WHERE id = $1", [jobId]);
    return rows[0]?.completed_at != null;
  };
  return follow<ProvisionerJobLog>(c, deps, jobLogsChannel(jobId), after, (a) => deps.logs.jobLogs(jobId, a), done);
}
