import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { BACKENDS } from "../coordinator/support/backends.js";

/** Concurrent builds of one workspace on one coordinator (two replicas: postgres.test.ts). Before: 88 of 100 answered 500. */
for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`concurrent builds (${backend.name})`, () => {
    let coord: RunningCoordinator;
    let drop: () => Promise<void>;
    const ADMIN = "concurrent-builds-admin";

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: ADMIN });
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    it("100 at once: every one 201, numbers 2…101 without gap or duplicate, each answer names its own build", async () => {
      const admin = new AdminClient(coord.url, ADMIN);
      const ws = await admin.createWorkspace({ name: "busy", resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
      const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => admin.createBuild(ws.id, { transition: i % 4 ? "start" : "stop" })));
      const failed = results.filter((r) => r.status === "rejected");
      console.info(`concurrent builds (${backend.name}): ${100 - failed.length} × 201, ${failed.length} failed`);
      expect(failed).toEqual([]);
      const builds = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<AdminClient["createBuild"]>>>).value.build);
      expect(builds.map((b) => b.build_number).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      expect((await admin.workspace(ws.id)).latest_build.build_number).toBe(101);
    }, 60_000);
  });
}
