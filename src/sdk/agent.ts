import { z } from "zod";

/** codersdk.WorkspaceAgentLifecycle */
export const LifecycleState = z.enum(["created", "starting", "start_timeout", "start_error", "ready", "shutting_down", "shutdown_timeout", "shutdown_error", "off"]);
export type LifecycleState = z.infer<typeof LifecycleState>;

export const ReportLifecycleRequest = z.object({
  state: LifecycleState,
  /** RFC 3339 with a zone, as coderd agents send it (Go's time.Time). */
  changed_at: z.iso.datetime({ offset: true }),
});
export type ReportLifecycleRequest = z.infer<typeof ReportLifecycleRequest>;

export const ManifestApp = z.object({
  id: z.string(),
  slug: z.string(),
  display_name: z.string(),
  url: z.string().optional(),
  command: z.string().optional(),
  /** `interval` seconds between checks, `threshold` failures in a row make it unhealthy. */
  healthcheck: z.object({ url: z.string(), interval: z.number(), threshold: z.number() }).optional(),
});
export type ManifestApp = z.infer<typeof ManifestApp>;

export const ManifestScript = z.object({
  id: z.string(),
  log_source_id: z.string(),
  display_name: z.string(),
  icon: z.string(),
  script: z.string(),
  run_on_start: z.boolean(),
  run_on_stop: z.boolean(),
  cron: z.string(),
  start_blocks_login: z.boolean(),
  /** 0: no timeout. */
  timeout_seconds: z.number(),
  log_path: z.string(),
});
export type ManifestScript = z.infer<typeof ManifestScript>;

/** A `coder_devcontainer` of this agent; `subagent` is the agent its `subagent_id` stands for, with the token the parent starts it with. */
export const ManifestDevcontainer = z.object({
  id: z.string(),
  name: z.string(),
  workspace_folder: z.string(),
  config_path: z.string(),
  subagent: z.object({ id: z.string(), name: z.string(), auth_token: z.string() }).optional(),
});
export type ManifestDevcontainer = z.infer<typeof ManifestDevcontainer>;

/** Subset of coderd's agentsdk.Manifest the agent needs. */
export const Manifest = z.object({
  agent_id: z.string(),
  agent_name: z.string(),
  owner_name: z.string(),
  workspace_id: z.string(),
  workspace_name: z.string(),
  environment_variables: z.record(z.string(), z.string()),
  apps: z.array(ManifestApp),
  scripts: z.array(ManifestScript),
  devcontainers: z.array(ManifestDevcontainer),
});
export type Manifest = z.infer<typeof Manifest>;
