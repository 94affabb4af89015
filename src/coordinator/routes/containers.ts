import { SESSION_TOKEN_HEADER } from "../../sdk/auth.js";
import { AgentApiAddress, ListContainersResponse } from "../../sdk/containers.js";
import { CoderResponse } from "../../sdk/response.js";
import { agentWorkspace, authorize } from "../actor.js";
import { readJson } from "../app.js";
import { HttpError } from "../http-error.js";
import type { App, AppContext, RouteDeps } from "./context.js";
import { uuidParam } from "../params.js";

/** Parses repeated `label=k=v` query parameters (SPEC §5): anything but exactly `key=value` → 400. */
export function parseLabels(values: string[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const v of values) {
    const kv = v.split("=");
    if (kv.length !== 2) throw HttpError.badRequest("Invalid label format", "Labels must be in the format key=value");
    labels.set(kv[0], kv[1]);
  }
  return labels;
}

/**
 * Containers and dev containers (SPEC §5). coderd reaches the agent's own HTTP API over tailnet;
 * here the agent reports where it serves that API and the coordinator calls it with the agent's
 * token. The dev-container state lives in the agent, as in Coder.
 */
export function registerContainerRoutes(app: App, deps: RouteDeps): void {
  const { store } = deps;

  app.post("/api/v2/workspaceagents/me/api-address", async (c) => {
    const body = await readJson(c, AgentApiAddress);
    await store.db.query("UPDATE workspace_agents SET api_url = $2 WHERE id = $1", [c.get("agent").id, body.url]);
    return c.body(null, 204);
  });

  /** The agent's API URL and token, once it is connected (coderd: 400 otherwise). */
  const connectedAgent = async (c: AppContext, action: "read" | "ssh") => {
    const agentId = uuidParam(c, "id");
    authorize(c.get("actor"), await agentWorkspace(store, agentId), action);
    const agent = await store.agent(agentId);
    const rows = await store.db.query<{ api_url: string | null; auth_token: string }>("SELECT api_url, auth_token FROM workspace_agents WHERE id = $1", [agentId]);
    if (agent.status !== "connected" || !rows[0].api_url) {
      throw HttpError.badRequest(`Agent state is "${agent.status}", it must be in the "connected" state.`, rows[0].api_url ? undefined : "The agent has not reported its API address yet.");
    }
    return { url: rows[0].api_url, token: rows[0].auth_token };
  };

  const callAgent = async (target: { url: string; token: string }, method: string, path: string): Promise<Response> => {
    try {
      return await fetch(new URL(path, target.url), { method, headers: { [SESSION_TOKEN_HEADER]: target.token }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new HttpError(500, { message: "Internal error reaching the workspace agent.", detail: (err as Error).message });
    }
  };
  const relay = async (c: AppContext, res: Response) => {
    const body = await res.json().catch(() => ({ message: `The agent answered ${res.status}.` }));
    if (res.ok) return c.json(body, res.status as 200);
    const parsed = CoderResponse.safeParse(body);
    const status = ([400, 404, 409] as const).find((s) => s === res.status) ?? 500;
    throw new HttpError(status, parsed.success ? parsed.data : { message: `The agent answered ${res.status}.` });
  };

  app.get("/api/v2/workspaceagents/:id/containers", deps.actor, async (c) => {
    const labels = parseLabels(c.req.queries("label") ?? []);
    const target = await connectedAgent(c, "read");
    const res = await callAgent(target, "GET", "/api/v0/containers");
    if (!res.ok) return relay(c, res);
    const list = ListContainersResponse.parse(await res.json());
    const matches = (l: Record<string, string>) => [...labels].every(([k, v]) => l[k] === v);
    return c.json({ ...list, containers: list.containers.filter((x) => matches(x.labels)) });
  });

  app.post("/api/v2/workspaceagents/:id/containers/devcontainers/:devcontainer/recreate", deps.actor, async (c) => {
    const target = await connectedAgent(c, "ssh");
    return relay(c, await callAgent(target, "POST", `/api/v0/containers/devcontainers/${encodeURIComponent(c.req.param("devcontainer") ?? "")}/recreate`));
  });
}
