import type { UpdateAgent, UpdateWorkspace, WorkspaceUpdate } from "../sdk/workspace-updates.js";
import type { Actor } from "./actor.js";
import type { Pubsub } from "./pubsub.js";
import { serialized } from "./serial.js";
import { workspaceStatus, type Store } from "./store.js";

/** One pubsub channel for workspace events; the payload names the owners concerned (JSON array). */
export const WORKSPACE_EVENTS_CHANNEL = "workspace_events";

export interface Snapshot {
  workspaces: Map<string, UpdateWorkspace>;
  agents: Map<string, UpdateAgent>;
}

/** What changed between two snapshots; undefined when nothing did. */
export function diffSnapshots(before: Snapshot, after: Snapshot): WorkspaceUpdate | undefined {
  const same = <T extends object>(a: T, b: T) => JSON.stringify(a) === JSON.stringify(b);
  const update: WorkspaceUpdate = {
    upserted_workspaces: [...after.workspaces.values()].filter((w) => !before.workspaces.has(w.id) || !same(before.workspaces.get(w.id)!, w)),
    upserted_agents: [...after.agents.values()].filter((a) => !before.agents.has(a.id) || !same(before.agents.get(a.id)!, a)),
    deleted_workspaces: [...before.workspaces.values()].filter((w) => !after.workspaces.has(w.id)),
    deleted_agents: [...before.agents.values()].filter((a) => !after.agents.has(a.id)),
  };
  return Object.values(update).some((list) => list.length > 0) ? update : undefined;
}

/**
 * User-scoped workspace updates (SPEC §8): each stream keeps the last snapshot it sent and, on a
 * workspace event for its user, re-queries and sends only the diff (nothing when nothing changed).
 */
export class WorkspaceUpdates {
  constructor(
    private readonly store: Store,
    private readonly pubsub: Pubsub,
  ) {}

  /** Every workspace the actor may read, with the agents of its latest build. One query. */
  async snapshot(actor: Actor): Promise<Snapshot> {
    const rows = await this.store.db.query<{ id: string; name: string; transition: string; job_status: string; agent_id: string | null; agent_name: string | null }>(
      `SELECT w.id, w.name, lb.transition, j.status AS job_status, a.id AS agent_id, a.name AS agent_name
         FROM workspaces w
         JOIN LATERAL (SELECT b.transition, b.job_id FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) lb ON true
         JOIN provisioner_jobs j ON j.id = lb.job_id
         LEFT JOIN workspace_resources r ON r.job_id = lb.job_id
         LEFT JOIN workspace_agents a ON a.resource_id = r.id AND NOT a.deleted
        WHERE NOT w.deleted AND ($1::uuid IS NULL OR w.owner_id = $1)
        ORDER BY w.created_at, w.id, a.created_at, a.name`,
      [actor.kind === "admin" ? null : actor.id],
    );
    const snap: Snapshot = { workspaces: new Map(), agents: new Map() };
    for (const r of rows) {
      snap.workspaces.set(r.id, { id: r.id, name: r.name, status: workspaceStatus(r.transition, r.job_status) });
      if (r.agent_id) snap.agents.set(r.agent_id, { id: r.agent_id, name: r.agent_name!, workspace_id: r.id });
    }
    return snap;
  }

  /** Announces that workspaces changed (their owners', or the owners given for a moved workspace). */
  async workspaceChanged(workspaceId: string, alsoOwners: string[] = []): Promise<void> {
    const rows = await this.store.db.query<{ owner_id: string }>("SELECT owner_id FROM workspaces WHERE id = $1", [workspaceId]);
    await this.pubsub.publish(WORKSPACE_EVENTS_CHANNEL, JSON.stringify([...new Set([...rows.map((r) => r.owner_id), ...alsoOwners])]));
  }

  async jobChanged(jobId: string): Promise<void> {
    const rows = await this.store.db.query<{ workspace_id: string }>("SELECT workspace_id FROM workspace_builds WHERE job_id = $1", [jobId]);
    if (rows[0]) await this.workspaceChanged(rows[0].workspace_id);
  }

  /**
   * Runs one subscriber: `send` gets the first message (everything, as upserts), then diffs.
   * Re-queries are serialised per stream and coalesced. Returns the unsubscribe function.
   */
  async subscribe(actor: Actor, send: (update: WorkspaceUpdate) => void, onError: (err: Error) => void): Promise<() => void> {
    // The first run sends everything as upserts (even nothing: the first message always goes out),
    // later runs only the diff. Subscribed before the first query, so no event is missed.
    let last: Snapshot | undefined;
    const { run } = serialized(async () => {
      const next = await this.snapshot(actor);
      const update = last
        ? diffSnapshots(last, next)
        : { upserted_workspaces: [...next.workspaces.values()], upserted_agents: [...next.agents.values()], deleted_workspaces: [], deleted_agents: [] };
      last = next;
      if (update) send(update);
    });
    const concerns = (payload: string) => {
      if (actor.kind === "admin") return true;
      try {
        return (JSON.parse(payload) as string[]).includes(actor.id);
      } catch {
        return true;
      }
    };
    const unsubscribe = await this.pubsub.subscribe(WORKSPACE_EVENTS_CHANNEL, (p) => (concerns(p) ? void run().catch(onError) : undefined));
    const stopReconnect = this.pubsub.onReconnect(() => void run().catch(onError));
    try {
      await run();
    } catch (err) {
      unsubscribe();
      stopReconnect();
      throw err;
    }
    return () => {
      unsubscribe();
      stopReconnect();
    };
  }
}
