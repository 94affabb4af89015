import { z } from "zod";
import {
  ClaimResponse,
  CompleteJobResponse,
  CreateBuildResponse,
  CreateWorkspaceResponse,
  Workspace,
  WorkspaceAgent,
  ClaimRequest,
  CompleteJobRequest,
  CreateBuildRequest,
  CreateWorkspaceRequest,
} from "./admin.js";
import { SESSION_TOKEN_HEADER } from "./auth.js";
import { clientErrorFromResponse, NetworkError, requestJson } from "./client-errors.js";
import { ListContainersResponse } from "./containers.js";
import { AppendJobLogsRequest, ProvisionerJobLog, WorkspaceAgentLog } from "./logs.js";
import { AppendJobTimingsRequest, WorkspaceBuildTimings } from "./timings.js";
import { GenerateApiKeyResponse } from "./workspace-updates.js";
import type { WorkspaceApp } from "./apps.js";

/** Typed client of the coordinator's admin API. Errors are the typed client errors of client-errors.ts. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private call<S extends z.ZodType>(method: string, path: string, schema: S, json?: unknown): Promise<z.infer<S>> {
    return requestJson(new URL(path, this.baseUrl).toString(), { method, headers: { [SESSION_TOKEN_HEADER]: this.token }, json }, schema);
  }

  /** A GET whose body the caller reads (text, or a stream such as `?follow`). */
  async open(path: string): Promise<Response> {
    const url = new URL(path, this.baseUrl).toString();
    let res: Response;
    try {
      res = await fetch(url, { headers: { [SESSION_TOKEN_HEADER]: this.token } });
    } catch (err) {
      throw new NetworkError(url, err);
    }
    if (!res.ok) throw await clientErrorFromResponse(res);
    return res;
  }

  createWorkspace(body: z.input<typeof CreateWorkspaceRequest>) {
    return this.call("POST", "/api/v2/provisioner/workspaces", CreateWorkspaceResponse, body);
  }
  createBuild(workspaceId: string, body: z.input<typeof CreateBuildRequest>) {
    return this.call("POST", `/api/v2/provisioner/workspaces/${workspaceId}/builds`, CreateBuildResponse, body);
  }
  completeJob(jobId: string, body: z.input<typeof CompleteJobRequest>) {
    return this.call("POST", `/api/v2/provisioner/jobs/${jobId}/complete`, CompleteJobResponse, body);
  }
  claim(workspaceId: string, body: z.input<typeof ClaimRequest>) {
    return this.call("POST", `/api/v2/provisioner/workspaces/${workspaceId}/claim`, ClaimResponse, body);
  }
  workspace(id: string) {
    return this.call("GET", `/api/v2/workspaces/${id}`, Workspace);
  }
  agent(id: string) {
    return this.call("GET", `/api/v2/workspaceagents/${id}`, WorkspaceAgent.extend({ lifecycle_changed_at: z.string().nullable() }));
  }

  /** An agent's logs (SPEC §4), oldest first; `after` a log ID. */
  agentLogs(agentId: string, after = 0) {
    return this.call("GET", `/api/v2/workspaceagents/${agentId}/logs?after=${after}`, z.array(WorkspaceAgentLog));
  }
  /** An agent's logs in the `format=text` shape: `<time> [<level>] [agent.<name>|<source>] <output>` lines. */
  async agentLogsText(agentId: string, after = 0): Promise<string> {
    return (await this.open(`/api/v2/workspaceagents/${agentId}/logs?format=text&after=${after}`)).text();
  }
  buildLogs(buildId: string, after = 0) {
    return this.call("GET", `/api/v2/workspacebuilds/${buildId}/logs?after=${after}`, z.array(ProvisionerJobLog));
  }
  /** A build's provisioner job logs in the `format=text` shape: `<time> [<level>] [<source>|<stage>] <output>`. */
  async buildLogsText(buildId: string, after = 0): Promise<string> {
    return (await this.open(`/api/v2/workspacebuilds/${buildId}/logs?format=text&after=${after}`)).text();
  }
  /** Writes provisioner job logs (e2e: its render and boot stages). */
  appendJobLogs(jobId: string, logs: z.input<typeof AppendJobLogsRequest>["logs"]) {
    return this.call("POST", `/api/v2/provisioner/jobs/${jobId}/logs`, z.unknown(), { logs });
  }
  appendJobTimings(jobId: string, timings: z.input<typeof AppendJobTimingsRequest>["timings"]) {
    return this.call("POST", `/api/v2/provisioner/jobs/${jobId}/timings`, z.unknown(), { timings });
  }
  /** SPEC §7: provisioner timings, the earliest run of each script per agent, agent connection timings. */
  buildTimings(buildId: string) {
    return this.call("GET", `/api/v2/workspacebuilds/${buildId}/timings`, WorkspaceBuildTimings);
  }
  /** Every app of the workspace's latest build with its statuses (newest first), per agent. */
  async appStatuses(workspaceId: string): Promise<{ agent_id: string; agent_name: string; app: Pick<WorkspaceApp, "id" | "slug" | "display_name" | "statuses"> }[]> {
    const ws = await this.workspace(workspaceId);
    return ws.latest_build.resources.flatMap((r) =>
      r.agents.flatMap((a) => a.apps.map((app) => ({ agent_id: a.id, agent_name: a.name, app: { id: app.id, slug: app.slug, display_name: app.display_name, statuses: app.statuses } }))),
    );
  }
  containers(agentId: string, labels: Record<string, string> = {}) {
    const query = Object.entries(labels).map(([k, v]) => `label=${encodeURIComponent(`${k}=${v}`)}`).join("&");
    return this.call("GET", `/api/v2/workspaceagents/${agentId}/containers${query ? `?${query}` : ""}`, ListContainersResponse);
  }
  recreateDevcontainer(agentId: string, devcontainerId: string) {
    return this.call("POST", `/api/v2/workspaceagents/${agentId}/containers/devcontainers/${devcontainerId}/recreate`, z.object({ message: z.string(), detail: z.string().optional() }));
  }
  /** A session token for a user (created if unknown): read access to their own workspaces. */
  async userToken(username: string): Promise<string> {
    return (await this.call("POST", `/api/v2/users/${encodeURIComponent(username)}/keys`, GenerateApiKeyResponse)).key;
  }
}
