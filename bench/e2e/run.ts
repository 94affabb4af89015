// Benchmark: `provisioner e2e` as a whole process — the two-agent example (median of 5 runs), and a
// generated template with 10 instances × 3 agents.
// Run: npm run build && npx tsx bench/e2e/run.ts
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "bin/provisioner.js");
const example = join(root, "examples/templates/aws-multi-agent");

function run(dir: string): { ms: number; ok: boolean } {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, "e2e", dir, "--json", "--timeout", "120s"], { env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, ok: r.status === 0 };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 10 EC2 instances, each with 3 instance-identity agents started with their own CODER_AGENT_NAME. */
function bigTemplate(): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-e2e-"));
  copyFileSync(join(example, "cloud-init.yaml.tftpl"), join(dir, "cloud-init.yaml.tftpl"));
  let tf = `data "coder_workspace" "me" {}\n`;
  for (let i = 0; i < 10; i++) {
    const agents = [0, 1, 2].map((k) => `vm${i}-agent${k}`);
    for (const a of agents) {
      tf += `\nresource "coder_agent" "${a}" {\n  count = data.coder_workspace.me.start_count\n  arch  = "amd64"\n  os    = "linux"\n  auth  = "aws-instance-identity"\n}\n`;
      tf += `\nresource "coder_agent_instance" "${a}" {\n  count       = data.coder_workspace.me.start_count\n  agent_id    = coder_agent.${a}[0].id\n  instance_id = aws_instance.vm${i}.id\n}\n`;
    }
    const map = agents.map((a) => `      ${JSON.stringify(a)} = try(coder_agent.${a}[0].init_script, "")`).join("\n");
    tf += `\nresource "aws_instance" "vm${i}" {\n  ami           = "ami-123"\n  instance_type = "t3.medium"\n  user_data = templatefile("\${path.module}/cloud-init.yaml.tftpl", {\n    linux_user = "coder"\n    agents = {\n${map}\n    }\n  })\n}\n`;
  }
  writeFileSync(join(dir, "main.tf"), tf);
  return dir;
}

console.log(`provisioner e2e, whole process; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model})`);
const times: number[] = [];
let allOk = true;
for (let i = 0; i < 5; i++) {
  const r = run(example);
  times.push(r.ms);
  allOk &&= r.ok;
}
console.log(`  two-agent example: median ${(median(times) / 1000).toFixed(2)} s of 5 runs (${times.map((t) => (t / 1000).toFixed(2)).join(", ")}), ${allOk ? "all passed" : "SOME FAILED"}`);
const bigDir = bigTemplate();
const big = run(bigDir);
rmSync(bigDir, { recursive: true, force: true });
console.log(`  10 instances × 3 agents: ${(big.ms / 1000).toFixed(2)} s, ${big.ok ? "passed" : "FAILED"}`);
