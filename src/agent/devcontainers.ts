import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import type { ManifestDevcontainer } from "../sdk/agent.js";
import { DEVCONTAINER_CONFIG_FILE_LABEL, DEVCONTAINER_LOCAL_FOLDER_LABEL, TRANSITIONING, type DevcontainerStatus, type WorkspaceAgentContainer, type WorkspaceAgentDevcontainer } from "../sdk/containers.js";
import { CommandError, listContainers, run } from "./containers.js";

/** Where the agent binary is copied inside a dev container (as Coder's agent does). */
const CONTAINER_AGENT_PATH = "/.coder-agent/coder";

interface Known {
  spec: ManifestDevcontainer;
  status: DevcontainerStatus;
  container?: WorkspaceAgentContainer;
  directory: string;
  error?: string;
  subagent?: ChildProcess;
}

export interface DevcontainerOptions {
  /** The coordinator URL the sub-agents connect to. */
  url: string;
  /** The launcher of this agent, copied into containers as the sub-agent binary. */
  agentBinary: string;
  logDir: string;
  env: NodeJS.ProcessEnv;
  log: (event: Record<string, unknown>) => void;
}

/**
 * The agent's dev containers (SPEC §5), keyed by devcontainer ID: `devcontainer up` at start and on
 * recreate (`--remove-existing-container`), status `starting` → `running` | `error`, and each one's
 * sub-agent started inside the container (`docker cp` of the agent, `docker exec … agent`).
 */
export class Devcontainers {
  private readonly known: Known[];

  constructor(
    specs: ManifestDevcontainer[],
    private readonly opts: DevcontainerOptions,
  ) {
    this.known = specs.map((spec) => ({ spec, status: "stopped", directory: spec.workspace_folder }));
  }

  /** Brings every dev container up (in the background). */
  startAll(): void {
    for (const k of this.known) this.begin(k, false);
  }

  /** 404 unknown, 409 while transitioning, else 202 and the recreation runs in the background. */
  recreate(id: string): { status: 202 | 404 | 409; body: { message: string; detail: string } } {
    const k = this.known.find((x) => x.spec.id === id);
    if (!k) return { status: 404, body: { message: "Devcontainer not found.", detail: `Could not find devcontainer with ID: "${id}"` } };
    if (TRANSITIONING.has(k.status)) {
      return { status: 409, body: { message: "Unable to recreate transitioning devcontainer", detail: `Devcontainer "${k.spec.name}" is currently ${k.status} and cannot be restarted.` } };
    }
    this.begin(k, true);
    return { status: 202, body: { message: "Devcontainer recreation initiated", detail: `Recreation process for devcontainer "${k.spec.name}" has started.` } };
  }

  private begin(k: Known, removeExisting: boolean): void {
    k.status = "starting";
    k.container = undefined;
    k.error = undefined;
    this.up(k, removeExisting).catch((err: Error) => {
      k.status = "error";
      k.error = err.message;
      this.opts.log({ level: "warn", msg: "dev container failed", devcontainer: k.spec.name, error: err.message });
    });
  }

