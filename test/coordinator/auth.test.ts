import { randomUUID } from "node:crypto";
import { request } from "node:http";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { signAzureAttestedDocument, signGcpIdentityToken, trustFromKeys, type IdentityKeys } from "../../src/identity/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { BACKENDS } from "./support/backends.js";
import { AUTH_TYPE, identityBody, ROUTE, testKeys, type Cloud } from "./support/identity.js";

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`coordinator instance-identity auth on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let keys: IdentityKeys;
    let other: IdentityKeys;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      ({ keys, other } = await testKeys());
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, trust: trustFromKeys(keys), adminToken: "admin-secret" });
      admin = new AdminClient(coord.url, coord.adminToken);
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const post = async (path: string, body: unknown) => {
      const res = await fetch(new URL(path, coord.url), { method: "POST", headers: { "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const instance = (cloud: Cloud) => (cloud === "aws" ? `i-${randomUUID().replace(/-/g, "").slice(0, 17)}` : cloud === "gcp" ? String(Math.floor(Math.random() * 1e15)) : randomUUID());

    async function workspaceWith(cloud: Cloud, instanceId: string, agents: { name: string; parent?: string }[]) {
      return admin.createWorkspace({
        name: `ws-${randomUUID().slice(0, 8)}`,
        resources: [{ type: "vm", name: "dev", instance_id: instanceId, agents: agents.map((a) => ({ ...a, auth: AUTH_TYPE[cloud] })) }],
      });
    }

    for (const cloud of ["aws", "azure", "gcp"] as const) {
      describe(cloud, () => {
        it("one agent, no name → 200 with that agent's token (legacy path)", async () => {
          const id = instance(cloud);
          const ws = await workspaceWith(cloud, id, [{ name: "main" }]);
          const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id));
          expect(r.status).toBe(200);
          expect(r.body).toEqual({ session_token: ws.agents[0].auth_token });
        });

        it("two root agents and no usable name → 409 listing the names sorted", async () => {
          const id = instance(cloud);
          await workspaceWith(cloud, id, [{ name: "main" }, { name: "dev" }]);
          for (const name of [undefined, "", "   "]) {
            const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id, name));
            expect(r.status, `agent_name=${JSON.stringify(name)}`).toBe(409);
            expect(r.body.message).toBe(`Multiple agents found with instance ID "${id}". Set CODER_AGENT_NAME to one of: dev, main`);
          }
        });

        it("each name gets its own token; names are trimmed", async () => {
          const id = instance(cloud);
          const ws = await workspaceWith(cloud, id, [{ name: "main" }, { name: "dev" }]);
          const tokens = new Set<string>();
          for (const a of ws.agents) {
            const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id, ` ${a.name} `));
            expect(r.status).toBe(200);
            expect(r.body.session_token).toBe(a.auth_token);
            tokens.add(r.body.session_token);
          }
          expect(tokens.size).toBe(2);
        });

        it("an unknown name → 404; an unknown instance → 404", async () => {
          const id = instance(cloud);
          await workspaceWith(cloud, id, [{ name: "main" }, { name: "dev" }]);
          const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id, "mian"));
          expect(r.status).toBe(404);
          expect(r.body.message).toBe(`No agent found with instance ID "${id}" and name "mian".`);
          const missing = instance(cloud);
          const r2 = await post(ROUTE[cloud], await identityBody(cloud, keys, missing));
          expect(r2.status).toBe(404);
          expect(r2.body.message).toBe(`Instance with id "${missing}" not found.`);
        });

        it("a dev-container sub-agent sharing the instance ID is not a candidate", async () => {
          const id = instance(cloud);
          const ws = await workspaceWith(cloud, id, [{ name: "main" }, { name: "devcontainer", parent: "main" }]);
          const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id));
          expect(r.status).toBe(200);
          expect(r.body.session_token).toBe(ws.agents.find((a) => a.name === "main")!.auth_token);
        });

        it("agents of a previous build are not candidates", async () => {
          const id = instance(cloud);
          const ws = await workspaceWith(cloud, id, [{ name: "old" }]);
          const next = await admin.createBuild(ws.id, { transition: "start", resources: [{ type: "vm", name: "dev", instance_id: id, agents: [{ name: "new", auth: AUTH_TYPE[cloud] }] }] });
          const r = await post(ROUTE[cloud], await identityBody(cloud, keys, id));
          expect(r.status).toBe(200);
          expect(r.body.session_token).toBe(next.agents[0].auth_token);
          const old = await post(ROUTE[cloud], await identityBody(cloud, keys, id, "old"));
          expect(old.status).toBe(404);
        });

        it("an identity signed by an untrusted key → 401", async () => {
          const id = instance(cloud);
          await workspaceWith(cloud, id, [{ name: "main" }]);
          const r = await post(ROUTE[cloud], await identityBody(cloud, other, id));
          expect(r.status).toBe(401);
          expect(r.body.message).toBe(`Invalid ${cloud === "gcp" ? "GCP" : cloud === "aws" ? "AWS" : "Azure"} identity.`);
          expect(typeof r.body.detail).toBe("string");
        });

        it("a malformed body → 400 with validations", async () => {
          const r = await post(ROUTE[cloud], { agent_name: "main" });
          expect(r.status).toBe(400);
          expect(r.body.message).toBe("Validation failed.");
          expect(r.body.validations.length).toBeGreaterThan(0);
        });
      });
    }

    it("AWS: a tampered document → 401", async () => {
      const id = instance("aws");
      await workspaceWith("aws", id, [{ name: "main" }]);
      const body = await identityBody("aws", keys, id);
      body.document = String(body.document).replace(id, instance("aws"));
      const r = await post(ROUTE.aws, body);
      expect(r.status).toBe(401);
      expect(r.body.message).toBe("Invalid AWS identity.");
    });

    it("Azure: a PKCS#7 whose chain is valid but whose content was replaced → 401", async () => {
      const victim = instance("azure");
      await workspaceWith("azure", victim, [{ name: "main" }]);
      const body = { ...signAzureAttestedDocument(keys, { vmId: instance("azure") }, { signedAttributes: true }) } as Record<string, unknown>;
      const asn = forge.asn1.fromDer(Buffer.from(String(body.signature), "base64").toString("binary"));
      const signedData = (asn.value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[];
      const explicit = (((signedData[0].value as forge.asn1.Asn1[])[2].value as forge.asn1.Asn1[])[1]);
      (explicit.value as forge.asn1.Asn1[])[0] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, JSON.stringify({ vmId: victim }));
      body.signature = Buffer.from(forge.asn1.toDer(asn).getBytes(), "binary").toString("base64");
      const r = await post(ROUTE.azure, body);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ message: "Invalid Azure identity.", detail: "content does not match the signed message digest" });
    });

    it("GCP: an expired token → 401", async () => {
      const id = instance("gcp");
      await workspaceWith("gcp", id, [{ name: "main" }]);
      const token = await signGcpIdentityToken(keys, { instanceId: id, audience: "coder", now: new Date(Date.now() - 7200_000), ttlSeconds: 600 });
      const r = await post(ROUTE.gcp, { json_web_token: token });
      expect(r.status).toBe(401);
      expect(r.body.message).toBe("Invalid GCP identity.");
      expect(r.body.detail).toMatch(/^token expired/);
    });

    it("malformed JSON → 400; a body over 1 MiB → 413", async () => {
      const bad = await post(ROUTE.aws, "{not json");
      expect(bad.status).toBe(400);
      expect(bad.body.message).toBe("Request body must be valid JSON.");
      // Its own connection: the server answers before reading the whole body and closes it.
      const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(new URL(ROUTE.aws, coord.url), { method: "POST", agent: false, headers: { "Content-Type": "application/json" } }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end(JSON.stringify({ document: "x".repeat(1 << 20), signature: "y" }));
      });
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body).message).toBe("Request body too large.");
    });

    it("agent routes: unknown token → 401; manifest and lifecycle with a valid one; connection recorded", async () => {
      const id = instance("aws");
      const ws = await workspaceWith("aws", id, [{ name: "main" }]);
      const unknown = await fetch(new URL("/api/v2/workspaceagents/me/manifest", coord.url), { headers: { "Coder-Session-Token": randomUUID() } });
      expect(unknown.status).toBe(401);
      const missing = await fetch(new URL("/api/v2/workspaceagents/me/manifest", coord.url));
      expect(missing.status).toBe(401);
      const headers = { "Coder-Session-Token": ws.agents[0].auth_token, "Content-Type": "application/json" };
      const manifest = await (await fetch(new URL("/api/v2/workspaceagents/me/manifest", coord.url), { headers })).json();
      expect(manifest).toMatchObject({ agent_id: ws.agents[0].id, agent_name: "main", workspace_id: ws.id, workspace_name: ws.name, owner_name: "admin", apps: [], scripts: [] });
      const lc = await fetch(new URL("/api/v2/workspaceagents/me/report-lifecycle", coord.url), { method: "POST", headers, body: JSON.stringify({ state: "ready", changed_at: new Date().toISOString() }) });
      expect(lc.status).toBe(204);
      const badState = await fetch(new URL("/api/v2/workspaceagents/me/report-lifecycle", coord.url), { method: "POST", headers, body: JSON.stringify({ state: "dancing", changed_at: "x" }) });
      expect(badState.status).toBe(400);
      const agent = await admin.agent(ws.agents[0].id);
      expect(agent).toMatchObject({ name: "main", lifecycle_state: "ready", status: "connected" });
      expect(agent.first_connected_at).not.toBeNull();
    });

    it("admin API: token required, bodies validated, workspaces in coderd's shape", async () => {
      const noAuth = await fetch(new URL("/api/v2/provisioner/workspaces", coord.url), { method: "POST", body: "{}" });
      expect(noAuth.status).toBe(401);
      const bad = await fetch(new URL("/api/v2/provisioner/workspaces", coord.url), {
        method: "POST",
        headers: { "Coder-Session-Token": coord.adminToken },
        body: JSON.stringify({ name: "bad name!", resources: [{ type: "vm", name: "x", agents: [{ name: "a_b", auth: "password" }] }] }),
      });
      expect(bad.status).toBe(400);
      const body = (await bad.json()) as { validations: { field: string }[] };
      expect(body.validations.map((v) => v.field).sort()).toEqual(["name", "resources.0.agents.0.auth", "resources.0.agents.0.name"]);
      const ws = await admin.createWorkspace({ name: "shape", owner: "alice", resources: [{ type: "aws_instance", name: "dev", instance_id: "i-shape", agents: [{ name: "main", auth: "aws-instance-identity" }] }] });
      const got = await admin.workspace(ws.id);
      expect(got).toMatchObject({ name: "shape", owner_name: "alice", latest_app_status: null, latest_build: { build_number: 1, transition: "start", initiator_id: got.owner_id, job: { status: "succeeded" } } });
      expect(got.latest_build.resources[0]).toMatchObject({ type: "aws_instance", name: "dev", instance_id: "i-shape", agents: [{ name: "main", status: "connecting", lifecycle_state: "created" }] });
      const missing = await fetch(new URL(`/api/v2/workspaces/${randomUUID()}`, coord.url), { headers: { "Coder-Session-Token": coord.adminToken } });
      expect(missing.status).toBe(404);
    });

    it("jobs complete once", async () => {
      const ws = await admin.createWorkspace({ name: "jobs", job: "running", resources: [] });
      const done = await admin.completeJob(ws.latest_build.job_id, { status: "failed", error: "boom" });
      expect(done.job).toMatchObject({ status: "failed", error: "boom" });
      await expect(admin.completeJob(ws.latest_build.job_id, { status: "succeeded" })).rejects.toMatchObject({ status: 409 });
    });

    it("serves the agent launcher", async () => {
      const res = await fetch(new URL("/bin/coder-linux-amd64", coord.url));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^#!\/bin\/sh\n/);
      expect(text).toContain("bin/provisioner.js' \"$@\"");
      expect((await fetch(new URL("/bin/coder-plan9-mips", coord.url))).status).toBe(404);
    });
  });
}
