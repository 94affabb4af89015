import { z } from "zod";
import { LifecycleState } from "./agent.js";
import { WorkspaceApp, WorkspaceAppStatus } from "./apps.js";
import { cronError } from "./cron.js";
import { WorkspaceAgentLogSource } from "./logs.js";
import { AgentAuthType } from "./auth.js";

/** Admin API of the coordinator (ours, not coderd's): create workspaces, builds, complete jobs, claim prebuilds. */

const NAME = /^[a-z0-9](-?[a-z0-9])*$/i;
/** Limits as coderd's (names) or well above any real value (instance IDs, types); the body limit bounds the rest. */
const name = (max: number) => z.string().max(max, `at most ${max} characters`).regex(NAME, "must match ^[a-z0-9](-?[a-z0-9])*$");
const text = (max: number) => z.string().max(max, `at most ${max} characters`);

const SLUG = /^[a-z0-9](-?[a-z0-9])*$/;

/** A `coder_app`, with the coder provider's attribute names. */
export const AdminAppSpec = z
  .object({
    slug: z.string().max(64, "at most 64 characters").regex(SLUG, "must match ^[a-z0-9](-?[a-z0-9])*$"),
    display_name: text(255).optional(),
    url: text(4096).optional(),
    command: z.string().optional(),
    icon: text(4096).default(""),
    subdomain: z.boolean().default(false),
    share: z.enum(["owner", "authenticated", "public"]).default("owner"),
    external: z.boolean().default(false),
    open_in: z.enum(["slim-window", "tab"]).default("slim-window"),
    hidden: z.boolean().default(false),
    group: text(255).optional(),
    order: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).optional(),
    healthcheck: z.object({ url: text(4096).min(1), interval: z.number().int().min(1).max(2 ** 31 - 1), threshold: z.number().int().min(1).max(2 ** 31 - 1) }).optional(),
  })
  .refine((a) => !(a.url && a.command), { message: "command conflicts with url", path: ["command"] });

/** A `coder_script`, with the coder provider's attribute names (`timeout` in seconds, 0 = none). */
export const AdminScriptSpec = z
  .object({
    display_name: text(255).min(1),
    script: z.string(),
    icon: text(4096).default(""),
    run_on_start: z.boolean().default(false),
    run_on_stop: z.boolean().default(false),
    cron: text(255).default(""),
    start_blocks_login: z.boolean().default(false),
    timeout: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    log_path: text(4096).default(""),
  })
  .refine((s) => s.run_on_start || s.run_on_stop || s.cron !== "", { message: "at least one of run_on_start, run_on_stop or cron must be set", path: ["run_on_start"] })
  .refine((s) => !s.start_blocks_login || s.run_on_start, { message: "start_blocks_login requires run_on_start", path: ["start_blocks_login"] })
  .refine((s) => s.cron === "" || cronError(s.cron) === undefined, { message: "invalid cron expression", path: ["cron"] });
export type AdminScriptSpec = z.infer<typeof AdminScriptSpec>;

/** A `coder_devcontainer`; `subagent` names the agent (in the same build, `parent` = this agent) its `subagent_id` stands for. */
export const AdminDevcontainerSpec = z.object({
  name: name(64),
  workspace_folder: text(4096).min(1),
  config_path: text(4096).default(""),
  subagent: text(64).optional(),
});
export type AdminDevcontainerSpec = z.infer<typeof AdminDevcontainerSpec>;

export const AdminAgentSpec = z.object({
  name: name(64),
  auth: AgentAuthType.default("token"),
  os: z.enum(["linux", "darwin", "windows"]).default("linux"),
  arch: z.enum(["amd64", "armv7", "arm64"]).default("amd64"),
  /** Name of the parent agent in the same build (a dev-container sub-agent). */
  parent: text(64).optional(),
  /** `coder_agent.env` (and `coder_env` resources): the environment of the agent's scripts. */
  env: z.record(z.string(), z.string()).default({}),
  /** `coder_agent.startup_script`/`shutdown_script`: Coder turns them into scripts ("Startup Script", "Shutdown Script"). */
  startup_script: z.string().optional(),
  startup_script_behavior: z.enum(["blocking", "non-blocking"]).default("non-blocking"),
  shutdown_script: z.string().optional(),
  apps: z.array(AdminAppSpec).default([]),
  scripts: z.array(AdminScriptSpec).default([]),
  devcontainers: z.array(AdminDevcontainerSpec).default([]),
});
export type AdminAgentSpec = z.infer<typeof AdminAgentSpec>;

export const AdminResourceSpec = z.object({
  type: text(255).min(1),
  name: text(255).min(1),
  instance_id: text(255).min(1).optional(),
  agents: z.array(AdminAgentSpec).default([]),
});
export type AdminResourceSpec = z.infer<typeof AdminResourceSpec>;

