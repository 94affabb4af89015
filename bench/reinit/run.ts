// Benchmark: one coordinator holding N concurrent reinit streams (each its own prebuilt workspace):
// RSS per idle stream; then claim M of them: claim→event latency p50/p99; lost and duplicate events.
// Then the same across two replicas on Postgres (streams on B, claims through A).
// Run: ulimit -n 65536; npm run build && npx tsx bench/reinit/run.ts
//   env: STREAMS (default 10000), CLAIMS (default 1000), PROVISIONER_TEST_PG_URL for the replica run.
import { request, Agent } from "node:http";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { percentile, rssMiB, startJsonChild, BENCH_ADMIN_TOKEN } from "../support/proc.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const STREAMS = Number(process.env.STREAMS ?? 10_000);
const CLAIMS = Number(process.env.CLAIMS ?? 1_000);
// Claims in flight at once (a burst of users claiming prebuilds).
const CLAIM_CONCURRENCY = Number(process.env.CLAIM_CONCURRENCY ?? 4);
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

interface Stream {
  events: number;
  firstEventAt?: number;
}

function openStream(baseUrl: string, token: string, s: Stream): Promise<void> {
  const u = new URL("/api/v2/workspaceagents/me/reinit?wait=true", baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent, headers: { "Coder-Session-Token": token } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream status ${res.statusCode}`));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const n = chunk.split("event: data").length - 1;
        if (n > 0) {
          s.events += n;
          s.firstEventAt ??= performance.now();
        }
      });
      resolve();
    });
    req.on("error", reject);
    req.end();
  });
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

function coordinator(db: string) {
  return startJsonChild(process.execPath, [join(root, "bin/provisioner.js"), "coordinator", "--db", db, "--listen", "127.0.0.1:0", "--json", "--log-format", "json"], { PROVISIONER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN });
}

async function scenario(label: string, streamUrl: string, claimUrl: string, streamPid: number): Promise<void> {
  const admin = new AdminClient(claimUrl, BENCH_ADMIN_TOKEN);
  const t0 = performance.now();
  const workspaces: { id: string; token: string }[] = [];
  await pool(Array.from({ length: STREAMS }), 16, async (_x, i) => {
    const ws = await admin.createWorkspace({ name: `pb${i}`, prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: `i-${i}`, agents: [{ name: "main" }] }] });
    workspaces[i] = { id: ws.id, token: ws.agents[0].auth_token };
  });
  const created = performance.now();
  await new Promise((r) => setTimeout(r, 500));
  const rssBefore = rssMiB(streamPid);
  const streams: Stream[] = workspaces.map(() => ({ events: 0 }));
  await pool(workspaces, 200, (w, i) => openStream(streamUrl, w.token, streams[i]));
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = rssMiB(streamPid);
  const claimed = workspaces.slice(0, CLAIMS);
  const sentAt: number[] = [];
  await pool(claimed, CLAIM_CONCURRENCY, async (w, i) => {
    sentAt[i] = performance.now();
    await admin.claim(w.id, { owner: `user${i}` });
  });
  const deadline = performance.now() + 10_000;
  while (streams.slice(0, CLAIMS).some((s) => s.events === 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  const latencies = claimed.map((_w, i) => (streams[i].firstEventAt ?? NaN) - sentAt[i]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const lost = claimed.filter((_w, i) => streams[i].events === 0).length;
  const duplicates = streams.reduce((n, s) => n + Math.max(0, s.events - 1), 0);
  const spurious = streams.slice(CLAIMS).filter((s) => s.events > 0).length;
  console.log(`${label}`);
  console.log(`  ${STREAMS} workspaces created in ${((created - t0) / 1000).toFixed(1)}s; ${STREAMS} streams open`);
  console.log(`  RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB: ${(((rssAfter - rssBefore) * 1024) / STREAMS).toFixed(1)} KB per idle stream`);
  console.log(`  ${CLAIMS} claims: claim→event p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1]?.toFixed(1)} ms`);
  console.log(`  lost ${lost}, duplicates ${duplicates}, events to unclaimed streams ${spurious}`);
  agent.destroy();
}

console.log(`reinit streams: ${STREAMS} streams, ${CLAIMS} claims (${CLAIM_CONCURRENCY} at a time); ${cpus().length} cores (${cpus()[0]?.model})`);
{
  const one = await coordinator("memory");
  try {
    await scenario("one coordinator, PGlite", one.ready.url, one.ready.url, one.child.pid!);
  } finally {
    one.child.kill("SIGTERM");
  }
}
const pgUrl = process.env.PROVISIONER_TEST_PG_URL;
if (pgUrl) {
  const name = `bench_reinit_${Date.now()}`;
  const adminDb = new pg.Client({ connectionString: pgUrl });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const a = await coordinator(url.toString());
  const b = await coordinator(url.toString());
  try {
    await scenario("two replicas on Postgres 15 (streams on B, claims through A)", b.ready.url, a.ready.url, b.child.pid!);
  } finally {
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    await adminDb.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminDb.end();
  }
}
process.exit(0);
