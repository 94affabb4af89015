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
import { requestJson } from "./client-errors.js";

/** Typed client of the coordinator's admin API. Errors are the typed client errors of client-errors.ts. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private call<S extends z.ZodType>(method: string, path: string, schema: S, json?: unknown): Promise<z.infer<S>> {
    return requestJson(new URL(path, this.baseUrl).toString(), { method, headers: { [SESSION_TOKEN_HEADER]: this.token }, json }, schema);
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
}