export const JobOutcome = z.enum(["succeeded", "running"]);

export const CreateWorkspaceRequest = z.object({
  name: name(32),
  owner: text(64).min(1).optional(),
  prebuild: z.boolean().default(false),
  job: JobOutcome.default("succeeded"),
  resources: z.array(AdminResourceSpec).default([]),
});
export type CreateWorkspaceRequest = z.infer<typeof CreateWorkspaceRequest>;

export const CreateBuildRequest = z.object({
  transition: z.enum(["start", "stop", "delete"]),
  initiator: text(64).min(1).optional(),
  resources: z.array(AdminResourceSpec).optional(),
  job: JobOutcome.default("succeeded"),
  /**
   * Agents (by name) whose token carries over from the workspace's latest earlier build that had
   * them: a coder_agent that Terraform did not re-create keeps its token (one without
   * `count = start_count`). The others get new tokens, as re-created agents do.
   */
  keep_tokens: z.array(name(64)).max(1000).default([]),
});
export type CreateBuildRequest = z.infer<typeof CreateBuildRequest>;

export const CompleteJobRequest = z.object({
  status: z.enum(["succeeded", "failed"]),
  error: text(65536).optional(),
});
export type CompleteJobRequest = z.infer<typeof CompleteJobRequest>;

export const ClaimRequest = z.object({
  owner: text(64).min(1),
  job: JobOutcome.default("succeeded"),
});
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const JobStatus = z.enum(["pending", "running", "succeeded", "failed", "canceled"]);

export const ProvisionerJob = z.object({
  id: z.string(),
  type: z.string(),
  status: JobStatus,
  error: z.string().nullable(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
});

export const WorkspaceAgent = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["connecting", "connected", "disconnected"]),
  lifecycle_state: LifecycleState,
  auth: AgentAuthType,
  auth_instance_id: z.string().nullable(),
  parent_id: z.string().nullable(),
  os: z.string(),
  arch: z.string(),
  first_connected_at: z.string().nullable(),
  last_connected_at: z.string().nullable(),
  workspace_id: z.string(),
  resource_id: z.string(),
  started_at: z.string().nullable(),
  ready_at: z.string().nullable(),
  /** "blocking" when a script blocks login (clients wait for `ready`), as coderd derives it. */
  startup_script_behavior: z.enum(["blocking", "non-blocking"]),
  apps: z.array(WorkspaceApp),
  scripts: z.array(z.object({ id: z.string(), log_source_id: z.string(), display_name: z.string(), icon: z.string(), script: z.string(), cron: z.string(), run_on_start: z.boolean(), run_on_stop: z.boolean(), start_blocks_login: z.boolean(), timeout: z.number(), log_path: z.string() })),
  log_sources: z.array(WorkspaceAgentLogSource),
  logs_length: z.number(),
  logs_overflowed: z.boolean(),
});
export type WorkspaceAgent = z.infer<typeof WorkspaceAgent>;

export const WorkspaceResource = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string(),
  instance_id: z.string().nullable(),
  agents: z.array(WorkspaceAgent),
});

export const WorkspaceBuild = z.object({
  id: z.string(),
  workspace_id: z.string(),
  build_number: z.number(),
  transition: z.enum(["start", "stop", "delete"]),
  initiator_id: z.string(),
  job_id: z.string(),
  job: ProvisionerJob,
  resources: z.array(WorkspaceResource),
});
export type WorkspaceBuild = z.infer<typeof WorkspaceBuild>;

export const Workspace = z.object({
  id: z.string(),
  name: z.string(),
  owner_id: z.string(),
  owner_name: z.string(),
  latest_app_status: WorkspaceAppStatus.nullable(),
  latest_build: WorkspaceBuild,
});
export type Workspace = z.infer<typeof Workspace>;

/** Agents as created, with their tokens (only ever returned by the create calls). */
export const CreatedAgent = z.object({ id: z.string(), name: z.string(), auth: AgentAuthType, auth_token: z.string(), resource: z.string(), instance_id: z.string().nullable() });
export type CreatedAgent = z.infer<typeof CreatedAgent>;

export const CreateWorkspaceResponse = Workspace.extend({ agents: z.array(CreatedAgent) });
export type CreateWorkspaceResponse = z.infer<typeof CreateWorkspaceResponse>;

export const CreateBuildResponse = z.object({ workspace: Workspace, build: WorkspaceBuild, agents: z.array(CreatedAgent) });
export type CreateBuildResponse = z.infer<typeof CreateBuildResponse>;

export const ClaimResponse = z.object({ workspace: Workspace, build: WorkspaceBuild });
export type ClaimResponse = z.infer<typeof ClaimResponse>;

export const CompleteJobResponse = z.object({ job: ProvisionerJob });
