import { z } from "zod";

export const LifecycleState = z.enum(["created", "starting", "ready", "start_error", "shutting_down", "off"]);
export type LifecycleState = z.infer<typeof LifecycleState>;

export const ReportLifecycleRequest = z.object({
  state: LifecycleState,
  changed_at: z.string(),
});
export type ReportLifecycleRequest = z.infer<typeof ReportLifecycleRequest>;

export const ManifestApp = z.object({
  id: z.string(),
  slug: z.string(),
  display_name: z.string(),
  url: z.string().optional(),
  command: z.string().optional(),
});
export type ManifestApp = z.infer<typeof ManifestApp>;

export const ManifestScript = z.object({
  id: z.string(),
  log_source_id: z.string(),
  display_name: z.string(),
  script: z.string(),
  run_on_start: z.boolean(),
  run_on_stop: z.boolean(),
  cron: z.string(),
  start_blocks_login: z.boolean(),
  timeout_seconds: z.number(),
});
export type ManifestScript = z.infer<typeof ManifestScript>;

/** Subset of coderd's agentsdk.Manifest the agent needs. */
export const Manifest = z.object({
  agent_id: z.string(),
  agent_name: z.string(),
  owner_name: z.string(),
  workspace_id: z.string(),
  workspace_name: z.string(),
  apps: z.array(ManifestApp),
  scripts: z.array(ManifestScript),
});
export type Manifest = z.infer<typeof Manifest>;
