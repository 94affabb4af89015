// Benchmark: AWS instance-identity auth against 1,000 instances × 2 agents, with agent_name, 50
// concurrent connections, beside a bare node:http JSON endpoint in the same run; PGlite and Postgres.
// Run: npm run build && npx tsx bench/auth/run.ts   (PROVISIONER_TEST_PG_URL=postgres://… adds Postgres)
import autocannon from "autocannon";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { awsIdentityDocument, loadOrCreateIdentityKeys, signAwsIdentityDocument } from "../../src/identity/index.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { rssMiB, startJsonChild, BENCH_ADMIN_TOKEN } from "../support/proc.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const INSTANCES = 1000;
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const scratch = mkdtempSync(join(tmpdir(), "bench-auth-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
const keysDir = join(scratch, "keys");
const keys = await loadOrCreateIdentityKeys(keysDir);

const bodies: string[] = [];
for (let i = 0; i < INSTANCES; i++) {
  const document = awsIdentityDocument({ instanceId: `i-${String(i).padStart(17, "0")}` });
  const signature = signAwsIdentityDocument(keys, document);
  for (const agent of ["main", "dev"]) bodies.push(JSON.stringify({ document, signature, agent_name: agent }));
}

async function load(url: string, path: string): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: url + path,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [{ method: "POST", headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: bodies[n++ % bodies.length] }) }],
  });
}

function row(name: string, r: autocannon.Result, rss: number, baseline?: autocannon.Result): string {
  const ratio = baseline ? (r.requests.average / baseline.requests.average).toFixed(2) : "1.00";
  const errors = r.non2xx + r.errors;
  return `${name.padEnd(26)} ${r.requests.average.toFixed(0).padStart(8)} req/s  p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms  ratio ${ratio}  RSS ${rss.toFixed(0)} MiB  non-2xx/errors ${errors}`;
}

async function coordinatorRun(db: string, label: string, baseline: autocannon.Result): Promise<string> {
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const { child, ready } = await startJsonChild(process.execPath, [...profile, join(root, "bin/provisioner.js"), "coordinator", "--db", db, "--listen", "127.0.0.1:0", "--trust-imds", keysDir, "--json", "--log-format", "json"], { PROVISIONER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN });
  try {
    const admin = new AdminClient(ready.url, BENCH_ADMIN_TOKEN);
    for (let i = 0; i < INSTANCES; i++) {
      await admin.createWorkspace({ name: `w${i}`, resources: [{ type: "aws_instance", name: "dev", instance_id: `i-${String(i).padStart(17, "0")}`, agents: [{ name: "main", auth: "aws-instance-identity" }, { name: "dev", auth: "aws-instance-identity" }] }] });
    }
    await load(ready.url, "/api/v2/workspaceagents/aws-instance-identity"); // warm-up
    const r = await load(ready.url, "/api/v2/workspaceagents/aws-instance-identity");
    return row(label, r, rssMiB(child.pid!), baseline);
  } finally {
    child.kill("SIGTERM");
  }
}

console.log(`AWS identity auth, ${INSTANCES} instances × 2 agents, agent_name set, ${CONNECTIONS} connections, ${DURATION_S}s per run; ${cpus().length} cores (${cpus()[0]?.model})`);
const base = await startJsonChild(process.execPath, ["--import", "tsx", join(root, "bench/auth/baseline-server.ts")]);
await load(base.ready.url, "/");
const baseline = await load(base.ready.url, "/");
console.log(row("bare node:http (baseline)", baseline, rssMiB(base.child.pid!)));
base.child.kill();
console.log(await coordinatorRun("memory", "coordinator, PGlite", baseline));
const pgUrl = process.env.PROVISIONER_TEST_PG_URL;
if (pgUrl) {
  const name = `bench_auth_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  try {
    console.log(await coordinatorRun(url.toString(), "coordinator, Postgres 15", baseline));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
} else console.log("(set PROVISIONER_TEST_PG_URL to also run on Postgres)");
