import { AppendJobTimingsRequest, ScriptTiming, type WorkspaceBuildTimings } from "../../sdk/timings.js";
import { authorize, buildWorkspace } from "../actor.js";
import { readJson } from "../app.js";
import { HttpError } from "../http-error.js";
import { iso, json, type StoredScript } from "../store.js";
import type { App, RouteDeps } from "./context.js";
import { uuidParam } from "../params.js";

export function registerTimingRoutes(app: App, deps: RouteDeps): void {
  const { store } = deps;

  // The agent reports each script run (coderd: the ScriptCompleted RPC).
  app.post("/api/v2/workspaceagents/me/script-timings", async (c) => {
    const agent = c.get("agent");
    const body = await readJson(c, ScriptTiming);
    if (!json<StoredScript[]>(agent.scripts).some((s) => s.id === body.script_id)) {
      throw HttpError.badRequest("Validation failed.", undefined, [{ field: "script_id", detail: `agent "${agent.name}" has no script with ID "${body.script_id}"` }]);
    }
    await store.db.query("INSERT INTO workspace_agent_script_timings (script_id, agent_id, started_at, ended_at, exit_code, stage, status) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
      body.script_id,
      agent.id,
      body.start,
      body.end,
      body.exit_code,
      body.stage,
      body.status,
    ]);
    return c.body(null, 204);
  });

  app.get("/api/v2/workspacebuilds/:id/timings", deps.actor, async (c) => {
    const build = await buildWorkspace(store, uuidParam(c, "id"));
    authorize(c.get("actor"), build, "read");
    const jobId = build.job_id;
    const provisioner = await store.db.query<Record<string, unknown>>(
      "SELECT job_id, started_at, ended_at, stage, source, action, resource FROM provisioner_job_timings WHERE job_id = $1 ORDER BY started_at, resource",
      [jobId],
    );
    const agents = await store.db.query<{ id: string; name: string; scripts: unknown; created_at: unknown; first_connected_at: unknown }>(
      `SELECT a.id, a.name, a.scripts, a.created_at, a.first_connected_at FROM workspace_agents a
         JOIN workspace_resources r ON r.id = a.resource_id WHERE r.job_id = $1 AND NOT a.deleted ORDER BY a.created_at, a.name`,
      [jobId],
    );
    // The earliest run of each script, as coderd's GetWorkspaceAgentScriptTimingsByBuildID (DISTINCT ON script_id).
    const runs = await store.db.query<Record<string, unknown>>(
      `SELECT DISTINCT ON (t.agent_id, t.script_id) t.agent_id, t.script_id, t.started_at, t.ended_at, t.exit_code, t.stage, t.status
         FROM workspace_agent_script_timings t WHERE t.agent_id = ANY($1::uuid[])
        ORDER BY t.agent_id, t.script_id, t.started_at`,
      [agents.map((a) => a.id)],
    );
    const byId = new Map(agents.map((a) => [a.id, a]));
    const timings: WorkspaceBuildTimings = {
      provisioner_timings: provisioner.map((r) => ({
        job_id: String(r.job_id),
        started_at: iso(r.started_at)!,
        ended_at: iso(r.ended_at)!,
        stage: String(r.stage),
        source: String(r.source),
        action: String(r.action),
        resource: String(r.resource),
      })),
      agent_script_timings: runs
        .map((r) => {
          const agent = byId.get(String(r.agent_id))!;
          const script = json<StoredScript[]>(agent.scripts).find((s) => s.id === String(r.script_id));
          return {
            started_at: iso(r.started_at)!,
            ended_at: iso(r.ended_at)!,
            exit_code: Number(r.exit_code),
            stage: r.stage as "start",
            status: r.status as "ok",
            display_name: script?.display_name ?? "",
            workspace_agent_id: agent.id,
            workspace_agent_name: agent.name,
          };
        })
        .sort((a, b) => a.started_at.localeCompare(b.started_at) || a.workspace_agent_name.localeCompare(b.workspace_agent_name) || a.display_name.localeCompare(b.display_name)),
      agent_connection_timings: agents
        .filter((a) => a.first_connected_at)
        .map((a) => ({ started_at: iso(a.created_at)!, ended_at: iso(a.first_connected_at)!, stage: "connect" as const, workspace_agent_id: a.id, workspace_agent_name: a.name })),
    };
    return c.json(timings);
  });

  app.post("/api/v2/provisioner/jobs/:id/timings", deps.admin, async (c) => {
    const jobId = uuidParam(c, "id");
    const body = await readJson(c, AppendJobTimingsRequest);
    const exists = await store.db.query("SELECT 1 FROM provisioner_jobs WHERE id = $1", [jobId]);
    if (exists.length === 0) throw HttpError.notFound("Provisioner job not found.", `No job with ID "${jobId}".`);
    for (const t of body.timings) {
      await store.db.query("INSERT INTO provisioner_job_timings (job_id, started_at, ended_at, stage, source, action, resource) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
        jobId,
        t.started_at,
        t.ended_at,
        t.stage,
        t.source,
        t.action,
        t.resource,
      ]);
    }
    return c.body(null, 204);
  });
}
