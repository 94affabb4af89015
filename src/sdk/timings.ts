import { z } from "zod";

export const ScriptStage = z.enum(["start", "stop", "cron"]);
export type ScriptStage = z.infer<typeof ScriptStage>;
export const ScriptStatus = z.enum(["ok", "exit_failure", "timed_out", "pipes_left_open"]);
export type ScriptStatus = z.infer<typeof ScriptStatus>;

/** One script run, as the agent reports it (`POST /api/v2/workspaceagents/me/script-timings`; coderd: the ScriptCompleted RPC). */
export const ScriptTiming = z.object({
  script_id: z.string().uuid(),
  start: z.string().datetime({ offset: true }),
  end: z.string().datetime({ offset: true }),
  exit_code: z.number().int(),
  stage: ScriptStage,
  status: ScriptStatus,
});
export type ScriptTiming = z.infer<typeof ScriptTiming>;

/** codersdk.ProvisionerTiming */
export const ProvisionerTiming = z.object({
  job_id: z.string(),
  started_at: z.string(),
  ended_at: z.string(),
  stage: z.string(),
  source: z.string(),
  action: z.string(),
  resource: z.string(),
});

/** codersdk.AgentScriptTiming */
export const AgentScriptTiming = z.object({
  started_at: z.string(),
  ended_at: z.string(),
  exit_code: z.number(),
  stage: ScriptStage,
  status: ScriptStatus,
  display_name: z.string(),
  workspace_agent_id: z.string(),
  workspace_agent_name: z.string(),
});
export type AgentScriptTiming = z.infer<typeof AgentScriptTiming>;

/** codersdk.AgentConnectionTiming */
export const AgentConnectionTiming = z.object({
  started_at: z.string(),
  ended_at: z.string(),
  stage: z.literal("connect"),
  workspace_agent_id: z.string(),
  workspace_agent_name: z.string(),
});

/** `GET /api/v2/workspacebuilds/{id}/timings` (codersdk.WorkspaceBuildTimings). */
export const WorkspaceBuildTimings = z.object({
  provisioner_timings: z.array(ProvisionerTiming),
  agent_script_timings: z.array(AgentScriptTiming),
  agent_connection_timings: z.array(AgentConnectionTiming),
});
export type WorkspaceBuildTimings = z.infer<typeof WorkspaceBuildTimings>;

/** Provisioner timings written through the admin API. */
export const AppendJobTimingsRequest = z.object({
  timings: z.array(ProvisionerTiming.omit({ job_id: true })).min(1),
});
