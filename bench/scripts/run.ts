// Benchmark (issue 12): an agent with 20 scripts (10 run on start, in parallel; 10 on stop) printing
// 10,000 log lines in all: time from agent start to `ready` beyond the scripts' own run time; log ingest
// rate (PATCH /api/v2/workspaceagents/me/logs, 1,000-line batches); `format=text` of 100,000 lines.
// Run: npm run build && npx tsx bench/scripts/run.ts
//   env: RUNS (default 5), INGEST_LINES (default 100000), PROVISIONER_TEST_PG_URL to add a Postgres run
//   (in a database of its own, dropped afterwards), BACKEND=pglite|postgres for one of them.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { LogSender } from "../../src/agent/log-sender.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { percentile, startJsonChild, BENCH_ADMIN_TOKEN } from "../support/proc.js";

const cli = fileURLToPath(new URL("../../bin/provisioner.js", import.meta.url));
const RUNS = Number(process.env.RUNS ?? 5);
const INGEST_LINES = Number(process.env.INGEST_LINES ?? 100_000);
const TEXT_LINES = 100_000;
interface Coordinator {
  url: string;
}
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One agent process, start → ready; the overheads beyond the longest script. */
async function startToReady(coord: Coordinator, admin: AdminClient, run: number) {
  const start = Array.from({ length: 10 }, (_, i) => ({ display_name: `start-${i}`, run_on_start: true, script: `i=0; while [ $i -lt 1000 ]; do echo "script ${i} line $i"; i=$((i+1)); done; sleep 0.3` }));
  const stop = Array.from({ length: 10 }, (_, i) => ({ display_name: `stop-${i}`, run_on_stop: true, script: "true" }));
  const ws = await admin.createWorkspace({ name: `bench-${run}`, resources: [{ type: "vm", name: "x", agents: [{ name: "main", scripts: [...start, ...stop] }] }] });
  const agent = ws.agents[0];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [cli, "agent"], { env: { ...process.env, CODER_AGENT_URL: coord.url, CODER_AGENT_TOKEN: agent.auth_token }, stdio: "ignore" });
  const ready = await until(async () => {
    const a = await admin.agent(agent.id);
    return a.lifecycle_state === "ready" ? a : undefined;
  });
  const readySeenAt = Date.now();
  const timings = await admin.buildTimings(ws.latest_build.id);
  const runs = timings.agent_script_timings;
  const longest = Math.max(...runs.map((t) => Date.parse(t.ended_at) - Date.parse(t.started_at)));
  const firstStart = Math.min(...runs.map((t) => Date.parse(t.started_at)));
  const lastEnd = Math.max(...runs.map((t) => Date.parse(t.ended_at)));
  // The lifecycle does not wait for log shipping: the last lines land shortly after `ready`.
  let logs = await admin.agentLogs(agent.id);
  while (logs.filter((l) => /^script \d+ line/.test(l.output)).length < 10_000) logs = await until(async () => admin.agentLogs(agent.id));
  const logsStoredAfterReady = Date.now() - readySeenAt;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return {
    // The agent's own `starting` → `ready` reports, beyond the longest script.
    startingToReady: Date.parse(ready.ready_at!) - Date.parse(ready.started_at!) - longest,
    // After the last script ended: logs flushed, timings reported, `ready` reported.
    afterScripts: Date.parse(ready.ready_at!) - lastEnd,
    // Before the first script: the agent API up and its address reported.
    beforeScripts: firstStart - Date.parse(ready.started_at!),
    // Spawning the process (Node start, auth, manifest) → `ready` seen by a poller, beyond the longest script.
    processToReady: readySeenAt - spawnedAt - longest,
    scriptLines: logs.filter((l) => /^script \d+ line/.test(l.output)).length,
    logsStoredAfterReady,
  };
}

