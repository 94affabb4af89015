// Benchmark: one `provisioner validate` over a corpus of 200 generated templates, beside
// `terraform fmt -check -recursive` over the same corpus, and `provisioner --help` start-up.
// Run: npm run build && npx tsx bench/validate/run.ts
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderAwsMultiAgent } from "../../src/scaffold/aws-multi-agent.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "bin/provisioner.js");
const corpus = mkdtempSync(join(tmpdir(), "provisioner-bench-validate-"));
const TEMPLATES = 200;

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const dirs: string[] = [];
let withFindings = 0;
for (let i = 0; i < TEMPLATES; i++) {
  const n = 1 + (i % 6);
  const agents = Array.from({ length: n }, (_, k) => `agent-${k}`);
  const files = await renderAwsMultiAgent({ agents, region: "us-east-1", instanceType: "t3.medium", arch: i % 2 ? "arm64" : "amd64", os: "linux" });
  const dir = join(corpus, `t${String(i).padStart(3, "0")}`);
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    let content = f.content;
    // Every fifth template with two or more agents loses the CODER_AGENT_NAME wiring.
    if (i % 5 === 0 && n > 1 && f.path === "cloud-init.yaml.tftpl") {
      content = content.replace('env, "CODER_AGENT_NAME=${name}", ', "");
      withFindings++;
    }
    writeFileSync(join(dir, f.path), content);
  }
  dirs.push(dir);
}

const env = { ...process.env, NO_COLOR: "1", TF_CLI_CONFIG_FILE: join(root, ".ci/terraformrc") };
const runs = 5;
const validateTimes: number[] = [];
const fmtTimes: number[] = [];
let validateExit = -1;
let findings = 0;
for (let r = 0; r < runs; r++) {
  let t = process.hrtime.bigint();
  const v = spawnSync(process.execPath, [cli, "validate", "--format", "json", ...dirs], { env, maxBuffer: 64 << 20 });
  validateTimes.push(ms(t));
  validateExit = v.status ?? -1;
  findings = (JSON.parse(v.stdout.toString()) as { summary: { errors: number } }).summary.errors;
  t = process.hrtime.bigint();
  spawnSync("terraform", ["fmt", "-check", "-recursive", corpus], { env });
  fmtTimes.push(ms(t));
}
const helpTimes: number[] = [];
for (let r = 0; r < 10; r++) {
  const t = process.hrtime.bigint();
  execFileSync(process.execPath, [cli, "--help"], { env });
  helpTimes.push(ms(t));
}
const tfVersion = execFileSync("terraform", ["version"], { env }).toString().split("\n")[0];
rmSync(corpus, { recursive: true, force: true });

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
console.log(`provisioner ${version}, node ${process.version}, ${tfVersion}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})`);
console.log(`corpus: ${TEMPLATES} templates (1–6 agents), ${withFindings} with a wiring mistake; validate exit ${validateExit}, ${findings} errors found`);
console.log(`median of ${runs} runs:`);
console.log(`  provisioner validate (one process, all templates)   ${median(validateTimes).toFixed(0).padStart(6)} ms`);
console.log(`  terraform fmt -check -recursive (same corpus)       ${median(fmtTimes).toFixed(0).padStart(6)} ms`);
console.log(`  ratio validate / fmt                                ${(median(validateTimes) / median(fmtTimes)).toFixed(2).padStart(6)}`);
console.log(`median of 10 runs:`);
console.log(`  provisioner --help start-up                         ${median(helpTimes).toFixed(0).padStart(6)} ms`);
