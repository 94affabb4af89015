import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { trustFromKeys, type IdentityKeys } from "../../src/identity/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import type { CreateWorkspaceResponse } from "../../src/sdk/admin.js";
import { BACKENDS } from "../coordinator/support/backends.js";
import { identityBody, testKeys } from "../coordinator/support/identity.js";

/** What the database says about itself: it must never reach a client. */
const DATABASE_TEXT =
  /relation "|column "|syntax error|violates|invalid input syntax|invalid input value|duplicate key|null value in column|out of range for type|invalid byte sequence|current transaction is aborted|index row size|could not extend|No space left|SQLSTATE|pg_/i;

/** A small seeded PRNG: the fuzz run is the same every time. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`client mistakes on every route (${backend.name}): 400/401/404/405/409/410/413, never 5xx, never database text`, () => {
    let coord: RunningCoordinator;
    let drop: () => Promise<void>;
    let keys: IdentityKeys;
    let ws: CreateWorkspaceResponse;
    let prebuild: CreateWorkspaceResponse;
    const ADMIN = "an-admin-token-of-some-length";

    beforeAll(async () => {
      ({ keys } = await testKeys());
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, trust: trustFromKeys(keys), adminToken: ADMIN, ssePingMs: 200 });
      const admin = new AdminClient(coord.url, ADMIN);
      ws = await admin.createWorkspace({ name: "fuzz", resources: [{ type: "vm", name: "dev", instance_id: "i-fuzz", agents: [{ name: "main", auth: "aws-instance-identity" }] }] });
      prebuild = await admin.createWorkspace({ name: "fuzz-pb", prebuild: true, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] });
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const send = async (method: string, path: string, opts: { body?: string; token?: string; headers?: Record<string, string> } = {}) => {
      const res = await fetch(new URL(path, coord.url), {
        method,
        headers: { ...(opts.token !== undefined ? { "Coder-Session-Token": opts.token } : {}), "Content-Type": "application/json", ...opts.headers },
        body: method === "GET" || method === "HEAD" ? undefined : opts.body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = method === "HEAD" ? "" : await res.text();
      return { status: res.status, allow: res.headers.get("allow"), text, json: text.startsWith("{") ? (JSON.parse(text) as Record<string, any>) : undefined };
    };

    it('ids that are not UUIDs: 400 Invalid UUID "…". (coderd\'s words), on every route with one', async () => {
      for (const [method, path, body] of [
        ["GET", "/api/v2/workspaces/not-a-uuid"],
        ["GET", "/api/v2/workspaces/%00"],
        ["GET", `/api/v2/workspaces/${"a".repeat(10_000)}`],
        ["GET", "/api/v2/workspaceagents/12345"],
        ["POST", "/api/v2/provisioner/workspaces/x/builds", '{"transition":"start"}'],
        ["POST", "/api/v2/provisioner/jobs/' OR 1=1 --/complete", '{"status":"succeeded"}'],
        ["POST", "/api/v2/provisioner/workspaces/00000000-0000-0000-0000-00000000000g/claim", '{"owner":"x"}'],
        ["POST", "/api/v2/provisioner/jobs/x/logs", '{"logs":[]}'],
        ["GET", "/api/v2/workspaceagents/x/logs"],
        ["GET", "/api/v2/workspaceagents/x/containers"],
        ["GET", "/api/v2/workspacebuilds/x/timings"],
        ["GET", `/api/v2/templateversions/${randomUUID()}/dry-run/x/logs`],
      ] as const) {
        const r = await send(method, path, { token: ADMIN, body });
        expect(r.status, `${method} ${path.slice(0, 60)}`).toBe(400);
        expect(r.json!.message).toMatch(/^Invalid UUID ".*"\.$/);
      }
      expect((await send("GET", `/api/v2/workspaces/${"a".repeat(10_000)}`, { token: ADMIN })).json!.message).toBe(`Invalid UUID "${"a".repeat(64)}…".`);
    });

    it("a wrong method: 405 with Allow (GET and HEAD on POST routes too)", async () => {
      const cases: [string, string, string, string?][] = [
        ["GET", "/api/v2/provisioner/workspaces", "POST", ADMIN],
        ["HEAD", "/api/v2/provisioner/workspaces", "POST", ADMIN],
        ["DELETE", `/api/v2/workspaces/${ws.id}`, "GET, HEAD", ADMIN],
        ["GET", `/api/v2/provisioner/jobs/${randomUUID()}/complete`, "POST", ADMIN],
        ["PUT", "/api/v2/workspaceagents/aws-instance-identity", "GET, HEAD, POST"],
        ["GET", "/api/v2/workspaceagents/me/report-lifecycle", "POST", ws.agents[0].auth_token],
        ["HEAD", "/api/v2/workspaceagents/me/report-lifecycle", "POST", ws.agents[0].auth_token],
        ["POST", "/healthz", "GET, HEAD"],
      ];
      for (const [method, path, allow, token] of cases) {
        const r = await send(method, path, { token, body: "{}" });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.allow, `${method} ${path}`).toBe(allow);
      }
      // A POST route shadowed by GET /api/v2/workspaceagents/:id is still a 405, not "Invalid UUID.".
      const shadowed = await send("GET", "/api/v2/workspaceagents/aws-instance-identity", { token: ADMIN });
      expect(shadowed.status).toBe(405);
      expect(shadowed.allow).toBe("POST");
    });

    it("NUL bytes, bad timestamps, oversized values: 400 naming the field", async () => {
      const create = (body: unknown) => send("POST", "/api/v2/provisioner/workspaces", { token: ADMIN, body: JSON.stringify(body) });
      const nul = await create({ name: "a\u0000b" });
      expect(nul.status).toBe(400);
      expect(nul.json!.validations).toEqual([{ field: "name", detail: "must not contain NUL characters" }]);
      const nulDeep = await create({ name: "ok", resources: [{ type: "vm", name: "dev", agents: [{ name: "main", scripts: [{ display_name: "x", script: "echo \u0000" }] }] }] });
      expect(nulDeep.json!.validations[0].field).toBe("resources.0.agents.0.scripts.0.script");
      const long = await create({ name: "ok", resources: [{ type: "vm", name: "dev", instance_id: "i".repeat(10_000), agents: [] }] });
      expect(long.status).toBe(400);
      expect(long.json!.validations[0]).toMatchObject({ field: "resources.0.instance_id", detail: "at most 255 characters" });
      const lifecycle = await send("POST", "/api/v2/workspaceagents/me/report-lifecycle", { token: ws.agents[0].auth_token, body: JSON.stringify({ state: "ready", changed_at: "yesterday" }) });
      expect(lifecycle.status).toBe(400);
      expect(lifecycle.json!.validations[0].field).toBe("changed_at");
      const job = await send("POST", `/api/v2/provisioner/jobs/${ws.latest_build.job_id}/complete`, { token: ADMIN, body: JSON.stringify({ status: "failed", error: "e\u0000" }) });
      expect(job.status).toBe(400);
      // An instance identity naming a 10 kB instance ID: verified, and simply not found.
      const auth = await send("POST", "/api/v2/workspaceagents/aws-instance-identity", { body: JSON.stringify(await identityBody("aws", keys, "i".repeat(10_000))) });
      expect(auth.status).toBe(404);
    });

    it("an empty or missing admin header never matches", async () => {
      for (const token of [undefined, "", " ", ADMIN.slice(0, -1), `${ADMIN}x`]) {
        const r = await send("POST", "/api/v2/provisioner/workspaces", { token, body: '{"name":"x"}' });
        expect(r.status, JSON.stringify(token)).toBe(401);
      }
    });

    it("2,000 fuzzed requests over every route: no 5xx, no database text", async () => {
      const random = prng(backend.name === "pglite" ? 11 : 12);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
      const ids = () => [randomUUID(), ws.id, ws.latest_build.job_id, ws.agents[0].id, prebuild.id, "me", "not-a-uuid", "%00", "%E2%80%AE", "1", "-1", "a".repeat(300), "00000000-0000-0000-0000-000000000000"];
      const strings = ["", " ", "\u0000", "a\u0000b", "x".repeat(5000), "é", "'; DROP TABLE users; --", "null", "yesterday", "2024-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"];
      const values = (): unknown => pick([pick(strings), 0, -1, 1e308, 2 ** 53 + 1, true, null, [], {}, [pick(strings)], { a: pick(strings) }]);
      /** A body close to what each route reads, with wrong types, NULs and missing fields mixed in. */
      const bodies: [RegExp, () => Record<string, unknown>][] = [
        [/\/builds$/, () => ({ transition: pick(["start", "stop", "delete", "bogus", 1]), initiator: values(), job: pick(["succeeded", "running", "failed", values()]) })],
        [/\/complete$/, () => ({ status: pick(["succeeded", "failed", "running", values()]), error: values() })],
        [/\/claim$/, () => ({ owner: values(), job: pick(["succeeded", "running", values()]) })],
        [/report-lifecycle/, () => ({ state: pick(["starting", "ready", "bogus", values()]), changed_at: values() })],
        [/instance-identity/, () => ({ signature: values(), document: values(), encoding: values(), json_web_token: values(), agent_name: values() })],
        [/\/logs$/, () => ({ log_source_id: values(), logs: pick([[], values(), [{ created_at: values(), output: values(), level: values(), stage: values(), source: values() }]]) })],
        [/log-source/, () => ({ id: values(), display_name: values(), icon: values() })],
        [/script-timings/, () => ({ script_id: values(), start: values(), end: values(), exit_code: values(), stage: values(), status: values() })],
        [/app-status/, () => ({ app_slug: values(), state: pick(["working", "idle", values()]), message: values(), uri: values() })],
        [/app-health/, () => ({ healths: pick([values(), { [randomUUID()]: values() }]) })],
        [/api-address/, () => ({ url: values() })],
        [/\/timings$/, () => ({ timings: pick([values(), [{ started_at: values(), ended_at: values(), stage: values(), source: values(), action: values(), resource: values() }]]) })],
      ];
      const workspaceBody = (): Record<string, unknown> => ({
        name: pick(["ok", ...strings]),
        owner: values(),
        prebuild: values(),
        job: values(),
        resources: pick([[], values(), [{ type: values(), name: values(), instance_id: values(), agents: [{ name: values(), auth: values(), parent: values(), apps: [{ slug: values() }], scripts: [{ display_name: values(), script: values(), timeout: values() }] }] }]]),
      });
      const bodyFor = (path: string): string => {
        if (random() < 0.1) return pick(["", "{", "[]", "null", '"x"', '{"a":', "\u0000", "{}".repeat(3)]);
        const body = (bodies.find(([re]) => re.test(path.split("?")[0]))?.[1] ?? workspaceBody)();
        for (const k of Object.keys(body)) if (random() < 0.3) delete body[k];
        return JSON.stringify(body);
      };
      const routes = (): [path: string, method: string] => {
        const id = pick(ids());
        return pick<[string, string]>([
          ["/api/v2/provisioner/workspaces", "POST"],
          [`/api/v2/provisioner/workspaces/${id}/builds`, "POST"],
          [`/api/v2/provisioner/workspaces/${id}/claim`, "POST"],
          [`/api/v2/provisioner/jobs/${id}/complete`, "POST"],
          [`/api/v2/provisioner/jobs/${id}/logs`, "POST"],
          [`/api/v2/provisioner/jobs/${id}/timings`, "POST"],
          ["/api/v2/provisioner/templateversions", "POST"],
          [`/api/v2/provisioner/templateversions/${id}/dry-run`, "POST"],
          [`/api/v2/workspaces/${id}${pick(["", "?include_deleted=true", "?include_deleted=%00"])}`, "GET"],
          [`/api/v2/workspaceagents/${id}`, "GET"],
          [`/api/v2/workspaceagents/${id}/logs${pick(["", "?format=text", "?after=-1", "?after=x", "?after=99999999999999999999", "?follow=true", "?format=text&follow=true", "?format=%00"])}`, "GET"],
          [`/api/v2/workspaceagents/${id}/containers${pick(["", "?label=a=b", "?label=bad", "?label=%00=x"])}`, "GET"],
          [`/api/v2/workspaceagents/${id}/containers/devcontainers/${pick(ids())}/recreate`, "POST"],
          [`/api/v2/workspacebuilds/${id}/logs${pick(["", "?format=text", "?after=abc"])}`, "GET"],
          [`/api/v2/workspacebuilds/${id}/timings`, "GET"],
          [`/api/v2/templateversions/${id}/logs`, "GET"],
          [`/api/v2/templateversions/${id}/dry-run/${pick(ids())}/logs`, "GET"],
          [`/api/v2/users/${pick(["alice", "me", "%00", "a".repeat(300), "prebuilds", id])}/keys`, "POST"],
          [`/api/v2/users/me/workspace-updates`, "GET"],
          ["/api/v2/workspaceagents/aws-instance-identity", "POST"],
          ["/api/v2/workspaceagents/azure-instance-identity", "POST"],
          ["/api/v2/workspaceagents/google-instance-identity", "POST"],
          ["/api/v2/workspaceagents/me/manifest", "GET"],
          ["/api/v2/workspaceagents/me/report-lifecycle", "POST"],
          ["/api/v2/workspaceagents/me/logs", "PATCH"],
          ["/api/v2/workspaceagents/me/log-source", "POST"],
          ["/api/v2/workspaceagents/me/script-timings", "POST"],
          ["/api/v2/workspaceagents/me/app-status", "PATCH"],
          ["/api/v2/workspaceagents/me/app-health", "POST"],
          ["/api/v2/workspaceagents/me/api-address", "POST"],
          [`/api/v2/workspaceagents/me/reinit${pick(["", "?wait=true"])}`, "GET"],
          [`/bin/${pick(["coder-linux-amd64", "coder-linux-x", "%00", "..%2F..%2Fetc%2Fpasswd"])}`, "GET"],
          ["/healthz", "GET"],
          [`/api/v2/${pick(strings).slice(0, 20)}`, "GET"],
        ]);
      };
      const tokens = [ADMIN, ws.agents[0].auth_token, prebuild.agents[0].auth_token, randomUUID(), "", "x", "\u00e9", undefined];
      const statuses = new Map<number, number>();
      const leaks: string[] = [];
      const N = 2_000;
      for (let i = 0; i < N; i++) {
        const [path, routeMethod] = routes();
        const method = random() < 0.7 ? routeMethod : pick(["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]);
        // Mostly the token the route wants, so the fuzz gets past authentication.
        let token = random() < 0.7 ? (path.includes("/me/") ? pick([ws.agents[0].auth_token, prebuild.agents[0].auth_token]) : ADMIN) : pick(tokens);
        if (token !== undefined && /[^\x20-\x7e]/.test(token)) token = encodeURIComponent(token);
        // Reinit streams of prebuilds wait: close them right away (the leak test covers them).
        const r = /\/reinit|workspace-updates|follow=/.test(path)
          ? await fetch(new URL(path, coord.url), { method, headers: token === undefined ? {} : { "Coder-Session-Token": token }, signal: AbortSignal.timeout(300) }).then(
              async (res) => ({ status: res.status, text: res.headers.get("content-type")?.startsWith("text/event-stream") ? "" : await res.text() }),
              () => ({ status: 200, text: "" }),
            )
          : await send(method, path, { token, body: bodyFor(path) });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 500 || DATABASE_TEXT.test(r.text)) leaks.push(`${method} ${path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
      }
      console.info(`fuzz (${backend.name}): ${N} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
      expect(leaks).toEqual([]);
    }, 120_000);
  });
}
