import type { Context } from "hono";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { ServerResponse } from "node:http";
import type { z } from "zod";
import type { ClaimRequest } from "../sdk/admin.js";
import { CLAIM_BUILD_FAILED, parseReinitEvent, PREBUILDS_SYSTEM_USER_ID, prebuildClaimedChannel, REINIT_REASON_PREBUILD_CLAIMED, REINIT_SSE, type ReinitEvent } from "../sdk/reinit.js";
import type { Queryable, Transaction } from "./db/index.js";
import { HttpError } from "./http-error.js";
import type { Pubsub } from "./pubsub.js";
import type { AgentIdentity, Store } from "./store.js";

interface ReinitState {
  owner_id: string;
  first_initiator_id: string;
  latest_initiator_id: string;
  latest_job_status: string;
  latest_job_error: string | null;
}

type Decision = { kind: "regular" } | { kind: "wait" } | { kind: "deliver"; event: ReinitEvent } | { kind: "failed"; detail: string };

/** Published (payload: the workspace ID) when a claim build fails, so open streams on every replica end with the 409. */
export const CLAIM_FAILED_CHANNEL = "provisioner_claim_failed";

const claimFailed = (detail: string) => HttpError.conflict(CLAIM_BUILD_FAILED, detail);

/**
 * Prebuilt-workspace claim → agent reinit (SPEC §3). The stream subscribes before it checks the
 * durable state, so a claim during the check is buffered; deliveries are recorded per agent token,
 * so a reconnect never re-delivers a claim the agent already acted on.
 */
