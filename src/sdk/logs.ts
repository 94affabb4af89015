import { z } from "zod";

/** Log levels of agent and provisioner job logs (SPEC §4). */
export const LogLevel = z.enum(["trace", "debug", "info", "warn", "error"]);
export type LogLevel = z.infer<typeof LogLevel>;

/** Logs sent without a source go to this one, as in coderd (`agentsdk.ExternalLogSourceID`). */
export const DEFAULT_LOG_SOURCE = { id: "3b579bf4-1ed8-4b99-87a8-e9a1e3410410", display_name: "External", icon: "/emojis/1f310.png" } as const;

/** coderd's cap on the total output of one agent's logs. */
export const AGENT_LOGS_LIMIT_BYTES = 1 << 20;

/** codersdk.WorkspaceAgentLog */
export const WorkspaceAgentLog = z.object({
  id: z.number(),
  created_at: z.string(),
  output: z.string(),
  level: LogLevel,
  source_id: z.string(),
});
export type WorkspaceAgentLog = z.infer<typeof WorkspaceAgentLog>;

/** codersdk.WorkspaceAgentLogSource */
export const WorkspaceAgentLogSource = z.object({
  workspace_agent_id: z.string(),
  id: z.string(),
  created_at: z.string(),
  display_name: z.string(),
  icon: z.string(),
});
export type WorkspaceAgentLogSource = z.infer<typeof WorkspaceAgentLogSource>;

/** codersdk.ProvisionerJobLog */
export const ProvisionerJobLog = z.object({
  id: z.number(),
  created_at: z.string(),
  log_source: z.enum(["provisioner", "provisioner_daemon"]),
  log_level: LogLevel,
  stage: z.string(),
  output: z.string(),
});
export type ProvisionerJobLog = z.infer<typeof ProvisionerJobLog>;

/** `PATCH /api/v2/workspaceagents/me/logs` (agentsdk.PatchLogs). */
export const PatchLogsRequest = z.object({
  log_source_id: z.string().uuid().optional(),
  logs: z.array(z.object({ created_at: z.string().datetime({ offset: true }), output: z.string(), level: LogLevel })),
});
export type PatchLogsRequest = z.infer<typeof PatchLogsRequest>;

/** `POST /api/v2/workspaceagents/me/log-source` (agentsdk.PostLogSourceRequest). */
export const PostLogSourceRequest = z.object({
  id: z.string().uuid(),
  display_name: z.string().min(1),
  icon: z.string().default(""),
});

/** Provisioner job logs written through the admin API (e2e: render and boot stages). */
export const AppendJobLogsRequest = z.object({
  logs: z
    .array(
      z.object({
        created_at: z.string().datetime({ offset: true }).optional(),
        source: z.enum(["provisioner", "provisioner_daemon"]).default("provisioner"),
        level: LogLevel.default("info"),
        stage: z.string().min(1),
        output: z.string(),
      }),
    )
    .min(1),
});

/** RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 prints a UTC time. */
export function rfc3339(at: string | Date): string {
  return (typeof at === "string" ? new Date(at) : at).toISOString().replace(/\.\d+Z$/, "Z");
}

/** `<RFC3339 UTC> [<level>] [<source>|<stage>] <output>` (SPEC §4). */
export function provisionerLogLine(log: ProvisionerJobLog): string {
  return `${rfc3339(log.created_at)} [${log.log_level}] [${log.log_source}|${log.stage}] ${log.output}`;
}

/** `<RFC3339 UTC> [<level>] [agent.<agentName>|<logSourceDisplayName>] <output>` (SPEC §4). */
export function agentLogLine(log: WorkspaceAgentLog, agentName: string, sourceName: string): string {
  return `${rfc3339(log.created_at)} [${log.level}] [agent.${agentName}|${sourceName}] ${log.output}`;
}
