import { randomUUID } from "node:crypto";
import { APP_STATUS_MESSAGE_MAX, AppStatusState, PatchAppStatusRequest, PostAppHealthRequest } from "../../sdk/apps.js";
import { readJson } from "../app.js";
import { HttpError } from "../http-error.js";
import { json, type StoredApp } from "../store.js";
import type { App, RouteDeps } from "./context.js";

export function registerAppRoutes(app: App, deps: RouteDeps): void {
  // SPEC §6, with coderd's messages (patchWorkspaceAgentAppStatus): slug, then message length, then state.
  app.patch("/api/v2/workspaceagents/me/app-status", async (c) => {
    const agent = c.get("agent");
    const body = await readJson(c, PatchAppStatusRequest);
    const target = json<StoredApp[]>(agent.apps).find((a) => a.slug === body.app_slug);
    if (!target) throw HttpError.badRequest("Failed to get workspace app.", `No app found with slug "${body.app_slug}"`);
    if ([...body.message].length > APP_STATUS_MESSAGE_MAX) {
      throw HttpError.badRequest("Message is too long.", `Message must be less than ${APP_STATUS_MESSAGE_MAX} characters.`, [
        { field: "message", detail: `Message must be less than ${APP_STATUS_MESSAGE_MAX} characters.` },
      ]);
    }
    const state = AppStatusState.safeParse(body.state);
    if (!state.success) {
      throw HttpError.badRequest("Invalid state provided.", `invalid state: "${body.state}"`, [{ field: "state", detail: "State must be one of: complete, failure, working, idle." }]);
    }
    await deps.store.db.query("INSERT INTO workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
      randomUUID(),
      agent.workspace_id,
      agent.id,
      target.id,
      state.data,
      body.message,
      body.uri,
    ]);
    deps.log({ level: "info", msg: "app status", agent: agent.name, app: target.slug, state: state.data });
    return c.json(null);
  });

  // The agent's health checks (coderd: PostAppHealths). Only apps of this agent that have a health check.
  app.post("/api/v2/workspaceagents/me/app-health", async (c) => {
    const agent = c.get("agent");
    const body = await readJson(c, PostAppHealthRequest);
    const apps = json<StoredApp[]>(agent.apps);
    for (const [id, health] of Object.entries(body.healths)) {
      const target = apps.find((a) => a.id === id);
      if (!target) throw HttpError.badRequest("Error setting health", `App "${id}" is not an app of this agent.`);
      if (!target.healthcheck) throw HttpError.badRequest("Error setting health", `App "${target.slug}" has no health check.`);
      if (health !== "healthy" && health !== "unhealthy" && health !== "initializing") throw HttpError.badRequest("Error setting health", `Health "${health}" is not a health a check reports.`);
    }
    // One writer per agent (its own agent process): read-modify-write of its apps is safe.
    const updated = apps.map((a) => (body.healths[a.id] ? { ...a, health: body.healths[a.id] } : a));
    await deps.store.db.query("UPDATE workspace_agents SET apps = $2 WHERE id = $1", [agent.id, JSON.stringify(updated)]);
    return c.body(null, 204);
  });
}
