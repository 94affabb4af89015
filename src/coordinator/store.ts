import { randomUUID } from "node:crypto";
import type { AdminAgentSpec, AdminAppSpec, AdminResourceSpec, AdminScriptSpec, CreatedAgent, Workspace, WorkspaceAgent, WorkspaceBuild } from "../sdk/admin.js";
import type { AppHealth, WorkspaceApp, WorkspaceAppStatus } from "../sdk/apps.js";
import type { WorkspaceAgentLogSource } from "../sdk/logs.js";
import type { WorkspaceStatus } from "../sdk/workspace-updates.js";
import type { z } from "zod";
import type { AgentAuthType } from "../sdk/auth.js";
import type { LifecycleState, Manifest } from "../sdk/agent.js";
import type { Database, Queryable } from "./db/index.js";
import { HttpError } from "./http-error.js";
import type { LogStore } from "./logs.js";

/** An agent as the agent routes see it, resolved from its token. */
export interface AgentIdentity {
  id: string;
  name: string;
  auth_type: AgentAuthType;
  auth_token: string;
  workspace_id: string;
  workspace_name: string;
  owner_id: string;
  owner_name: string;
  apps: unknown;
  scripts: unknown;
  environment: unknown;
  devcontainers: unknown;
  reinit_delivered_owner_id: string | null;
}

/** How apps, scripts and dev containers are kept on an agent row (jsonb). */
export type StoredApp = z.infer<typeof AdminAppSpec> & { id: string; display_name: string; health?: AppHealth };
export type StoredScript = AdminScriptSpec & { id: string; log_source_id: string };
export interface StoredDevcontainer {
  id: string;
  name: string;
  workspace_folder: string;
  config_path: string;
  subagent_id: string | null;
}
export interface StoredAgent {
  apps: unknown;
  scripts: unknown;
  environment: unknown;
  devcontainers: unknown;
}

/** jsonb columns: pg parses them, PGlite may hand back text. */
export const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;

/**
 * An agent's scripts as Coder's provisioner makes them: its `coder_script`s plus its
 * `startup_script` ("Startup Script", blocking login when `startup_script_behavior = "blocking"`)
 * and `shutdown_script` ("Shutdown Script").
 */
export function agentScripts(a: AdminAgentSpec): AdminScriptSpec[] {
  const scripts = [...a.scripts];
  const base = { cron: "", timeout: 0, run_on_start: false, run_on_stop: false, start_blocks_login: false };
  if (a.startup_script) {
    scripts.push({ ...base, display_name: "Startup Script", icon: "/emojis/25b6-fe0f.png", script: a.startup_script, run_on_start: true, start_blocks_login: a.startup_script_behavior === "blocking", log_path: "coder-startup-script.log" });
  }
  if (a.shutdown_script) {
    scripts.push({ ...base, display_name: "Shutdown Script", icon: "/emojis/25c0.png", script: a.shutdown_script, run_on_stop: true, log_path: "coder-shutdown-script.log" });
  }
  return scripts;
}

/** codersdk's workspace status from the latest build (coderd: convertWorkspace). */
export function workspaceStatus(transition: string, jobStatus: string): WorkspaceStatus {
  switch (jobStatus) {
    case "pending":
      return "pending";
    case "running":
      return transition === "start" ? "starting" : transition === "stop" ? "stopping" : "deleting";
    case "succeeded":
      return transition === "start" ? "running" : transition === "stop" ? "stopped" : "deleted";
    case "canceled":
      return "canceled";
    default:
      return "failed";
  }
}

export interface AuthCandidate {
  id: string;
  name: string;
  auth_token: string;
}

/**
 * Auth candidates are cached per instance ID: instance-identity auth is the hot path (a fleet
 * re-authenticating), builds are rare. Any new build clears the cache here and, through pubsub, on
 * every replica; the TTL bounds staleness should an invalidation be missed.
 */
