import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { openReinit } from "../coordinator/support/sse.js";
import { createTestDatabase, testPostgresUrl } from "../support/postgres.js";
import { spawnCli, type Spawned } from "../support/process.js";
import { startPgProxy } from "./support/pg-proxy.js";

/** Replicas on a real Postgres 15 whose connections are killed under them. */
describe.runIf(testPostgresUrl !== undefined)("Postgres faults", () => {
  const TOKEN = randomBytes(24).toString("base64url");
  let url: string;
  let drop: () => Promise<void>;
  let killer: pg.Client;
  const processes: Spawned[] = [];
  const inProcess: RunningCoordinator[] = [];

  beforeAll(async () => {
    const db = await createTestDatabase();
    url = db.url;
    drop = db.drop;
    killer = new pg.Client({ connectionString: testPostgresUrl });
    await killer.connect();
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.stop("SIGKILL");
    for (const c of inProcess.splice(0)) await c.close();
  });
  afterAll(async () => {
    await killer?.end();
    await drop?.();
  });

  const replica = async (db = url): Promise<{ proc: Spawned; url: string }> => {
    const proc = spawnCli(["coordinator", "--db", db, "--listen", "127.0.0.1:0", "--json", "--log-format", "json"], { PROVISIONER_ADMIN_TOKEN: TOKEN });
    processes.push(proc);
    return { proc, url: (await proc.ready).url };
  };
  const inProcessReplica = async (opts: { reinitRecheckMs?: number } = {}) => {
    const c = await startCoordinator({ listen: "127.0.0.1:0", db: url, adminToken: TOKEN, ssePingMs: 200, ...opts });
    inProcess.push(c);
    return c;
  };
  const prebuild = (admin: AdminClient) =>
    admin.createWorkspace({ name: `pb-${randomUUID().slice(0, 8)}`, prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
  const terminateAll = async (): Promise<number> => {
    const name = new URL(url).pathname.slice(1);
    const r = await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
    return r.rowCount ?? 0;
  };

  it("pg_terminate_backend of every connection under load: the replica lives, answers 503 with Retry-After or succeeds, and recovers (listener included)", async () => {
    const a = await replica();
    const admin = new AdminClient(a.url, TOKEN);
    const ws = await admin.createWorkspace({ name: "load", resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
    const statuses = new Map<number, number>();
    let withoutRetryAfter = 0;
    let networkErrors = 0;
    let stop = false;
    const call = async (method: string, path: string, body: unknown, token = TOKEN) => {
      try {
        const res = await fetch(new URL(path, a.url), { method, headers: { "Coder-Session-Token": token, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500 && !res.headers.get("retry-after")) withoutRetryAfter++;
      } catch {
        networkErrors++;
      }
    };
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const k = (i + n) % 4;
        if (k === 0) await call("POST", "/api/v2/provisioner/workspaces", { name: `w${n}-${i}`, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] });
        else if (k === 1) await call("POST", `/api/v2/provisioner/workspaces/${ws.id}/builds`, { transition: "start" });
        else if (k === 2) await call("GET", `/api/v2/workspaces/${ws.id}`, undefined);
        else await call("GET", "/healthz", undefined);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    let terminated = 0;
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 400));
      terminated += await terminateAll();
    }
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;
    const summary = Object.fromEntries(statuses);
    console.info(`pg_terminate_backend: ${terminated} connections terminated in 6 rounds; statuses ${JSON.stringify(summary)}; network errors ${networkErrors}`);
    expect(a.proc.child.exitCode).toBeNull();
    expect(a.proc.lines.join("\n")).not.toMatch(/Unhandled 'error' event|internal error/);
    expect([...statuses.keys()].filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(withoutRetryAfter).toBe(0);
    expect(networkErrors).toBe(0);
    expect(terminated).toBeGreaterThan(6);

    // Recovered: writes succeed, and the claim reaches a stream on this replica (its listener is back).
    const pb = await prebuild(admin);
    const stream = await openReinit(a.url, pb.agents[0].auth_token);
    expect(stream.status).toBe(200);
    await admin.claim(pb.id, { owner: "alice" });
    expect(await stream.nextData(10_000)).toMatchObject({ workspace_id: pb.id, reason: "prebuild_claimed" });
    expect((await admin.createBuild(ws.id, { transition: "start" })).build.build_number).toBeGreaterThan(1);
    await a.proc.stop("SIGTERM");
  }, 60_000);

  it("a replica killed -9 right after it commits a claim build's success: a stream on another replica still gets the event (3 of 3)", async () => {
    const b = await inProcessReplica();
    const adminB = new AdminClient(b.url, TOKEN);
    const proxy = await startPgProxy(url);
    let delivered = 0;
    try {
      for (let round = 0; round < 3; round++) {
        const a = await replica(proxy.url);
        const pb = await prebuild(adminB);
        const claimed = await adminB.claim(pb.id, { owner: `owner-${round}`, job: "running" });
        const stream = await openReinit(b.url, pb.agents[0].auth_token);
        expect(stream.status).toBe(200);
        // A commits the job's success; before it hears back from Postgres, it is killed -9.
        proxy.arm("UPDATE provisioner_jobs", () => a.proc.child.kill("SIGKILL"));
        const completion = await fetch(new URL(`/api/v2/provisioner/jobs/${claimed.build.job_id}/complete`, a.url), {
          method: "POST",
          headers: { "Coder-Session-Token": TOKEN, "Content-Type": "application/json" },
          body: JSON.stringify({ status: "succeeded" }),
        }).then(
          (r) => r.status,
          () => "killed",
        );
        expect(completion).toBe("killed");
        expect(a.proc.child.signalCode ?? (await a.proc.exited, a.proc.child.signalCode)).toBe("SIGKILL");
        // Committed: B sees the job succeeded, and its stream gets the event well before any periodic re-check (30 s).
        expect((await adminB.workspace(pb.id)).latest_build.job.status).toBe("succeeded");
        expect(await stream.nextData(5_000)).toEqual({ workspace_id: pb.id, reason: "prebuild_claimed", user_id: claimed.workspace.owner_id });
        delivered++;
      }
    } finally {
      await proxy.close();
    }
    console.info(`claim committed then replica killed -9: ${delivered} of 3 events delivered, ${3 - delivered} lost`);
  }, 60_000);

  it("an event that never comes (the job marked succeeded without a NOTIFY): the periodic durable re-check delivers it", async () => {
    const b = await inProcessReplica({ reinitRecheckMs: 300 });
    const admin = new AdminClient(b.url, TOKEN);
    const pb = await prebuild(admin);
    const claimed = await admin.claim(pb.id, { owner: "bob", job: "running" });
    const stream = await openReinit(b.url, pb.agents[0].auth_token);
    expect(stream.status).toBe(200);
    const direct = new pg.Client({ connectionString: url });
    await direct.connect();
    await direct.query("UPDATE provisioner_jobs SET status = 'succeeded', completed_at = now() WHERE id = $1", [claimed.build.job_id]);
    await direct.end();
    expect(await stream.nextData(3_000)).toMatchObject({ workspace_id: pb.id, user_id: claimed.workspace.owner_id });
  });

  it("100 concurrent builds of one workspace through two replicas: numbers 2…101, no gap, no duplicate, no 5xx", async () => {
    const [a, b] = [await inProcessReplica(), await inProcessReplica()];
    const ws = await new AdminClient(a.url, TOKEN).createWorkspace({ name: "busy", resources: [{ type: "vm", name: "dev", instance_id: `i-${randomUUID()}`, agents: [{ name: "main" }] }] });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fetch(new URL(`/api/v2/provisioner/workspaces/${ws.id}/builds`, (i % 2 ? a : b).url), {
          method: "POST",
          headers: { "Coder-Session-Token": TOKEN, "Content-Type": "application/json" },
          body: JSON.stringify({ transition: i % 3 ? "start" : "stop" }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { build?: { build_number: number } } })),
      ),
    );
    const statuses = results.map((r) => r.status);
    console.info(`concurrent builds across two replicas: ${statuses.filter((s) => s === 201).length} × 201, ${statuses.filter((s) => s >= 500).length} × 5xx`);
    expect(statuses.every((s) => s === 201)).toBe(true);
    expect(results.map((r) => r.body.build!.build_number).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
  }, 60_000);
});
