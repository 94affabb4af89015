import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseParser } from "../../src/agent/sse.js";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import type { WorkspaceUpdate } from "../../src/sdk/workspace-updates.js";
import { BACKENDS } from "./support/backends.js";

/** A real client of the workspace-updates stream. */
async function openUpdates(baseUrl: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(new URL("/api/v2/users/me/workspace-updates", baseUrl), { headers: { "Coder-Session-Token": token }, signal: controller.signal });
  const messages: WorkspaceUpdate[] = [];
  if (res.ok) {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) if (ev.event === "data") messages.push(JSON.parse(ev.data));
        }
      } catch {
        // closed
      }
    })();
  }
  return {
    status: res.status,
    messages,
    async next(count: number, timeoutMs = 5000): Promise<WorkspaceUpdate[]> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return messages.slice(0, count);
    },
    close: () => controller.abort(),
  };
}

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`workspace updates (SPEC §8) on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: "admin", ssePingMs: 200 });
      admin = new AdminClient(coord.url, "admin");
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    it("create → agent connect → stop → delete: exactly the expected messages, nothing when nothing changed", async () => {
      const token = await admin.userToken("carol");
      const stream = await openUpdates(coord.url, token);
      expect(stream.status).toBe(200);
      const [first] = await stream.next(1);
      expect(first).toEqual({ upserted_workspaces: [], upserted_agents: [], deleted_workspaces: [], deleted_agents: [] });

      const ws = await admin.createWorkspace({ name: "box", owner: "carol", resources: [{ type: "vm", name: "x", agents: [{ name: "main" }, { name: "dev" }] }] });
      const agents = ws.agents.map((a) => ({ id: a.id, name: a.name, workspace_id: ws.id }));
      const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
      const [, created] = await stream.next(2);
      expect({ ...created, upserted_agents: [...created.upserted_agents].sort(byName) }).toEqual({
        upserted_workspaces: [{ id: ws.id, name: "box", status: "running" }],
        upserted_agents: [...agents].sort(byName),
        deleted_workspaces: [],
        deleted_agents: [],
      });

      // An agent connects and reports its lifecycle: the agents' {id, name, workspace_id} do not change.
      const main = ws.agents.find((a) => a.name === "main")!;
      for (const state of ["starting", "ready"]) {
        const r = await fetch(new URL("/api/v2/workspaceagents/me/report-lifecycle", coord.url), { method: "POST", headers: { "Coder-Session-Token": main.auth_token }, body: JSON.stringify({ state, changed_at: new Date().toISOString() }) });
        expect(r.status).toBe(204);
      }
      expect((await admin.agent(main.id)).status).toBe("connected");
      await quiet(400);
      expect(stream.messages).toHaveLength(2);

      const stop = await admin.createBuild(ws.id, { transition: "stop", job: "running" });
      const [, , stopping] = await stream.next(3);
      expect({ ...stopping, deleted_agents: [...stopping.deleted_agents].sort(byName) }).toEqual({
        upserted_workspaces: [{ id: ws.id, name: "box", status: "stopping" }],
        upserted_agents: [],
        deleted_workspaces: [],
        deleted_agents: [...agents].sort(byName),
      });
      await admin.completeJob(stop.build.job_id, { status: "succeeded" });
      const [, , , stopped] = await stream.next(4);
      expect(stopped).toEqual({ upserted_workspaces: [{ id: ws.id, name: "box", status: "stopped" }], upserted_agents: [], deleted_workspaces: [], deleted_agents: [] });

      await admin.createBuild(ws.id, { transition: "delete" });
      const [, , , , deleted] = await stream.next(5);
      expect(deleted).toEqual({ upserted_workspaces: [], upserted_agents: [], deleted_workspaces: [{ id: ws.id, name: "box", status: "stopped" }], deleted_agents: [] });
      await quiet(400);
      expect(stream.messages).toHaveLength(5);
      // A deleted workspace is gone from the API too (410 Gone, as coderd).
      expect((await fetch(new URL(`/api/v2/workspaces/${ws.id}`, coord.url), { headers: { "Coder-Session-Token": "admin" } })).status).toBe(410);
      stream.close();
    });

    it("a user sees only their own workspaces (first message and diffs); the admin sees all", async () => {
      const dave = await admin.createWorkspace({ name: "d1", owner: "dave", resources: [{ type: "vm", name: "x", agents: [{ name: "a" }] }] });
      const daveStream = await openUpdates(coord.url, await admin.userToken("dave"));
      const erinStream = await openUpdates(coord.url, await admin.userToken("erin"));
      const adminStream = await openUpdates(coord.url, "admin");
      const [daveFirst] = await daveStream.next(1);
      expect(daveFirst.upserted_workspaces.map((w) => w.id)).toEqual([dave.id]);
      expect(daveFirst.upserted_agents).toEqual([{ id: dave.agents[0].id, name: "a", workspace_id: dave.id }]);
      const [erinFirst] = await erinStream.next(1);
      expect(erinFirst.upserted_workspaces).toEqual([]);
      const [adminFirst] = await adminStream.next(1);
      expect(adminFirst.upserted_workspaces.map((w) => w.id)).toContain(dave.id);

      const second = await admin.createWorkspace({ name: "d2", owner: "dave", resources: [] });
      expect((await daveStream.next(2))[1].upserted_workspaces).toEqual([{ id: second.id, name: "d2", status: "running" }]);
      expect((await adminStream.next(2))[1].upserted_workspaces).toEqual([{ id: second.id, name: "d2", status: "running" }]);
      await quiet(300);
      expect(erinStream.messages).toHaveLength(1);
      [daveStream, erinStream, adminStream].forEach((s) => s.close());
    });

    it("a claimed prebuild moves from the prebuilds user to its new owner", async () => {
      const frank = await openUpdates(coord.url, await admin.userToken("frank"));
      await frank.next(1);
      const pb = await admin.createWorkspace({ name: "pb", prebuild: true, resources: [{ type: "vm", name: "x", agents: [{ name: "a" }] }] });
      await quiet(200);
      expect(frank.messages).toHaveLength(1);
      const claimed = await admin.claim(pb.id, { owner: "frank" });
      const [, got] = await frank.next(2);
      expect(got.upserted_workspaces).toEqual([{ id: pb.id, name: "pb", status: "running" }]);
      expect(got.upserted_agents).toEqual([{ id: claimed.build.resources[0].agents[0].id, name: "a", workspace_id: pb.id }]);
      frank.close();
    });

    it("session tokens: issued by the admin only; owner reads and another user gets 403; bad tokens 401", async () => {
      expect((await fetch(new URL("/api/v2/users/gina/keys", coord.url), { method: "POST", headers: { "Coder-Session-Token": "nope" } })).status).toBe(401);
      const gina = await admin.userToken("gina");
      expect(gina).toMatch(/^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
      const hank = await admin.userToken("hank");
      const ws = await admin.createWorkspace({ name: "g", owner: "gina", resources: [{ type: "vm", name: "x", agents: [{ name: "a" }] }] });
      const get = (path: string, token: string) => fetch(new URL(path, coord.url), { headers: { "Coder-Session-Token": token } });
      expect((await get(`/api/v2/workspaces/${ws.id}`, gina)).status).toBe(200);
      expect((await get(`/api/v2/workspaceagents/${ws.agents[0].id}`, gina)).status).toBe(200);
      const forbidden = await get(`/api/v2/workspaces/${ws.id}`, hank);
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { message: string }).message).toBe("Forbidden.");
      expect((await get(`/api/v2/workspaceagents/${ws.agents[0].id}`, hank)).status).toBe(403);
      expect((await get(`/api/v2/workspaces/${ws.id}`, `${gina.slice(0, 11)}${"A".repeat(22)}`)).status).toBe(401);
      expect((await get("/api/v2/users/me/workspace-updates", "")).status).toBe(401);
      // A user token is not an admin token.
      expect((await fetch(new URL("/api/v2/provisioner/workspaces", coord.url), { method: "POST", headers: { "Coder-Session-Token": gina }, body: "{}" })).status).toBe(401);
    });
  });
}
