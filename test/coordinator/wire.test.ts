import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { real } from "../support/real-identities.js";
import { BACKENDS } from "./support/backends.js";
import { noDataWithin, openReinit } from "./support/sse.js";

/**
 * A client shaped like coderd's Go agent SDK: it authenticates the reinit stream with the
 * coder_session_token cookie only, and reads it with codersdk.ServerSentEventReader's rules (an
 * `event:` line, then for data and error exactly one `data:` line; blank lines skipped; anything
 * else is an error), decoding the event as Go's encoding/json does (keys case-insensitive).
 */
async function goAgentReinit(baseUrl: string, token: string, timeoutMs = 10_000): Promise<{ status: number; events: { type: string; data?: unknown }[]; error?: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL("/api/v2/workspaceagents/me/reinit?wait=true", baseUrl);
    const req = request(url, { headers: { Cookie: `coder_session_token=${token}` }, agent: false }, (res) => {
      const events: { type: string; data?: unknown }[] = [];
      if (res.statusCode !== 200) {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, events: [{ type: "response", data: JSON.parse(body) }] }));
        return;
      }
      let buffer = "";
      let pendingType: string | undefined;
      const timer = setTimeout(() => (req.destroy(), resolve({ status: 200, events, error: "timeout" })), timeoutMs);
      const fail = (error: string) => (clearTimeout(timer), req.destroy(), resolve({ status: 200, events, error }));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl + 1);
          buffer = buffer.slice(nl + 1);
          if (line === "\n") continue;
          if (pendingType === undefined) {
            if (!line.startsWith("event: ")) return fail(`expecting event: prefix, got: ${line}`);
            const type = line.slice("event: ".length).trim();
            if (type === "ping") events.push({ type });
            else if (type === "data" || type === "error") pendingType = type;
            else return fail(`unknown event type: ${type}`);
          } else {
            if (!line.startsWith("data: ")) return fail(`expecting data: prefix, got: ${line}`);
            const raw = JSON.parse(line.slice("data: ".length).trim()) as Record<string, unknown>;
            // encoding/json into struct{WorkspaceID `json:"workspace_id"`; Reason `json:"reason"`; UserID `json:"user_id"`}.
            const field = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
            events.push({ type: pendingType, data: pendingType === "data" ? { WorkspaceID: field("workspace_id"), Reason: field("reason"), UserID: field("user_id") } : raw });
            pendingType = undefined;
          }
        }
      });
      res.on("end", () => (clearTimeout(timer), resolve({ status: 200, events })));
    });
    req.on("error", reject);
    req.end();
  });
}

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`coderd wire compatibility on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      // Default trust: the bundled certificates, no flag.
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: "admin", ssePingMs: 100 });
      admin = new AdminClient(coord.url, "admin");
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const regular = (name = "main") =>
      admin.createWorkspace({ name: `ws-${randomUUID().slice(0, 8)}`, owner: "ann", resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name }] }] });
    const prebuild = () =>
      admin.createWorkspace({ name: `pb-${randomUUID().slice(0, 8)}`, prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
    const manifest = (init: { headers?: Record<string, string>; query?: string }) =>
      fetch(new URL(`/api/v2/workspaceagents/me/manifest${init.query ?? ""}`, coord.url), { headers: init.headers });

    it("agent token from the header, the coder_session_token cookie or query parameter on /me/*; coderd's 401s", async () => {
      const ws = await regular();
      const token = ws.agents[0].auth_token;
      const sources: { headers?: Record<string, string>; query?: string }[] = [
        { headers: { "Coder-Session-Token": token } },
        { headers: { Cookie: `other=1; coder_session_token=${token}` } },
        { query: `?coder_session_token=${token}` },
      ];
      for (const init of sources) {
        const res = await manifest(init);
        expect(res.status, JSON.stringify(init)).toBe(200);
        expect(((await res.json()) as { agent_id: string }).agent_id).toBe(ws.agents[0].id);
      }
      const lifecycle = await fetch(new URL(`/api/v2/workspaceagents/me/report-lifecycle?coder_session_token=${token}`, coord.url), {
        method: "POST",
        body: JSON.stringify({ state: "ready", changed_at: new Date().toISOString() }),
      });
      expect(lifecycle.status).toBe(204);

      const none = await manifest({});
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ message: 'Cookie "coder_session_token" must be provided.' });
      const notUuid = await manifest({ headers: { Cookie: "coder_session_token=abc" } });
      expect(await notUuid.json()).toEqual({ message: "Workspace agent token invalid.", detail: "An agent token must be a valid UUIDv4. (len 3)" });
      const unknown = await manifest({ query: `?coder_session_token=${randomUUID()}` });
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toMatchObject({ message: "Workspace agent not authorized." });
    });

    it("a token of a superseded build is refused (latest build only), the new build's works", async () => {
      const ws = await regular();
      const old = ws.agents[0].auth_token;
      expect((await manifest({ headers: { "Coder-Session-Token": old } })).status).toBe(200);
      const next = await admin.createBuild(ws.id, { transition: "start" });
      const refused = await manifest({ headers: { "Coder-Session-Token": old } });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ message: "Workspace agent not authorized.", detail: expect.stringMatching(/this agent is invalid/) });
      expect((await manifest({ headers: { "Coder-Session-Token": next.agents[0].auth_token } })).status).toBe(200);
      // A reinit stream too, from any token source.
      expect((await openReinit(coord.url, old)).status).toBe(401);
      expect((await goAgentReinit(coord.url, old)).status).toBe(401);
    });

    it("a delete build deletes the workspace: tokens 401, identities 404, GET 410, no further build", async () => {
      const instanceId = "i-076e9b91f7c420782"; // the real AWS document's instance, verified by the bundled certificate
      const ws = await admin.createWorkspace({ name: "doomed", resources: [{ type: "aws_instance", name: "dev", instance_id: instanceId, agents: [{ name: "main", auth: "aws-instance-identity" }] }] });
      const identity = { document: real("aws/document.json").toString("utf8"), signature: real("aws/signature.txt").toString("utf8").trim() };
      const auth = () => fetch(new URL("/api/v2/workspaceagents/aws-instance-identity", coord.url), { method: "POST", body: JSON.stringify(identity) });
      const before = await auth();
      expect(before.status).toBe(200);
      expect(await before.json()).toEqual({ session_token: ws.agents[0].auth_token });

      const deleted = await admin.createBuild(ws.id, { transition: "delete" });
      expect(deleted.build).toMatchObject({ transition: "delete", build_number: 2, resources: [] });
      const token = await manifest({ headers: { "Coder-Session-Token": ws.agents[0].auth_token } });
      expect(token.status).toBe(401);
      expect(await token.json()).toEqual({ message: "Workspace agent not authorized.", detail: "The agent token belongs to a deleted workspace." });
      const after = await auth();
      expect(after.status).toBe(404);
      expect(await after.json()).toMatchObject({ message: `Instance with id "${instanceId}" not found.` });
      const get = await fetch(new URL(`/api/v2/workspaces/${ws.id}`, coord.url), { headers: { "Coder-Session-Token": "admin" } });
      expect(get.status).toBe(410);
      expect(((await get.json()) as { message: string }).message).toMatch(/^Workspace ".+" was deleted, you can view this workspace by specifying '\?include_deleted=true'/);
      expect((await admin.workspace(`${ws.id}?include_deleted=true`)).latest_build.transition).toBe("delete");
      expect((await fetch(new URL(`/api/v2/workspaceagents/${ws.agents[0].id}`, coord.url), { headers: { "Coder-Session-Token": "admin" } })).status).toBe(404);
      await expect(admin.createBuild(ws.id, { transition: "start" })).rejects.toMatchObject({ status: 410 });
    });

    it("a delete build still running deletes the workspace when its job succeeds", async () => {
      const ws = await regular();
      const running = await admin.createBuild(ws.id, { transition: "delete", job: "running" });
      expect((await admin.workspace(ws.id)).latest_build.job.status).toBe("running");
      await admin.completeJob(running.build.job_id, { status: "succeeded" });
      await expect(admin.workspace(ws.id)).rejects.toMatchObject({ status: 410 });
    });

    it("Go agent SDK: cookie-authenticated reinit stream, reads past pings, decodes the event", async () => {
      const ws = await prebuild();
      const reading = goAgentReinit(coord.url, ws.agents[0].auth_token);
      await new Promise((r) => setTimeout(r, 350)); // a few pings first
      const claimed = await admin.claim(ws.id, { owner: "gopher" });
      const got = await reading;
      expect(got.error).toBeUndefined();
      expect(got.status).toBe(200);
      const pings = got.events.filter((e) => e.type === "ping");
      expect(pings.length).toBeGreaterThanOrEqual(2);
      expect(got.events.at(-1)).toEqual({ type: "data", data: { WorkspaceID: ws.id, Reason: "prebuild_claimed", UserID: claimed.workspace.owner_id } });
    });

    it("the ping frame is exactly `event: ping` and a blank line; the event JSON is {workspace_id, reason, user_id}", async () => {
      const ws = await prebuild();
      const res = await fetch(new URL("/api/v2/workspaceagents/me/reinit?wait=true", coord.url), { headers: { "Coder-Session-Token": ws.agents[0].auth_token } });
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("event: ping\n\n")) text += new TextDecoder().decode((await reader.read()).value);
      const claimed = await admin.claim(ws.id, { owner: "framer" });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const frames = text.split("\n\n").filter(Boolean);
      expect(new Set(frames.slice(0, -1))).toEqual(new Set(["event: ping"]));
      expect(frames.at(-1)).toBe(`event: data\ndata: ${JSON.stringify({ workspace_id: ws.id, reason: "prebuild_claimed", user_id: claimed.workspace.owner_id })}`);
    });

    it("a failed claim build: 409 Claim build failed permanently. on the open stream (which ends) and on a new one", async () => {
      const ws = await prebuild();
      const open = await openReinit(coord.url, ws.agents[0].auth_token);
      const goOpen = goAgentReinit(coord.url, ws.agents[0].auth_token);
      const claimed = await admin.claim(ws.id, { owner: "unlucky", job: "running" });
      expect(await noDataWithin(open, 300)).toBe(true);
      await admin.completeJob(claimed.build.job_id, { status: "failed", error: "terraform apply: quota exceeded" });
      await open.ended;
      const error = open.events.find((e) => e.event === "error");
      expect(JSON.parse(error!.data)).toEqual({ message: "Claim build failed permanently.", detail: "terraform apply: quota exceeded" });
      expect(open.events.some((e) => e.event === "data")).toBe(false);
      expect((await goOpen).events.at(-1)).toEqual({ type: "error", data: { message: "Claim build failed permanently.", detail: "terraform apply: quota exceeded" } });
      const again = await openReinit(coord.url, ws.agents[0].auth_token);
      expect(again.status).toBe(409);
      expect(JSON.parse(again.body)).toEqual({ message: "Claim build failed permanently.", detail: "terraform apply: quota exceeded" });
    });

    it("JSON: a wrong JSON type is `Request body must be valid JSON.`, a missing field `Validation failed.`; charset=utf-8", async () => {
      const post = (body: string) => fetch(new URL("/api/v2/workspaceagents/aws-instance-identity", coord.url), { method: "POST", body });
      for (const body of ['{"document": 5, "signature": "x"}', "[]", '"text"', '{"document": {}, "signature": "x"}']) {
        const res = await post(body);
        expect(res.status, body).toBe(400);
        expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
        expect(((await res.json()) as { message: string }).message, body).toBe("Request body must be valid JSON.");
      }
      const missing = await post('{"signature": "x"}');
      expect(await missing.json()).toMatchObject({ message: "Validation failed.", validations: [{ field: "document" }] });
      const ok = await fetch(new URL("/healthz", coord.url));
      expect(ok.headers.get("content-type")).toBe("application/json; charset=utf-8");
      const notFound = await fetch(new URL("/nope", coord.url));
      expect(notFound.headers.get("content-type")).toBe("application/json; charset=utf-8");
    });

    it("Azure: a stuffed or malformed signature is 401 Invalid Azure identity., never 500", async () => {
      const post = (body: unknown) => fetch(new URL("/api/v2/workspaceagents/azure-instance-identity", coord.url), { method: "POST", body: JSON.stringify(body) });
      const cert = real("azure/certs/digicert-global-root-g2.pem").toString("utf8").replace(/-----[^-]+-----|\s/g, "");
      const der = Buffer.from(cert, "base64");
      // 700 certificates inside a SignedData, under the 1 MiB body limit.
      const stuffed = Buffer.concat([Buffer.from([0x30, 0x83, 0, 0, 0]), ...Array.from({ length: 700 }, () => der)]);
      for (const signature of [stuffed.toString("base64"), Buffer.from([0x30, 0x03, 0x06, 0x01, 0x00]).toString("base64"), "AAAA", real("azure/rsa-2024.b64").toString("utf8").slice(0, 2000)]) {
        const res = await post({ encoding: "pkcs7", signature });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { message: string }).message).toBe("Invalid Azure identity.");
      }
      const expired = await post({ encoding: "pkcs7", signature: real("azure/rsa-2024.b64").toString("utf8").trim() });
      expect(await expired.json()).toMatchObject({ message: "Invalid Azure identity.", detail: expect.stringMatching(/^signer certificate metadata\.azure\.com expired at /) });
    });
  });
}
