// Benchmark: `provisioner e2e --scenario all` (start, prebuild with the claim diff, lifecycle: five
// builds) against `--scenario start` on every example, as whole processes. Aim: all ≤ 3 × start.
// Run: npm run build && npx tsx bench/e2e/scenarios.ts
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "bin/provisioner.js");
const examples = join(root, "examples/templates");

function run(dir: string, scenario: string): { s: number; ok: boolean; scenarios: Record<string, number> } {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, "e2e", dir, "--json", "--quiet", "--scenario", scenario, "--timeout", "120s"], { env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (!r.stdout.toString().startsWith("{")) {
    console.error(`${dir} --scenario ${scenario}: exit ${r.status}: ${r.stderr.toString().trim()}`);
    return { s, ok: false, scenarios: {} };
  }
  const report = JSON.parse(r.stdout.toString()) as { scenarios: { scenario: string; duration_ms: number }[] };
  return { s, ok: r.status === 0, scenarios: Object.fromEntries(report.scenarios.map((x) => [x.scenario, x.duration_ms / 1000])) };
}

console.log(`provisioner e2e --scenario all vs start, whole processes; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model}); load ${loadavg()[0].toFixed(1)}`);
console.log("| example | start | all | all ÷ start | inside all: start / prebuild / lifecycle | verdict |");
console.log("|---|---|---|---|---|---|");
let sumStart = 0;
let sumAll = 0;
for (const name of readdirSync(examples).sort()) {
  const dir = join(examples, name);
  const start = run(dir, "start");
  const all = run(dir, "all");
  sumStart += start.s;
  sumAll += all.s;
  const inner = ["start", "prebuild", "lifecycle"].map((k) => (all.scenarios[k] === undefined ? "-" : `${all.scenarios[k].toFixed(1)} s`)).join(" / ");
  console.log(`| ${name} | ${start.s.toFixed(1)} s | ${all.s.toFixed(1)} s | ${(all.s / start.s).toFixed(2)} | ${inner} | ${all.ok ? "passed" : "failed"} |`);
}
console.log(`| **all examples** | ${sumStart.toFixed(1)} s | ${sumAll.toFixed(1)} s | ${(sumAll / sumStart).toFixed(2)} | | |`);
