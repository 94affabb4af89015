import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { BACKENDS } from "../coordinator/support/backends.js";
import { openReinit } from "../coordinator/support/sse.js";

/**
 * Reinit stream clients that leave while the server still subscribes and runs the durable check.
 * Before, such a stream kept its ping timer, its subscription and the agent's "connected" status
 * for ever (200 of 200 after 62 s).
 */
for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`reinit streams whose client is already gone (${backend.name})`, () => {
    let coord: RunningCoordinator;
    let drop: () => Promise<void>;
    const ADMIN = "reinit-leak-admin-token";

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: ADMIN, ssePingMs: 100 });
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const health = async () => (await (await fetch(new URL("/healthz", coord.url))).json()) as { reinit_streams: number; event_streams: number };

    /** Sends the request and closes the socket right away (after `delayMs`), without reading the answer. */
    const openAndLeave = (token: string, delayMs: number, path = "/api/v2/workspaceagents/me/reinit?wait=true") =>
      new Promise<void>((resolve) => {
        const u = new URL(path, coord.url);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { "Coder-Session-Token": token } });
        req.on("error", () => resolve());
        req.on("close", () => resolve());
        // Gone as soon as the request is on the wire (or a little later).
        req.end(() => (delayMs ? setTimeout(() => req.destroy(), delayMs) : req.destroy()));
      });

    it("200 clients leaving during the check leave no stream, timer or subscription behind; a new stream still gets the claim", async () => {
      const admin = new AdminClient(coord.url, ADMIN);
      const ws = await admin.createWorkspace({ name: "leak", prebuild: true, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }, { name: "dev" }] }] });
      const token = ws.agents[0].auth_token;
      // Writes queued at the same time keep the database busy: the checks finish after the clients left.
      const busy = Array.from({ length: 100 }, (_, i) => admin.createWorkspace({ name: `busy-${i}`, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] }));
      await Promise.all([...busy, ...Array.from({ length: 200 }, (_, i) => openAndLeave(token, i % 2))]);
      // Every stream that did open ends when its client is gone.
      const deadline = Date.now() + 5_000;
      while ((await health()).reinit_streams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const left = (await health()).reinit_streams;
      console.info(`reinit (${backend.name}): 200 clients gone during the durable check, ${left} streams left open`);
      expect(left).toBe(0);

      const stream = await openReinit(coord.url, ws.agents[1].auth_token);
      expect(stream.status).toBe(200);
      expect((await health()).reinit_streams).toBe(1);
      await admin.claim(ws.id, { owner: "alice" });
      expect(await stream.nextData()).toMatchObject({ workspace_id: ws.id, reason: "prebuild_claimed" });
      await stream.ended;
      expect((await health()).reinit_streams).toBe(0);
    }, 30_000);

    it("the same for log-follow and workspace-updates streams", async () => {
      const admin = new AdminClient(coord.url, ADMIN);
      const ws = await admin.createWorkspace({ name: "leak2", resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] });
      const busy = Array.from({ length: 50 }, (_, i) => admin.createWorkspace({ name: `busy2-${i}`, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] }));
      const paths = ["/api/v2/users/me/workspace-updates", `/api/v2/workspaceagents/${ws.agents[0].id}/logs?follow=true`];
      await Promise.all([...busy, ...Array.from({ length: 100 }, (_, i) => openAndLeave(ADMIN, i % 2, paths[i % 2]))]);
      const deadline = Date.now() + 5_000;
      while ((await health()).event_streams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const left = (await health()).event_streams;
      console.info(`event streams (${backend.name}): 100 clients gone while the route queried, ${left} streams left open`);
      expect(left).toBe(0);
    }, 30_000);
  });
}
