import { z } from "zod";

/** codersdk.WorkspaceAgentContainerPort: one live host binding. */
export const ContainerPort = z.object({
  port: z.number(),
  network: z.string(),
  host_ip: z.string().optional(),
  host_port: z.number().optional(),
});
export type ContainerPort = z.infer<typeof ContainerPort>;

/** codersdk.WorkspaceAgentContainer */
export const WorkspaceAgentContainer = z.object({
  created_at: z.string(),
  id: z.string(),
  name: z.string(),
  image: z.string(),
  labels: z.record(z.string(), z.string()),
  running: z.boolean(),
  ports: z.array(ContainerPort),
  status: z.string(),
  volumes: z.record(z.string(), z.string()),
});
export type WorkspaceAgentContainer = z.infer<typeof WorkspaceAgentContainer>;

export const DevcontainerStatus = z.enum(["running", "stopped", "starting", "stopping", "deleting", "error"]);
export type DevcontainerStatus = z.infer<typeof DevcontainerStatus>;
/** Statuses during which a recreate is refused (409). */
export const TRANSITIONING: ReadonlySet<DevcontainerStatus> = new Set(["starting", "stopping", "deleting"]);

/** codersdk.WorkspaceAgentDevcontainer */
export const WorkspaceAgentDevcontainer = z.object({
  id: z.string(),
  name: z.string(),
  workspace_folder: z.string(),
  config_path: z.string().optional(),
  status: DevcontainerStatus,
  dirty: z.boolean(),
  container: WorkspaceAgentContainer.optional(),
  agent: z.object({ id: z.string(), name: z.string(), directory: z.string() }).optional(),
  error: z.string().optional(),
});
export type WorkspaceAgentDevcontainer = z.infer<typeof WorkspaceAgentDevcontainer>;

/** codersdk.WorkspaceAgentListContainersResponse */
export const ListContainersResponse = z.object({
  devcontainers: z.array(WorkspaceAgentDevcontainer),
  containers: z.array(WorkspaceAgentContainer),
  warnings: z.array(z.string()).optional(),
});
export type ListContainersResponse = z.infer<typeof ListContainersResponse>;

/** Dev-container labels the devcontainer CLI puts on the containers it creates. */
export const DEVCONTAINER_LOCAL_FOLDER_LABEL = "devcontainer.local_folder";
export const DEVCONTAINER_CONFIG_FILE_LABEL = "devcontainer.config_file";

/** Where the agent serves its own API (`POST /api/v2/workspaceagents/me/api-address`; coderd reaches it over tailnet). */
export const AgentApiAddress = z.object({ url: z.string().url() });
