import { z } from "zod";

export const AppStatusState = z.enum(["working", "idle", "complete", "failure"]);
export type AppStatusState = z.infer<typeof AppStatusState>;

/** codersdk.WorkspaceAppStatus */
export const WorkspaceAppStatus = z.object({
  id: z.string(),
  created_at: z.string(),
  workspace_id: z.string(),
  agent_id: z.string(),
  app_id: z.string(),
  state: AppStatusState,
  message: z.string(),
  uri: z.string(),
});
export type WorkspaceAppStatus = z.infer<typeof WorkspaceAppStatus>;

export const AppHealth = z.enum(["disabled", "initializing", "healthy", "unhealthy"]);
export type AppHealth = z.infer<typeof AppHealth>;

/** `POST /api/v2/workspaceagents/me/app-health` (agentsdk.PostAppHealthsRequest): health by app ID. */
export const PostAppHealthRequest = z.object({ healths: z.record(z.string(), AppHealth) });

/** codersdk.WorkspaceApp (the fields this coordinator knows), `statuses` newest first. */
export const WorkspaceApp = z.object({
  id: z.string(),
  slug: z.string(),
  display_name: z.string(),
  url: z.string().optional(),
  command: z.string().optional(),
  icon: z.string(),
  subdomain: z.boolean(),
  sharing_level: z.enum(["owner", "authenticated", "public"]),
  external: z.boolean(),
  open_in: z.enum(["slim-window", "tab"]),
  hidden: z.boolean(),
  group: z.string().optional(),
  healthcheck: z.object({ url: z.string(), interval: z.number(), threshold: z.number() }).optional(),
  health: AppHealth,
  statuses: z.array(WorkspaceAppStatus),
});
export type WorkspaceApp = z.infer<typeof WorkspaceApp>;

/**
 * `PATCH /api/v2/workspaceagents/me/app-status` (agentsdk.PatchAppStatus). Loose on purpose: the
 * handler answers each invalid field with coderd's own message (SPEC §6).
 */
export const PatchAppStatusRequest = z.object({
  app_slug: z.string(),
  state: z.string(),
  message: z.string().default(""),
  uri: z.string().default(""),
});
export type PatchAppStatusRequest = z.input<typeof PatchAppStatusRequest>;

/** coderd's limit on an app status message. */
export const APP_STATUS_MESSAGE_MAX = 160;