const CANDIDATE_TTL_MS = 30_000;
const CANDIDATE_CACHE_MAX = 100_000;

/** A connection older than this without any request or open stream counts as disconnected. */
const CONNECTED_WINDOW_MS = 60_000;
/** Connection timestamps are written at most this often per agent (they are advisory). */
const CONNECTED_WRITE_INTERVAL_MS = 1_000;

/** Timestamps as RFC 3339 (pg gives Date objects, PGlite strings or Dates). */
export const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

export interface AgentExtras {
  sources: WorkspaceAgentLogSource[];
  statuses: WorkspaceAppStatus[];
}

export function appStatusJson(r: Record<string, unknown>): WorkspaceAppStatus {
  return {
    id: String(r.id),
    created_at: iso(r.created_at)!,
    workspace_id: String(r.workspace_id),
    agent_id: String(r.agent_id),
    app_id: String(r.app_id),
    state: r.state as WorkspaceAppStatus["state"],
    message: String(r.message),
    uri: String(r.uri),
  };
}

function appJson(app: StoredApp, statuses: WorkspaceAppStatus[]): WorkspaceApp {
  return {
    id: app.id,
    slug: app.slug,
    display_name: app.display_name,
    url: app.url,
    command: app.command,
    icon: app.icon,
    subdomain: app.subdomain,
    sharing_level: app.share,
    external: app.external,
    open_in: app.open_in,
    hidden: app.hidden,
    group: app.group,
    healthcheck: app.healthcheck,
    // As coderd: "initializing" until the agent reports the first check.
    health: app.healthcheck ? (app.health ?? "initializing") : "disabled",
    statuses,
  };
}

/** SQL for everything the coordinator stores. Every query is parameterised and portable (Postgres 15 and 18). */
export class Store {
  private readonly connectedWrites = new Map<string, number>();
  /** Agents with an open stream count as connected. */
  readonly streaming = new Map<string, number>();
  private readonly candidates = new Map<string, { at: number; rows: AuthCandidate[] }>();
  private generation = 0;

  constructor(readonly db: Database) {}

  async userId(tx: Queryable, username: string): Promise<string> {
    const existing = await tx.query<{ id: string }>("SELECT id FROM users WHERE username = $1", [username]);
    if (existing[0]) return existing[0].id;
    const id = randomUUID();
    const rows = await tx.query<{ id: string }>(
      "INSERT INTO users (id, username) VALUES ($1, $2) ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id",
      [id, username],
    );
    return rows[0].id;
  }

  async setting(key: string): Promise<string | undefined> {
    return (await this.db.query<{ value: string }>("SELECT value FROM coordinator_settings WHERE key = $1", [key]))[0]?.value;
  }