async function patchAll(coord: Coordinator, bodies: { token: string; body: string }[], inFlight: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const { token, body } = bodies[next++];
        const res = await fetch(new URL("/api/v2/workspaceagents/me/logs", coord.url), { method: "PATCH", headers: { "Coder-Session-Token": token, "Content-Type": "application/json" }, body });
        if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** Lines of ~60 bytes across as many agents as the 1 MiB cap needs, 1,000 per batch, 2 batches in flight. */
async function ingestRate(coord: Coordinator, admin: AdminClient): Promise<number> {
  const lineBytes = 60;
  const agentsNeeded = Math.ceil((INGEST_LINES * lineBytes) / ((1 << 20) * 0.9));
  const ws = await admin.createWorkspace({ name: `ingest-${randomBytes(3).toString("hex")}`, resources: [{ type: "vm", name: "x", agents: Array.from({ length: agentsNeeded }, (_, i) => ({ name: `a${i}` })) }] });
  const now = new Date().toISOString();
  const bodies = Array.from({ length: INGEST_LINES / 1000 }, (_, b) => ({
    token: ws.agents[b % agentsNeeded].auth_token,
    body: JSON.stringify({ logs: Array.from({ length: 1000 }, (_, i) => ({ created_at: now, output: `line ${String(b * 1000 + i).padStart(7, "0")} of the benchmark output, sixty bytes long`.slice(0, lineBytes), level: "info" })) }),
  }));
  return INGEST_LINES / (await patchAll(coord, bodies, 2));
}

/** The agent's own log shipping (LogSender: batches of up to 5,000 lines / 512 KiB, one request in flight). */
async function agentSenderRate(coord: Coordinator, admin: AdminClient): Promise<number> {
  const lineBytes = 60;
  const agentsNeeded = Math.ceil((INGEST_LINES * lineBytes) / ((1 << 20) * 0.9));
  const ws = await admin.createWorkspace({ name: `sender-${randomBytes(3).toString("hex")}`, resources: [{ type: "vm", name: "x", agents: Array.from({ length: agentsNeeded }, (_, i) => ({ name: `a${i}` })) }] });
  const senders = ws.agents.map((a) => new LogSender(coord.url, a.auth_token, (err) => console.error(err.message)));
  const t0 = performance.now();
  await Promise.all(
    senders.map((sender, a) => {
      for (let i = a; i < INGEST_LINES; i += agentsNeeded) sender.enqueue(undefined, `line ${String(i).padStart(7, "0")} of the benchmark output, sixty bytes long`.slice(0, lineBytes));
      return sender.flush();
    }),
  );
  return INGEST_LINES / ((performance.now() - t0) / 1000);
}

/** One agent with 100,000 short lines (just under its 1 MiB cap), read back with format=text. */
async function textRead(coord: Coordinator, admin: AdminClient): Promise<{ ms: number[]; lines: number; bytes: number }> {
  const ws = await admin.createWorkspace({ name: `text-${randomBytes(3).toString("hex")}`, resources: [{ type: "vm", name: "x", agents: [{ name: "main" }] }] });
  const token = ws.agents[0].auth_token;
  const now = new Date().toISOString();
  const bodies = Array.from({ length: TEXT_LINES / 1000 }, (_, b) => ({ token, body: JSON.stringify({ logs: Array.from({ length: 1000 }, (_, i) => ({ created_at: now, output: `l${b * 1000 + i}`, level: "info" })) }) }));
  await patchAll(coord, bodies, 2);
  const ms: number[] = [];
  let lines = 0;
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await fetch(new URL(`/api/v2/workspaceagents/${ws.agents[0].id}/logs?format=text`, coord.url), { headers: { "Coder-Session-Token": BENCH_ADMIN_TOKEN } });
    const text = await res.text();
    ms.push(performance.now() - t0);
    lines = text.split("\n").length;
    bytes = text.length;
  }
  return { ms, lines, bytes };
}

/** The coordinator runs as its own process (as in production): the load generator does not share its thread. */
async function bench(name: string, db: string) {
  const { child, ready: line } = await startJsonChild(process.execPath, [cli, "coordinator", "--db", db, "--listen", "127.0.0.1:0", "--json"], { PROVISIONER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN });
  const coord: Coordinator = { url: String(line.url) };
  const admin = new AdminClient(coord.url, BENCH_ADMIN_TOKEN);
  try {
    const ready: Awaited<ReturnType<typeof startToReady>>[] = [];
    for (let r = 0; r < RUNS; r++) ready.push(await startToReady(coord, admin, r));
    const rates: number[] = [];
    for (let r = 0; r < 3; r++) rates.push(await ingestRate(coord, admin));
    const senderRates: number[] = [];
    for (let r = 0; r < 3; r++) senderRates.push(await agentSenderRate(coord, admin));
    const text = await textRead(coord, admin);
    const col = (k: keyof (typeof ready)[number]) => `${median(ready.map((r) => r[k] as number)).toFixed(0)} ms (runs ${ready.map((r) => (r[k] as number).toFixed(0)).join(", ")})`;
    console.log(`\n## ${name}`);
    console.log(`agent with 20 scripts (10 start scripts in parallel, ${ready[0].scriptLines} lines), median of ${RUNS}:`);
    console.log(`  starting → ready, beyond the longest script: ${col("startingToReady")}`);
    console.log(`    of which before the first script:         ${col("beforeScripts")}`);
    console.log(`    of which after the last script:           ${col("afterScripts")}`);
    console.log(`  process spawn → ready seen, beyond it:      ${col("processToReady")}`);
    console.log(`  all 10,000 script lines stored, after ready:  ${col("logsStoredAfterReady")}`);
    console.log(`log ingest, ${INGEST_LINES} lines of 60 bytes, 1,000-line PATCHes, 2 in flight: median ${median(rates).toFixed(0)} lines/s (runs ${rates.map((x) => x.toFixed(0)).join(", ")})`);
    console.log(`log ingest through the agent's LogSender (its own batching): median ${median(senderRates).toFixed(0)} lines/s (runs ${senderRates.map((x) => x.toFixed(0)).join(", ")})`);
    console.log(`format=text of ${text.lines} lines (${(text.bytes / 1e6).toFixed(1)} MB): median ${median(text.ms).toFixed(0)} ms (runs ${text.ms.map((x) => x.toFixed(0)).join(", ")})`);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

const only = process.env.BACKEND;
if (only !== "postgres") await bench("PGlite (in memory)", "memory");
const pgUrl = process.env.PROVISIONER_TEST_PG_URL;
if (pgUrl && only !== "pglite") {
  const name = `bench_${randomBytes(4).toString("hex")}`;
  const adminDb = new pg.Client({ connectionString: pgUrl });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    await bench("Postgres 15", url.toString());
  } finally {
    await adminDb.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminDb.end();
  }
}
