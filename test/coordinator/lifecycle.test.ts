/**
 * A workspace through start → stop → start → start with kept tokens, as e2e's lifecycle scenario
 * drives it: only the latest build's agents authenticate, old tokens are refused, a token Terraform
 * kept (`keep_tokens`) serves the new build's agent, and identity exchanges see only the latest build.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { trustFromKeys, type IdentityKeys } from "../../src/identity/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { BadRequestError } from "../../src/sdk/client-errors.js";
import { BACKENDS } from "./support/backends.js";
import { identityBody, ROUTE, testKeys } from "./support/identity.js";

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`workspace lifecycle on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let keys: IdentityKeys;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      ({ keys } = await testKeys());
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, trust: trustFromKeys(keys), adminToken: "admin-secret-lifecycle" });
      admin = new AdminClient(coord.url, coord.adminToken);
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const manifest = async (token: string) => {
      const res = await fetch(new URL("/api/v2/workspaceagents/me/manifest", coord.url), { headers: { "Coder-Session-Token": token } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const exchange = async (instanceId: string, name?: string) => {
      const res = await fetch(new URL(ROUTE.aws, coord.url), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await identityBody("aws", keys, instanceId, name)) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it("token agents: a stop refuses every token; a start gives new ones and refuses the old; kept tokens serve the new build", async () => {
      const resources = [{ type: "docker_container", name: "workspace", agents: [{ name: "main" }, { name: "db" }] }];
      const ws = await admin.createWorkspace({ name: `ws-${randomUUID().slice(0, 8)}`, resources });
      const b1 = new Map(ws.agents.map((a) => [a.name, a]));
      expect((await manifest(b1.get("main")!.auth_token)).status).toBe(200);

      const stop = await admin.createBuild(ws.id, { transition: "stop" });
      expect(stop.agents).toEqual([]);
      for (const a of b1.values()) expect((await manifest(a.auth_token)).status).toBe(401);

      const start = await admin.createBuild(ws.id, { transition: "start", resources });
      const b3 = new Map(start.agents.map((a) => [a.name, a]));
      for (const [name, a] of b3) {
        expect(a.auth_token).not.toBe(b1.get(name)!.auth_token);
        expect((await manifest(b1.get(name)!.auth_token)).status).toBe(401);
        const m = await manifest(a.auth_token);
        expect(m.status).toBe(200);
        expect(m.body).toMatchObject({ agent_id: a.id, agent_name: name });
      }

      // Terraform kept coder_agent.main (no count): its token stays, and now names build 4's agent.
      const update = await admin.createBuild(ws.id, { transition: "start", resources, keep_tokens: ["main"] });
      const b4 = new Map(update.agents.map((a) => [a.name, a]));
      expect(b4.get("main")!.auth_token).toBe(b3.get("main")!.auth_token);
      expect(b4.get("db")!.auth_token).not.toBe(b3.get("db")!.auth_token);
      expect((await manifest(b4.get("main")!.auth_token)).body).toMatchObject({ agent_id: b4.get("main")!.id });
      expect(b4.get("main")!.id).not.toBe(b3.get("main")!.id);
      expect((await manifest(b3.get("db")!.auth_token)).status).toBe(401);

      // A kept token survives a stop in between (the agent was not re-created across it).
      await admin.createBuild(ws.id, { transition: "stop" });
      expect((await manifest(b4.get("main")!.auth_token)).status).toBe(401);
      const again = await admin.createBuild(ws.id, { transition: "start", resources, keep_tokens: ["main"] });
      expect(again.agents.find((a) => a.name === "main")!.auth_token).toBe(b4.get("main")!.auth_token);
    });

    it("identity agents: after a stop the instance has no agent (404); after a start only the latest build's agents are candidates", async () => {
      const instanceId = `i-0${randomUUID().replace(/-/g, "").slice(0, 16)}`;
      const resources = [{ type: "aws_instance", name: "workspace", instance_id: instanceId, agents: [{ name: "main", auth: "aws-instance-identity" as const }, { name: "dev", auth: "aws-instance-identity" as const }] }];
      const ws = await admin.createWorkspace({ name: `ws-${randomUUID().slice(0, 8)}`, resources });
      expect((await exchange(instanceId, "dev")).body).toEqual({ session_token: ws.agents.find((a) => a.name === "dev")!.auth_token });

      await admin.createBuild(ws.id, { transition: "stop" });
      for (const name of [undefined, "dev"]) {
        const r = await exchange(instanceId, name);
        expect(r.status).toBe(404);
        expect(r.body.message).toBe(`Instance with id "${instanceId}" not found.`);
      }

      const start = await admin.createBuild(ws.id, { transition: "start", resources });
      // Four agents of this instance exist in the database; two are candidates.
      const none = await exchange(instanceId);
      expect(none.status).toBe(409);
      expect(none.body.message).toBe(`Multiple agents found with instance ID "${instanceId}". Set CODER_AGENT_NAME to one of: dev, main`);
      for (const a of start.agents) {
        const r = await exchange(instanceId, a.name);
        expect(r.body).toEqual({ session_token: a.auth_token });
        expect(r.body.session_token).not.toBe(ws.agents.find((x) => x.name === a.name)!.auth_token);
      }
    });

    it("keep_tokens naming no agent of the build → 400 with the field", async () => {
      const ws = await admin.createWorkspace({ name: `ws-${randomUUID().slice(0, 8)}`, resources: [{ type: "vm", name: "x", agents: [{ name: "main" }] }] });
      const err = await admin.createBuild(ws.id, { transition: "start", resources: [{ type: "vm", name: "x", agents: [{ name: "main" }] }], keep_tokens: ["dev"] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).response).toMatchObject({ message: "Validation failed.", validations: [{ field: "keep_tokens", detail: 'no agent named "dev" in this build' }] });
    });
  });
}
