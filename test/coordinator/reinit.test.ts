import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { PostgresPubsub } from "../../src/coordinator/pubsub.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { prebuildClaimedChannel, PREBUILDS_SYSTEM_USER_ID } from "../../src/sdk/reinit.js";
import { createTestDatabase, testPostgresUrl } from "../support/postgres.js";
import { BACKENDS } from "./support/backends.js";
import { noDataWithin, openReinit } from "./support/sse.js";

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`prebuild claim → reinit on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: "admin", ssePingMs: 200 });
      admin = new AdminClient(coord.url, coord.adminToken);
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const prebuild = () =>
      admin.createWorkspace({ name: `pb-${randomUUID().slice(0, 8)}`, prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }, { name: "dev" }] }] });

    it("the stream is text/event-stream with no-cache and pings", async () => {
      const ws = await prebuild();
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(s.status).toBe(200);
      expect(s.headers.get("content-type")).toBe("text/event-stream");
      expect(s.headers.get("cache-control")).toBe("no-cache");
      await new Promise((r) => setTimeout(r, 500));
      expect(s.events.some((e) => e.event === "ping")).toBe(true);
      s.close();
    });

    it("1. an unclaimed prebuild receives the reinit through pubsub when claimed", async () => {
      const ws = await prebuild();
      expect(ws.owner_id).toBe(PREBUILDS_SYSTEM_USER_ID);
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(await noDataWithin(s, 200)).toBe(true);
      const claimed = await admin.claim(ws.id, { owner: "alice" });
      expect(claimed.workspace.owner_name).toBe("alice");
      expect(claimed.build.initiator_id).toBe(claimed.workspace.owner_id);
      expect(await s.nextData()).toEqual({ workspace_id: ws.id, reason: "prebuild_claimed", user_id: claimed.workspace.owner_id });
      await s.ended;
    });

    it("2. a claimed prebuild whose claim build completed → the event at once on (re)connect", async () => {
      const ws = await prebuild();
      const claimed = await admin.claim(ws.id, { owner: "bob" });
      const s = await openReinit(coord.url, ws.agents[1].auth_token);
      expect(await s.nextData(2000)).toMatchObject({ reason: "prebuild_claimed", user_id: claimed.workspace.owner_id });
      await s.ended;
    });

    it("3. claim build still running → nothing until its job completes, then the event", async () => {
      const ws = await prebuild();
      const claimed = await admin.claim(ws.id, { owner: "carol", job: "running" });
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(await noDataWithin(s, 400)).toBe(true);
      await admin.completeJob(claimed.build.job_id, { status: "succeeded" });
      expect(await s.nextData()).toMatchObject({ workspace_id: ws.id, user_id: claimed.workspace.owner_id });
    });

    it("4. a regular workspace → 409", async () => {
      const ws = await admin.createWorkspace({ name: "regular", owner: "dave", resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(s.status).toBe(409);
      expect(JSON.parse(s.body).message).toBe("Workspace is not a prebuilt workspace.");
    });

    const reportStarting = (token: string) =>
      fetch(new URL("/api/v2/workspaceagents/me/report-lifecycle", coord.url), {
        method: "POST",
        headers: { "Coder-Session-Token": token, "Content-Type": "application/json" },
        body: JSON.stringify({ state: "starting", changed_at: new Date().toISOString() }),
      });

    it("5. after a successful reinit, a dropped and re-opened stream gets no second event", async () => {
      const ws = await prebuild();
      const [main, dev] = ws.agents;
      const s = await openReinit(coord.url, main.auth_token);
      await admin.claim(ws.id, { owner: "erin" });
      await s.nextData();
      // The agent re-initialises: it starts again (reports `starting`) and re-opens its stream.
      expect((await reportStarting(main.auth_token)).status).toBe(204);
      const again = await openReinit(coord.url, main.auth_token);
      expect(again.status).toBe(200);
      expect(await noDataWithin(again, 500)).toBe(true);
      again.close();
      // An event that was sent but never acted on (the agent did not restart) is sent again, once acted on never.
      const sibling = await openReinit(coord.url, dev.auth_token);
      await sibling.nextData();
      const resent = await openReinit(coord.url, dev.auth_token);
      await resent.nextData();
      await reportStarting(dev.auth_token);
      const siblingAgain = await openReinit(coord.url, dev.auth_token);
      expect(await noDataWithin(siblingAgain, 300)).toBe(true);
      siblingAgain.close();
    });

    it("6. legacy payloads: raw string and old field spellings", async () => {
      const ws = await prebuild();
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      await coord.pubsub.publish(prebuildClaimedChannel(ws.id), "prebuild_claimed");
      const ev = await s.nextData();
      expect(ev).toMatchObject({ workspace_id: ws.id, reason: "prebuild_claimed" });
      const ws2 = await prebuild();
      const s2 = await openReinit(coord.url, ws2.agents[0].auth_token);
      const owner = randomUUID();
      await coord.pubsub.publish(prebuildClaimedChannel(ws2.id), JSON.stringify({ WorkspaceID: ws2.id, Reason: "prebuild_claimed", UserID: owner }));
      expect(await s2.nextData()).toEqual({ workspace_id: ws2.id, reason: "prebuild_claimed", user_id: owner });
    });

    it("7. a claim while the agent is disconnected is delivered when it reconnects", async () => {
      const ws = await prebuild();
      const s = await openReinit(coord.url, ws.agents[0].auth_token);
      s.close();
      const claimed = await admin.claim(ws.id, { owner: "frank" });
      const back = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(await back.nextData()).toMatchObject({ user_id: claimed.workspace.owner_id });
    });

    it("the claim build keeps instance IDs, agent tokens, apps and scripts", async () => {
      const ws = await admin.createWorkspace({
        name: "apps",
        prebuild: true,
        resources: [{ type: "vm", name: "dev", instance_id: "i-apps", agents: [{ name: "main", apps: [{ slug: "code", url: "http://localhost:8080" }], scripts: [{ display_name: "Setup", script: "echo hi", run_on_start: true }] }] }],
      });
      const claimed = await admin.claim(ws.id, { owner: "olga" });
      expect(claimed.build.build_number).toBe(2);
      expect(claimed.build.resources[0]).toMatchObject({ instance_id: "i-apps", agents: [{ name: "main" }] });
      const manifest = (await (await fetch(new URL("/api/v2/workspaceagents/me/manifest", coord.url), { headers: { "Coder-Session-Token": ws.agents[0].auth_token } })).json()) as Record<string, any>;
      expect(manifest).toMatchObject({ agent_id: claimed.build.resources[0].agents[0].id, owner_name: "olga", apps: [{ slug: "code", url: "http://localhost:8080" }], scripts: [{ display_name: "Setup", script: "echo hi", run_on_start: true }] });
    });

    it("claiming twice → 409; publishing a payload of 8000 bytes or more is refused", async () => {
      const ws = await prebuild();
      await admin.claim(ws.id, { owner: "gina" });
      await expect(admin.claim(ws.id, { owner: "hank" })).rejects.toMatchObject({ status: 409 });
      await expect(coord.pubsub.publish(prebuildClaimedChannel(ws.id), "x".repeat(8000))).rejects.toThrow(/too large/);
    });
  });
}

describe.runIf(testPostgresUrl !== undefined)("8. two coordinator replicas on one Postgres", () => {
  let a: RunningCoordinator;
  let b: RunningCoordinator;
  let drop: () => Promise<void>;
  let url: string;

  beforeAll(async () => {
    const db = await createTestDatabase();
    url = db.url;
    drop = db.drop;
    a = await startCoordinator({ listen: "127.0.0.1:0", db: url, adminToken: "admin", ssePingMs: 200 });
    b = await startCoordinator({ listen: "127.0.0.1:0", db: url, adminToken: "admin", ssePingMs: 200 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  const prebuildVia = (c: RunningCoordinator) =>
    new AdminClient(c.url, "admin").createWorkspace({ name: "pb", prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });

  it("stream on B, claim through A → the event within 1 s", async () => {
    const ws = await prebuildVia(a);
    const s = await openReinit(b.url, ws.agents[0].auth_token);
    expect(s.status).toBe(200);
    const t0 = Date.now();
    await new AdminClient(a.url, "admin").claim(ws.id, { owner: "ivy" });
    await s.nextData(1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("B's LISTEN connection killed while waiting: the claim still arrives, exactly once", async () => {
    const ws = await prebuildVia(a);
    const s = await openReinit(b.url, ws.agents[0].auth_token);
    expect(s.status).toBe(200);
    const pid = await (b.pubsub as PostgresPubsub).listenerPid();
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    await killer.query("SELECT pg_terminate_backend($1)", [pid]);
    await killer.end();
    // Claim while B's listener is down or reconnecting.
    await new AdminClient(a.url, "admin").claim(ws.id, { owner: "jack" });
    const ev = await s.nextData(10_000);
    expect(ev).toMatchObject({ workspace_id: ws.id, reason: "prebuild_claimed" });
    await s.ended;
    expect(s.events.filter((e) => e.event === "data")).toHaveLength(1);
    expect(await (b.pubsub as PostgresPubsub).listenerPid()).not.toBe(pid);
  });
});