export class ReinitService {
  private readonly streams = new Set<ServerResponse>();
  /** What each waiting stream does with a fresh durable decision, by workspace. */
  private readonly waiting = new Map<string, Set<(d: Decision) => void>>();
  private readonly sweep: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly store: Store,
    private readonly pubsub: Pubsub,
    private readonly pingMs: number,
    private readonly log: (e: Record<string, unknown>) => void,
    /**
     * Every waiting stream re-runs its durable check this often: a backstop for an event that never
     * arrived (a NOTIFY lost with a listener connection, a replica of an older version that died
     * between its commit and its publish).
     */
    recheckMs = 30_000,
  ) {
    // After a listener reconnect, events may have been missed: the durable check covers them.
    pubsub.onReconnect(() => void this.recheckAll());
    this.sweep = setInterval(() => void this.recheckAll(), recheckMs);
    this.sweep.unref();
  }

  private async state(workspaceId: string, q: Queryable = this.store.db): Promise<ReinitState | undefined> {
    const rows = await q.query<ReinitState>(
      `SELECT w.owner_id,
              (SELECT b.initiator_id FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number ASC LIMIT 1) AS first_initiator_id,
              lb.initiator_id AS latest_initiator_id,
              j.status AS latest_job_status, j.error AS latest_job_error
         FROM workspaces w
         JOIN LATERAL (SELECT b.initiator_id, b.job_id FROM workspace_builds b WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) lb ON true
         JOIN provisioner_jobs j ON j.id = lb.job_id
        WHERE w.id = $1`,
      [workspaceId],
    );
    return rows[0];
  }

  /** The durable check: what the agent should get now. */
  private async decide(workspaceId: string): Promise<Decision> {
    const s = await this.state(workspaceId);
    if (!s) throw HttpError.notFound("Workspace not found.");
    if (s.owner_id === PREBUILDS_SYSTEM_USER_ID) return { kind: "wait" };
    if (s.first_initiator_id !== PREBUILDS_SYSTEM_USER_ID) return { kind: "regular" };
    // A claimed prebuild: the claim build is the latest build, initiated by the new owner.
    if (s.latest_initiator_id !== PREBUILDS_SYSTEM_USER_ID) {
      if (s.latest_job_status === "succeeded") return { kind: "deliver", event: { workspace_id: workspaceId, reason: REINIT_REASON_PREBUILD_CLAIMED, user_id: s.owner_id } };
      if (s.latest_job_status === "failed" || s.latest_job_status === "canceled") return { kind: "failed", detail: s.latest_job_error || `The claim build's job ${s.latest_job_status}.` };
    }
    return { kind: "wait" };
  }

  /** The owner this agent token already re-initialised for (it reported `starting` after a send). */
  private async deliveredOwner(agent: AgentIdentity): Promise<string | null> {
    const rows = await this.store.db.query<{ owner: string | null }>(
      "SELECT max(reinit_delivered_owner_id::text) AS owner FROM workspace_agents WHERE auth_token = $1",
      [agent.auth_token],
    );
    return rows[0]?.owner ?? null;
  }

  /** Records a send for every agent row with this token (the claim build's agents share it). */
  private async recordSend(agent: AgentIdentity, ownerId: string): Promise<void> {
    await this.store.db.query("UPDATE workspace_agents SET reinit_sent_owner_id = $2 WHERE auth_token = $1", [agent.auth_token, ownerId]);
  }

  /** Called when an agent reports `starting`: a reinit sent before it is now acted on. */
  async agentStarting(agent: AgentIdentity): Promise<void> {
    await this.store.db.query(
      "UPDATE workspace_agents SET reinit_delivered_owner_id = reinit_sent_owner_id WHERE auth_token = $1 AND reinit_sent_owner_id IS NOT NULL",
      [agent.auth_token],
    );
  }

  async handler(c: Context, agent: AgentIdentity): Promise<Response> {
    const res = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (!res) throw new HttpError(500, { message: "Streaming is not available on this server." });
    const channel = prebuildClaimedChannel(agent.workspace_id);
    const pending: string[] = [];
    let onPayload: ((p: string) => void) | undefined;
    // 1. Subscribe first: an event fired during the durable check is buffered, not lost.
    let unsubscribe: () => void = () => undefined;
    let decision: Decision;
    try {
      unsubscribe = await this.pubsub.subscribe(channel, (p) => (onPayload ? onPayload(p) : pending.push(p)));
      decision = await this.decide(agent.workspace_id);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    // The client left while we subscribed and checked (its 'close' has fired already): nothing stays behind.
    if (res.destroyed) {
      unsubscribe();
      return RESPONSE_ALREADY_SENT;
    }
    if (decision.kind === "regular") {
      unsubscribe();
      throw HttpError.conflict("Workspace is not a prebuilt workspace.", "Only agents of prebuilt workspaces re-initialise on claim; stop waiting for reinit.");
    }
    if (decision.kind === "failed") {
      unsubscribe();
      throw claimFailed(decision.detail);
    }

    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    this.streams.add(res);
    this.store.streaming.set(agent.id, (this.store.streaming.get(agent.id) ?? 0) + 1);
    let done = false;
    // Exactly coderd's ping: an event line and a blank line. Go's SSE reader rejects a data line after a ping.
    const ping = setInterval(() => res.write(`event: ${REINIT_SSE.ping}\n\n`), this.pingMs);
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(ping);
      unsubscribe();
      const waiting = this.waiting.get(agent.workspace_id);
      waiting?.delete(onDecision);
      if (waiting?.size === 0) this.waiting.delete(agent.workspace_id);
      this.streams.delete(res);
      const n = (this.store.streaming.get(agent.id) ?? 1) - 1;
      if (n > 0) this.store.streaming.set(agent.id, n);
      else this.store.streaming.delete(agent.id);
      if (!res.writableEnded) res.end();
    };
    res.on("close", finish);

    // What the agent had re-initialised for when the stream opened; a pubsub event for another owner
    // is written without another query (the send is recorded right after).
    let knownDelivered = agent.reinit_delivered_owner_id;
    let sending = false;
    const deliver = async (event: ReinitEvent, fresh: boolean) => {
      if (done || res.destroyed) return;
      const owner = event.user_id || (await this.state(agent.workspace_id))?.owner_id || "";
      if (fresh) knownDelivered = await this.deliveredOwner(agent);
      if (owner && knownDelivered === owner) {
        this.log({ level: "info", msg: "agent already re-initialised for this owner, reinit not sent again", agent: agent.name, owner_id: owner });
        return;
      }
      // One send per stream, even when pubsub and a recheck deliver at the same moment.
      if (done || sending || res.destroyed) return;
      sending = true;
      // Recorded before the write, so the agent's next `starting` always finds it; a send that never
      // arrives is harmless (only `starting` turns a send into a delivery).
      if (owner) await this.recordSend(agent, owner);
      if (done || res.destroyed) return;
      const wire: ReinitEvent = { workspace_id: event.workspace_id, reason: event.reason, user_id: owner };
      res.write(`event: ${REINIT_SSE.data}\ndata: ${JSON.stringify(wire)}\n\n`);
      finish();
      this.log({ level: "info", msg: "reinit sent", agent: agent.name, agent_id: agent.id, workspace_id: event.workspace_id, owner_id: owner });
    };
    // A failed claim ends the stream with coderd's 409 body as an error event.
    const fail = (detail: string) => {
      if (done || res.destroyed) return;
      res.write(`event: ${REINIT_SSE.error}\ndata: ${JSON.stringify(claimFailed(detail).body)}\n\n`);
      finish();
      this.log({ level: "info", msg: "claim build failed, reinit stream ended", agent: agent.name, agent_id: agent.id, workspace_id: agent.workspace_id });
    };
    const onDecision = (d: Decision) => {
      if (d.kind === "deliver") deliver(d.event, true).catch((err: Error) => this.log({ level: "error", msg: "reinit delivery failed", error: err.message }));
      else if (d.kind === "failed") fail(d.detail);
    };
    let waiting = this.waiting.get(agent.workspace_id);
    if (!waiting) this.waiting.set(agent.workspace_id, (waiting = new Set()));
    waiting.add(onDecision);
    onPayload = (payload) => {
      let event: ReinitEvent;
      try {
        event = parseReinitEvent(payload, agent.workspace_id);
      } catch (err) {
        this.log({ level: "warn", msg: "ignoring malformed reinit payload", error: (err as Error).message });
        return;
      }
      deliver(event, false).catch((err: Error) => this.log({ level: "error", msg: "reinit delivery failed", error: err.message }));
    };
    for (const p of pending.splice(0)) onPayload(p);
    if (decision.kind === "deliver") await deliver(decision.event, true);
    return RESPONSE_ALREADY_SENT;
  }

  /** The claimed prebuild whose claim build ran `jobId`, if it is one. */
  private async claimOfJob(tx: Queryable, jobId: string): Promise<{ workspaceId: string; ownerId: string } | undefined> {
    const rows = await tx.query<{ workspace_id: string; initiator_id: string }>("SELECT workspace_id, initiator_id FROM workspace_builds WHERE job_id = $1", [jobId]);
    const build = rows[0];
    if (!build) return undefined;
    const s = await this.state(build.workspace_id, tx);
    if (!s || s.first_initiator_id !== PREBUILDS_SYSTEM_USER_ID || build.initiator_id === PREBUILDS_SYSTEM_USER_ID || s.owner_id === PREBUILDS_SYSTEM_USER_ID) return undefined;
    return { workspaceId: build.workspace_id, ownerId: s.owner_id };
  }

  /** A claim build failed (in `tx`): at commit, the waiting streams of its workspace, on every replica, end with the 409. */
  async onJobFailed(jobId: string, tx: Transaction): Promise<void> {
    const claim = await this.claimOfJob(tx, jobId);
    if (!claim) return;
    await this.pubsub.publish(CLAIM_FAILED_CHANNEL, claim.workspaceId, tx);
    this.log({ level: "info", msg: "claim build failed", workspace_id: claim.workspaceId, job_id: jobId });
  }

  /** Re-runs the durable check of the streams waiting on this workspace: one query for all of them. */
  async recheckWorkspace(workspaceId: string): Promise<void> {
    const streams = this.waiting.get(workspaceId);
    if (!streams?.size) return;
    try {
      const decision = await this.decide(workspaceId);
      for (const onDecision of [...streams]) onDecision(decision);
    } catch (err) {
      this.log({ level: "warn", msg: "reinit recheck failed", workspace_id: workspaceId, error: (err as Error).message });
    }
  }

  /** Re-checks every waiting stream, one workspace after the other (periodically, and after a listener reconnect). */
  private async recheckAll(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const workspaceId of [...this.waiting.keys()]) await this.recheckWorkspace(workspaceId);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * A claim build's job succeeded in `tx`: the claim is published in that transaction (a Postgres
   * NOTIFY is delivered if and only if the success commits).
   */
  async onJobSucceeded(jobId: string, tx: Transaction): Promise<void> {
    const claim = await this.claimOfJob(tx, jobId);
    if (!claim) return;
    const event: ReinitEvent = { workspace_id: claim.workspaceId, reason: REINIT_REASON_PREBUILD_CLAIMED, user_id: claim.ownerId };
    await this.pubsub.publish(prebuildClaimedChannel(claim.workspaceId), JSON.stringify(event), tx);
    this.log({ level: "info", msg: "prebuild claimed, reinit published", workspace_id: claim.workspaceId, owner_id: claim.ownerId });
  }

  /** Moves an unclaimed prebuild to `owner` and starts the claim build (same resources, agents keep their tokens). */
  async claim(workspaceId: string, body: z.infer<typeof ClaimRequest>) {
    const jobId = await this.store.db.transaction(async (tx) => {
      const ws = await tx.query<{ owner_id: string; deleted: boolean }>("SELECT owner_id, deleted FROM workspaces WHERE id = $1 FOR UPDATE", [workspaceId]);
      if (!ws[0]) throw HttpError.notFound("Workspace not found.", `No workspace with ID "${workspaceId}".`);
      if (ws[0].deleted) throw HttpError.workspaceDeleted(workspaceId);
      if (ws[0].owner_id !== PREBUILDS_SYSTEM_USER_ID) throw HttpError.conflict("Workspace is not an unclaimed prebuild.", "Only workspaces owned by the prebuilds system user can be claimed.");
      const ownerId = await this.store.userId(tx, body.owner);
      if (ownerId === PREBUILDS_SYSTEM_USER_ID) throw HttpError.badRequest("Validation failed.", undefined, [{ field: "owner", detail: "cannot claim for the prebuilds system user" }]);
      const latest = await tx.query<{ job_id: string }>("SELECT job_id FROM workspace_builds WHERE workspace_id = $1 ORDER BY build_number DESC LIMIT 1", [workspaceId]);
      const { resources, tokens } = await this.store.resourcesOfJob(tx, latest[0].job_id);
      await tx.query("UPDATE workspaces SET owner_id = $2, updated_at = now() WHERE id = $1", [workspaceId, ownerId]);
      const build = await this.store.insertBuild(tx, { workspaceId, transition: "start", initiatorId: ownerId, resources, jobStatus: body.job, tokens });
      if (body.job === "succeeded") await this.onJobSucceeded(build.jobId, tx);
      return build.jobId;
    });
    this.log({ level: "info", msg: "prebuild claimed", workspace_id: workspaceId, owner: body.owner, job: body.job, job_id: jobId });
    const workspace = await this.store.workspace(this.store.db, workspaceId);
    return { workspace, build: workspace.latest_build };
  }

  /** Open reinit streams (for /healthz). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Ends every open stream and stops the periodic re-checks (graceful shutdown). */
  closeAll(): void {
    clearInterval(this.sweep);
    for (const res of [...this.streams]) res.end();
  }
}