  /** Stores `value` unless the key exists; returns what is stored (first writer wins across replicas). */
  async settingOnce(key: string, value: string): Promise<string> {
    await this.db.query("INSERT INTO coordinator_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, value]);
    return (await this.setting(key))!;
  }

  /**
   * Locks a workspace's row for the rest of the transaction (concurrent builds of it wait here) and
   * returns its owner and latest build's job. 404 if unknown, 410 if deleted.
   */
  async lockWorkspace(tx: Queryable, workspaceId: string): Promise<{ owner_id: string; latest_job_id: string }> {
    const rows = await tx.query<{ owner_id: string; deleted: boolean; latest_job_id: string }>(
      `SELECT w.owner_id, w.deleted,
              (SELECT b.job_id FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) AS latest_job_id
         FROM workspaces w WHERE w.id = $1 FOR UPDATE`,
      [workspaceId],
    );
    if (!rows[0]) throw HttpError.notFound("Workspace not found.", `No workspace with ID "${workspaceId}".`);
    if (rows[0].deleted) throw HttpError.workspaceDeleted(workspaceId);
    return rows[0];
  }

  /** Creates a build (and its job, resources and agents) as the next build of the workspace (lock it first: lockWorkspace). */
  async insertBuild(
    tx: Queryable,
    opts: {
      workspaceId: string;
      transition: "start" | "stop" | "delete";
      initiatorId: string;
      resources: AdminResourceSpec[];
      jobStatus: "succeeded" | "running";
      /** Tokens to keep, by agent name (a claim build keeps the prebuild's agent tokens). */
      tokens?: Map<string, string>;
    },
  ): Promise<{ buildId: string; jobId: string; agents: CreatedAgent[] }> {
    const next = await tx.query<{ n: number | string }>("SELECT coalesce(max(build_number), 0) + 1 AS n FROM workspace_builds WHERE workspace_id = $1", [opts.workspaceId]);
    const buildNumber = Number(next[0].n);
    const jobId = randomUUID();
    const buildId = randomUUID();
    const done = opts.jobStatus === "succeeded";
    await tx.query(
      `INSERT INTO provisioner_jobs (id, type, status, started_at, completed_at) VALUES ($1, 'workspace_build', $2, now(), ${done ? "now()" : "NULL"})`,
      [jobId, opts.jobStatus],
    );
    await tx.query("INSERT INTO workspace_builds (id, workspace_id, build_number, transition, initiator_id, job_id) VALUES ($1, $2, $3, $4, $5, $6)", [
      buildId,
      opts.workspaceId,
      buildNumber,
      opts.transition,
      opts.initiatorId,
      jobId,
    ]);
    // Every agent's ID first: parents, sub-agents and dev containers refer to each other by name.
    const idsByName = new Map<string, string>();
    const specs = opts.resources.flatMap((res) => res.agents.map((a) => ({ res, a })));
    for (const { a } of specs) {
      if (idsByName.has(a.name)) throw HttpError.badRequest("Validation failed.", undefined, [{ field: "resources.agents.name", detail: `duplicate agent name "${a.name}"` }]);
      idsByName.set(a.name, randomUUID());
    }
    const invalid = (field: string, detail: string) => HttpError.badRequest("Validation failed.", undefined, [{ field, detail }]);
    const parentOf = new Map(specs.map(({ a }) => [a.name, a.parent]));
    const agents: CreatedAgent[] = [];
    for (const res of opts.resources) {
      const resourceId = randomUUID();
      await tx.query("INSERT INTO workspace_resources (id, job_id, type, name, instance_id) VALUES ($1, $2, $3, $4, $5)", [resourceId, jobId, res.type, res.name, res.instance_id ?? null]);
      // Parents first, so a sub-agent's parent row exists.
      const ordered = [...res.agents].sort((a, b) => Number(a.parent !== undefined) - Number(b.parent !== undefined));
      for (const a of ordered) {
        let parentId: string | null = null;
        if (a.parent !== undefined) {
          parentId = idsByName.get(a.parent) ?? null;
          if (!parentId) throw invalid("resources.agents.parent", `agent "${a.name}": no parent agent "${a.parent}" in this build`);
        }
        const id = idsByName.get(a.name)!;
        const token = opts.tokens?.get(a.name) ?? randomUUID();
        const apps = a.apps.map((app) => ({ ...app, id: randomUUID(), display_name: app.display_name ?? app.slug }));
        const scripts = agentScripts(a).map((s) => ({ ...s, id: randomUUID(), log_source_id: randomUUID() }));
        const devcontainers = a.devcontainers.map((d) => {
          if (d.subagent !== undefined && parentOf.get(d.subagent) !== a.name) throw invalid("resources.agents.devcontainers.subagent", `dev container "${d.name}" of agent "${a.name}": "${d.subagent}" is not a sub-agent of it (set its parent to "${a.name}")`);
          return { id: randomUUID(), name: d.name, workspace_folder: d.workspace_folder, config_path: d.config_path, subagent_id: d.subagent === undefined ? null : idsByName.get(d.subagent)! };
        });
        await tx.query(
          `INSERT INTO workspace_agents (id, resource_id, name, auth_type, auth_token, auth_instance_id, parent_id, os, arch, apps, scripts, environment, devcontainers)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [id, resourceId, a.name, a.auth, token, res.instance_id ?? null, parentId, a.os, a.arch, JSON.stringify(apps), JSON.stringify(scripts), JSON.stringify(a.env), JSON.stringify(devcontainers)],
        );
        // Each script logs under its own source, registered with the build as coderd does.
        for (const s of scripts) {
          await tx.query("INSERT INTO workspace_agent_log_sources (workspace_agent_id, id, display_name, icon) VALUES ($1, $2, $3, $4)", [id, s.log_source_id, s.display_name, s.icon]);
        }
        agents.push({ id, name: a.name, auth: a.auth, auth_token: token, resource: `${res.type}.${res.name}`, instance_id: res.instance_id ?? null });
      }
    }
    return { buildId, jobId, agents };
  }

  /** The token each named agent had in the workspace's latest build that had an agent of that name. One query. */
  async latestTokens(q: Queryable, workspaceId: string, names: string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows = await q.query<{ name: string; auth_token: string }>(
      `SELECT DISTINCT ON (a.name) a.name, a.auth_token
         FROM workspace_agents a
         JOIN workspace_resources r ON r.id = a.resource_id
         JOIN workspace_builds b ON b.job_id = r.job_id
        WHERE b.workspace_id = $1 AND a.name = ANY($2) AND NOT a.deleted
        ORDER BY a.name, b.build_number DESC`,
      [workspaceId, names],
    );
    return new Map(rows.map((r) => [r.name, r.auth_token]));
  }

  /**
   * A build's resources and agents (apps and scripts included) as a spec for a new build, and the
   * agents' tokens by name (a claim build keeps them). Two queries.
   */
  async resourcesOfJob(q: Queryable, jobId: string): Promise<{ resources: AdminResourceSpec[]; tokens: Map<string, string> }> {
    const resources = await q.query<{ id: string; type: string; name: string; instance_id: string | null }>(
      "SELECT id, type, name, instance_id FROM workspace_resources WHERE job_id = $1 ORDER BY created_at, name",
      [jobId],
    );
    const agents = await q.query<StoredAgent & { id: string; resource_id: string; name: string; auth_type: AgentAuthType; auth_token: string; parent_id: string | null; os: string; arch: string }>(
      `SELECT a.id, a.resource_id, a.name, a.auth_type, a.auth_token, a.parent_id, a.os, a.arch, a.apps, a.scripts, a.environment, a.devcontainers
         FROM workspace_agents a JOIN workspace_resources r ON r.id = a.resource_id
        WHERE r.job_id = $1 AND NOT a.deleted ORDER BY a.created_at, a.name`,
      [jobId],
    );
    const names = new Map(agents.map((a) => [a.id, a.name]));
    return {
      tokens: new Map(agents.map((a) => [a.name, a.auth_token])),
      resources: resources.map((r) => ({
        type: r.type,
        name: r.name,
        instance_id: r.instance_id ?? undefined,
        agents: agents
          .filter((a) => a.resource_id === r.id)
          .map((a) => ({
            name: a.name,
            auth: a.auth_type,
            os: a.os as AdminAgentSpec["os"],
            arch: a.arch as AdminAgentSpec["arch"],
            parent: a.parent_id ? names.get(a.parent_id) : undefined,
            env: json<Record<string, string>>(a.environment),
            startup_script_behavior: "non-blocking" as const,
            apps: json<StoredApp[]>(a.apps).map(({ id: _id, ...app }) => app),
            scripts: json<StoredScript[]>(a.scripts).map(({ id: _id, log_source_id: _source, ...script }) => script),
            devcontainers: json<StoredDevcontainer[]>(a.devcontainers).map((d) => ({
              name: d.name,
              workspace_folder: d.workspace_folder,
              config_path: d.config_path,
              subagent: d.subagent_id ? names.get(d.subagent_id) : undefined,
            })),
          })),
      })),
    };
  }

  /**
   * Agents an instance identity may authenticate as (SPEC §1): not deleted, root agents only, in the
   * latest build of a workspace that is not deleted, of a workspace-build job. Newest first. One query.
   */
  async authCandidates(instanceId: string): Promise<AuthCandidate[]> {
    const hit = this.candidates.get(instanceId);
    if (hit && Date.now() - hit.at < CANDIDATE_TTL_MS) return hit.rows;
    const generation = this.generation;
    const rows = await this.queryCandidates(instanceId);
    // A build committed while we queried may have changed the answer: only cache an unraced one.
    if (generation === this.generation) {
      if (this.candidates.size >= CANDIDATE_CACHE_MAX) this.candidates.clear();
      this.candidates.set(instanceId, { at: Date.now(), rows });
    }
    return rows;
  }

  /** Forgets cached auth candidates (after any build, here or on another replica). */
  invalidateCandidates(): void {
    this.generation++;
    this.candidates.clear();
  }

  private queryCandidates(instanceId: string): Promise<AuthCandidate[]> {
    return this.db.query<AuthCandidate>(
      `SELECT a.id, a.name, a.auth_token
         FROM workspace_agents a
         JOIN workspace_resources r ON r.id = a.resource_id
         JOIN provisioner_jobs j ON j.id = r.job_id
         JOIN workspace_builds b ON b.job_id = j.id
         JOIN workspaces w ON w.id = b.workspace_id
        WHERE a.auth_instance_id = $1
          AND NOT a.deleted
          AND NOT w.deleted
          AND a.parent_id IS NULL
          AND j.type = 'workspace_build'
          AND b.build_number = (SELECT max(b2.build_number) FROM workspace_builds b2 WHERE b2.workspace_id = b.workspace_id)
        ORDER BY a.created_at DESC, a.id`,
      [instanceId],
    );
  }

  /**
   * The agent a token belongs to: the newest build's agent with it, whether that build is still its
   * workspace's latest (only the latest build's agents are authorized) and whether the workspace was
   * deleted. One query.
   */
  async agentByToken(token: string): Promise<(AgentIdentity & { latest: boolean; workspace_deleted: boolean }) | undefined> {
    const rows = await this.db.query<AgentIdentity & { latest: boolean; workspace_deleted: boolean }>(
      `SELECT a.id, a.name, a.auth_type, a.auth_token, a.apps, a.scripts, a.environment, a.devcontainers, a.reinit_delivered_owner_id,
              w.id AS workspace_id, w.name AS workspace_name, w.owner_id, u.username AS owner_name, w.deleted AS workspace_deleted,
              b.build_number = (SELECT max(b2.build_number) FROM workspace_builds b2 WHERE b2.workspace_id = w.id) AS latest
         FROM workspace_agents a
         JOIN workspace_resources r ON r.id = a.resource_id
         JOIN workspace_builds b ON b.job_id = r.job_id
         JOIN workspaces w ON w.id = b.workspace_id
         JOIN users u ON u.id = w.owner_id
        WHERE a.auth_token = $1 AND NOT a.deleted
        ORDER BY b.build_number DESC
        LIMIT 1`,
      [token],
    );
    return rows[0];
  }

  /** A delete build whose job succeeded deletes its workspace. Returns whether this job did. */
  async deleteWorkspaceOfJob(q: Queryable, jobId: string): Promise<boolean> {
    const rows = await q.query(
      `UPDATE workspaces SET deleted = true, updated_at = now()
        WHERE id = (SELECT b.workspace_id FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id
                     WHERE b.job_id = $1 AND b.transition = 'delete' AND j.status = 'succeeded')
          AND NOT deleted
        RETURNING id`,
      [jobId],
    );
    return rows.length > 0;
  }

  /** Records that an agent talked to us (first/last connected); throttled per agent. True on its first connection. */
  async markConnected(agentId: string): Promise<boolean> {
    const now = Date.now();
    if (now - (this.connectedWrites.get(agentId) ?? 0) < CONNECTED_WRITE_INTERVAL_MS) return false;
    this.connectedWrites.set(agentId, now);
    const rows = await this.db.query<{ first: boolean }>(
      "UPDATE workspace_agents SET first_connected_at = coalesce(first_connected_at, now()), last_connected_at = now() WHERE id = $1 RETURNING first_connected_at = last_connected_at AS first",
      [agentId],
    );
    return rows[0]?.first === true;
  }

  /** The lifecycle, and coderd's started_at (at `starting`) and ready_at (when the start ends: ready, start_error, start_timeout). */
  async reportLifecycle(agentId: string, state: LifecycleState, changedAt: string): Promise<void> {
    await this.db.query(
      `UPDATE workspace_agents SET lifecycle_state = $2, lifecycle_changed_at = $3,
              started_at = CASE WHEN $2 = 'starting' THEN $3::timestamptz ELSE started_at END,
              ready_at = CASE WHEN $2 = 'starting' THEN NULL WHEN $2 IN ('ready', 'start_error', 'start_timeout') THEN $3::timestamptz ELSE ready_at END
        WHERE id = $1`,
      [agentId, state, changedAt],
    );
  }

  /** Dev containers as the manifest carries them: with the sub-agent (and its token) the parent starts inside. */
  async manifestDevcontainers(devcontainers: StoredDevcontainer[]): Promise<Manifest["devcontainers"]> {
    const ids = devcontainers.flatMap((d) => (d.subagent_id ? [d.subagent_id] : []));
    const subagents = ids.length === 0 ? [] : await this.db.query<{ id: string; name: string; auth_token: string }>("SELECT id, name, auth_token FROM workspace_agents WHERE id = ANY($1::uuid[])", [ids]);
    return devcontainers.map((d) => {
      const sub = subagents.find((a) => a.id === d.subagent_id);
      return { id: d.id, name: d.name, workspace_folder: d.workspace_folder, config_path: d.config_path, ...(sub ? { subagent: { id: sub.id, name: sub.name, auth_token: sub.auth_token } } : {}) };
    });
  }

  /**
   * What the admin API's "plan" did, as provisioner job logs and timings: one line per resource
   * and agent, one timing per resource (stage plan).
   */
  async recordPlan(logs: LogStore, jobId: string, startedAt: Date): Promise<void> {
    const resources = await this.db.query<{ type: string; name: string; instance_id: string | null; agents: string | null; transition: string }>(
      `SELECT r.type, r.name, r.instance_id, string_agg(a.name, ', ' ORDER BY a.name) AS agents, b.transition
         FROM workspace_resources r JOIN workspace_builds b ON b.job_id = r.job_id
         LEFT JOIN workspace_agents a ON a.resource_id = r.id
        WHERE r.job_id = $1 GROUP BY r.id, r.type, r.name, r.instance_id, b.transition, r.created_at ORDER BY r.created_at, r.name`,
      [jobId],
    );
    const endedAt = new Date().toISOString();
    const lines = resources.map((r) => ({
      source: "provisioner" as const,
      level: "info" as const,
      stage: "plan",
      output: `${r.type}.${r.name}${r.instance_id ? ` (instance ${r.instance_id})` : ""}: ${r.agents ? `agents ${r.agents}` : "no agents"}`,
    }));
    const transition = resources[0]?.transition ?? "start";
    await logs.appendJobLogs(this.db, jobId, [{ source: "provisioner_daemon", level: "info", stage: "plan", output: `Planning the ${transition} transition: ${resources.length} resource(s)` }, ...lines]);
    for (const r of resources) {
      await this.db.query("INSERT INTO provisioner_job_timings (job_id, started_at, ended_at, stage, source, action, resource) VALUES ($1, $2, $3, 'plan', $4, $5, $6)", [
        jobId,
        startedAt.toISOString(),
        endedAt,
        r.type.split("_")[0],
        transition === "delete" ? "delete" : "create",
        `${r.type}.${r.name}`,
      ]);
    }
  }

  private agentStatus(row: { id: string; first_connected_at: unknown; last_connected_at: unknown }): WorkspaceAgent["status"] {
    if (!row.first_connected_at) return "connecting";
    if ((this.streaming.get(row.id) ?? 0) > 0) return "connected";
    const last = row.last_connected_at ? new Date(String(row.last_connected_at instanceof Date ? row.last_connected_at.toISOString() : row.last_connected_at)).getTime() : 0;
    return Date.now() - last < CONNECTED_WINDOW_MS ? "connected" : "disconnected";
  }

  /** Log sources and app statuses of some agents, for the agent JSON. Two queries. */
  async agentExtras(q: Queryable, agentIds: string[]): Promise<AgentExtras> {
    if (agentIds.length === 0) return { sources: [], statuses: [] };
    const sources = await q.query<Record<string, unknown>>(
      "SELECT workspace_agent_id, id, created_at, display_name, icon FROM workspace_agent_log_sources WHERE workspace_agent_id = ANY($1::uuid[]) ORDER BY created_at, display_name",
      [agentIds],
    );
    const statuses = await q.query<Record<string, unknown>>(
      "SELECT id, created_at, workspace_id, agent_id, app_id, state, message, uri FROM workspace_app_statuses WHERE agent_id = ANY($1::uuid[]) ORDER BY created_at DESC, id",
      [agentIds],
    );
    return {
      sources: sources.map((r) => ({ workspace_agent_id: String(r.workspace_agent_id), id: String(r.id), created_at: iso(r.created_at)!, display_name: String(r.display_name), icon: String(r.icon) })),
      statuses: statuses.map(appStatusJson),
    };
  }

  agentJson(row: Record<string, unknown>, workspaceId: string, extras: AgentExtras): WorkspaceAgent {
    const id = String(row.id);
    const scripts = json<StoredScript[]>(row.scripts);
    return {
      id,
      name: String(row.name),
      status: this.agentStatus(row as { id: string; first_connected_at: unknown; last_connected_at: unknown }),
      lifecycle_state: row.lifecycle_state as LifecycleState,
      auth: row.auth_type as AgentAuthType,
      auth_instance_id: (row.auth_instance_id as string | null) ?? null,
      parent_id: (row.parent_id as string | null) ?? null,
      os: String(row.os),
      arch: String(row.arch),
      first_connected_at: iso(row.first_connected_at),
      last_connected_at: iso(row.last_connected_at),
      workspace_id: workspaceId,
      resource_id: String(row.resource_id),
      started_at: iso(row.started_at),
      ready_at: iso(row.ready_at),
      startup_script_behavior: scripts.some((s) => s.start_blocks_login) ? "blocking" : "non-blocking",
      apps: json<StoredApp[]>(row.apps).map((app) => appJson(app, extras.statuses.filter((st) => st.app_id === app.id))),
      // `timeout` in nanoseconds: codersdk.WorkspaceAgentScript carries a Go time.Duration.
      scripts: scripts.map((s) => ({ id: s.id, log_source_id: s.log_source_id, display_name: s.display_name, icon: s.icon, script: s.script, cron: s.cron, run_on_start: s.run_on_start, run_on_stop: s.run_on_stop, start_blocks_login: s.start_blocks_login, timeout: s.timeout * 1e9, log_path: s.log_path })),
      log_sources: extras.sources.filter((src) => src.workspace_agent_id === id),
      logs_length: Number(row.logs_length ?? 0),
      logs_overflowed: Boolean(row.logs_overflowed),
    };
  }

  async build(q: Queryable, buildId: string): Promise<WorkspaceBuild> {
    const rows = await q.query<Record<string, unknown>>(
      `SELECT b.id, b.workspace_id, b.build_number, b.transition, b.initiator_id, b.job_id,
              j.type AS job_type, j.status AS job_status, j.error AS job_error, j.created_at AS job_created_at, j.completed_at AS job_completed_at
         FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.id = $1`,
      [buildId],
    );
    const b = rows[0];
    if (!b) throw HttpError.notFound("Workspace build not found.");
    const resources = await q.query<Record<string, unknown>>("SELECT id, type, name, instance_id FROM workspace_resources WHERE job_id = $1 ORDER BY created_at, name", [b.job_id]);
    const agents = await q.query<Record<string, unknown>>(
      `SELECT a.* FROM workspace_agents a JOIN workspace_resources r ON r.id = a.resource_id WHERE r.job_id = $1 AND NOT a.deleted ORDER BY a.created_at, a.name`,
      [b.job_id],
    );
    const workspaceId = String(b.workspace_id);
    const extras = await this.agentExtras(q, agents.map((a) => String(a.id)));
    return {
      id: String(b.id),
      workspace_id: workspaceId,
      build_number: Number(b.build_number),
      transition: b.transition as WorkspaceBuild["transition"],
      initiator_id: String(b.initiator_id),
      job_id: String(b.job_id),
      job: {
        id: String(b.job_id),
        type: String(b.job_type),
        status: b.job_status as WorkspaceBuild["job"]["status"],
        error: (b.job_error as string | null) ?? null,
        created_at: iso(b.job_created_at)!,
        completed_at: iso(b.job_completed_at),
      },
      resources: resources.map((r) => ({
        id: String(r.id),
        type: String(r.type),
        name: String(r.name),
        instance_id: (r.instance_id as string | null) ?? null,
        agents: agents.filter((a) => a.resource_id === r.id).map((a) => this.agentJson(a, workspaceId, extras)),
      })),
    };
  }

  /** The workspace in coderd's shape; a deleted one is 410 Gone as in coderd, unless `includeDeleted`. */
  async workspace(q: Queryable, workspaceId: string, opts: { includeDeleted?: boolean } = {}): Promise<Workspace> {
    const rows = await q.query<Record<string, unknown>>(
      `SELECT w.id, w.name, w.owner_id, u.username AS owner_name, w.deleted,
              (SELECT b.id FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) AS latest_build_id
         FROM workspaces w JOIN users u ON u.id = w.owner_id WHERE w.id = $1`,
      [workspaceId],
    );
    const w = rows[0];
    if (!w) throw HttpError.notFound("Workspace not found.", `No workspace with ID "${workspaceId}".`);
    if (w.deleted && !opts.includeDeleted) throw HttpError.workspaceDeleted(workspaceId);
    const latest = await this.build(q, String(w.latest_build_id));
    const statuses = latest.resources.flatMap((r) => r.agents.flatMap((a) => a.apps.flatMap((app) => app.statuses)));
    return {
      id: String(w.id),
      name: String(w.name),
      owner_id: String(w.owner_id),
      owner_name: String(w.owner_name),
      latest_app_status: statuses.sort((x, y) => y.created_at.localeCompare(x.created_at))[0] ?? null,
      latest_build: latest,
    };
  }

  async agent(agentId: string): Promise<WorkspaceAgent & { lifecycle_changed_at: string | null }> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT a.*, b.workspace_id FROM workspace_agents a
         JOIN workspace_resources r ON r.id = a.resource_id
         JOIN workspace_builds b ON b.job_id = r.job_id
         JOIN workspaces w ON w.id = b.workspace_id
        WHERE a.id = $1 AND NOT w.deleted`,
      [agentId],
    );
    const a = rows[0];
    if (!a) throw HttpError.notFound("Workspace agent not found.", `No agent with ID "${agentId}".`);
    return { ...this.agentJson(a, String(a.workspace_id), await this.agentExtras(this.db, [agentId])), lifecycle_changed_at: iso(a.lifecycle_changed_at) };
  }
}
