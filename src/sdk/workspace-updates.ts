import { z } from "zod";

/** codersdk.WorkspaceStatus, derived from the latest build's transition and job status. */
export const WorkspaceStatus = z.enum(["pending", "starting", "running", "stopping", "stopped", "failed", "canceling", "canceled", "deleting", "deleted"]);
export type WorkspaceStatus = z.infer<typeof WorkspaceStatus>;

export const UpdateWorkspace = z.object({ id: z.string(), name: z.string(), status: WorkspaceStatus });
export type UpdateWorkspace = z.infer<typeof UpdateWorkspace>;
export const UpdateAgent = z.object({ id: z.string(), name: z.string(), workspace_id: z.string() });
export type UpdateAgent = z.infer<typeof UpdateAgent>;

/**
 * One message of the workspace-updates stream (SPEC §8; the fields of coderd's tailnet
 * WorkspaceUpdate). Sent as an SSE `data` event on `GET /api/v2/users/me/workspace-updates`.
 */
export const WorkspaceUpdate = z.object({
  upserted_workspaces: z.array(UpdateWorkspace),
  upserted_agents: z.array(UpdateAgent),
  deleted_workspaces: z.array(UpdateWorkspace),
  deleted_agents: z.array(UpdateAgent),
});
export type WorkspaceUpdate = z.infer<typeof WorkspaceUpdate>;

/** `POST /api/v2/users/{user}/keys` → 201 (codersdk.GenerateAPIKeyResponse). */
export const GenerateApiKeyResponse = z.object({ key: z.string() });