  private async up(k: Known, removeExisting: boolean): Promise<void> {
    this.stopSubagent(k);
    const args = ["up", "--log-format", "json", "--workspace-folder", k.spec.workspace_folder];
    if (k.spec.config_path) args.push("--config", k.spec.config_path);
    if (removeExisting) args.push("--remove-existing-container");
    this.opts.log({ level: "info", msg: "dev container up", devcontainer: k.spec.name, args });
    let stdout: string;
    let failure: CommandError | undefined;
    try {
      stdout = await run("devcontainer", args, { env: this.opts.env, timeoutMs: 15 * 60_000 });
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      failure = err;
      stdout = err.stdout;
    }
    // The last JSON line is the outcome: {"outcome":"success","containerId":…,"remoteWorkspaceFolder":…}.
    const result = stdout
      .split("\n")
      .reverse()
      .map((l) => {
        try {
          return JSON.parse(l) as { outcome?: string; containerId?: string; remoteWorkspaceFolder?: string; message?: string; description?: string };
        } catch {
          return undefined;
        }
      })
      .find((v) => v?.outcome !== undefined);
    if (!result) throw failure ?? new Error("devcontainer up printed no outcome");
    if (result.outcome !== "success" || !result.containerId) throw new Error(`devcontainer up: ${result.message ?? result.outcome}${result.description ? `: ${result.description}` : ""}`);
    if (result.remoteWorkspaceFolder) k.directory = result.remoteWorkspaceFolder;
    const { containers } = await listContainers(this.opts.env);
    k.container = containers.find((c) => c.id === result.containerId);
    k.status = k.container?.running === false ? "stopped" : "running";
    this.opts.log({ level: "info", msg: "dev container running", devcontainer: k.spec.name, container: result.containerId });
    if (k.spec.subagent && k.status === "running") await this.startSubagent(k, result.containerId);
  }

  private async startSubagent(k: Known, containerId: string): Promise<void> {
    const sub = k.spec.subagent!;
    await run("docker", ["cp", this.opts.agentBinary, `${containerId}:${CONTAINER_AGENT_PATH}`], { env: this.opts.env });
    const out = openSync(join(this.opts.logDir, `subagent-${sub.name}.log`), "a");
    const child = spawn(
      "docker",
      ["exec", "-i", "-w", k.directory, "-e", `CODER_AGENT_URL=${this.opts.url}`, "-e", "CODER_AGENT_AUTH=token", "-e", `CODER_AGENT_TOKEN=${sub.auth_token}`, containerId, CONTAINER_AGENT_PATH, "agent", "--log-format", "json"],
      { env: this.opts.env, detached: true, stdio: ["ignore", out, out] },
    );
    k.subagent = child;
    child.on("exit", () => {
      if (k.subagent === child) k.subagent = undefined;
    });
    this.opts.log({ level: "info", msg: "sub-agent started", devcontainer: k.spec.name, agent: sub.name });
  }

  /** SIGTERM to `docker exec` (passed on to the sub-agent, which then reports `off`); its process group is killed if it lingers. */
  private stopSubagent(k: Known): void {
    const child = k.subagent;
    k.subagent = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const pid = child.pid;
    const kill = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    child.once("exit", () => clearTimeout(kill));
  }

  /** The dev containers as the containers API lists them, matched to live containers by their labels. */
  list(containers: WorkspaceAgentContainer[]): WorkspaceAgentDevcontainer[] {
    return this.known.map((k) => {
      const live =
        containers.find((c) => c.id === k.container?.id) ??
        containers.find((c) => c.labels[DEVCONTAINER_LOCAL_FOLDER_LABEL] === k.spec.workspace_folder && (!k.spec.config_path || c.labels[DEVCONTAINER_CONFIG_FILE_LABEL] === k.spec.config_path));
      const status = k.status === "running" || k.status === "stopped" ? (live ? (live.running ? "running" : "stopped") : k.status) : k.status;
      return {
        id: k.spec.id,
        name: k.spec.name,
        workspace_folder: k.spec.workspace_folder,
        ...(k.spec.config_path ? { config_path: k.spec.config_path } : {}),
        status,
        dirty: false,
        ...(live && k.status !== "starting" ? { container: live } : {}),
        ...(k.spec.subagent && status === "running" ? { agent: { id: k.spec.subagent.id, name: k.spec.subagent.name, directory: k.directory } } : {}),
        ...(k.error ? { error: k.error } : {}),
      };
    });
  }

  /** Stops the sub-agents (they report `off`); waits for them a little. */
  async close(): Promise<void> {
    const children = this.known.flatMap((k) => (k.subagent ? [k.subagent] : []));
    const exited = children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r()))));
    for (const k of this.known) this.stopSubagent(k);
    await Promise.all(exited);
  }
}
