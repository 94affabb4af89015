// Benchmark: parse 400 module-sized .tf files (≈300 lines each, assembled from the repository's
// examples and fixtures taken from real templates) with our parser, beside
// `terraform fmt -check -recursive` on the same files, both as whole processes, median of 5.
// Run: npm run build && npx tsx bench/hcl/run.ts
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseHclFile } from "../../src/template/hcl/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FILES = 400;
const LINES = 300;

/** Every .tf file under `dir` that terraform and our parser accept. */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".tf")) {
      const text = readFileSync(p, "utf8");
      try {
        parseHclFile(text);
        out.push(text);
      } catch {
        // invalid on purpose (syntax fixtures)
      }
    }
  }
  return out;
}

const pool = [...sources(join(root, "examples")), ...sources(join(root, "test/fixtures")), ...sources(join(root, "templates"))];
const corpus = mkdtempSync(join(tmpdir(), "provisioner-bench-hcl-"));
let totalLines = 0;
for (let i = 0; i < FILES; i++) {
  const parts: string[] = [];
  let lines = 0;
  for (let k = i; lines < LINES; k += 7) {
    const t = pool[k % pool.length];
    parts.push(t);
    lines += t.split("\n").length;
  }
  const text = parts.join("\n");
  totalLines += text.split("\n").length;
  writeFileSync(join(corpus, `m${String(i).padStart(3, "0")}.tf`), text);
}

const parser = join(corpus, "parse.mjs");
writeFileSync(
  parser,
  `import { readdirSync, readFileSync } from "node:fs";
import { parseHclFile } from ${JSON.stringify(join(root, "dist/template/hcl/index.js"))};
const dir = process.argv[2];
let n = 0;
for (const f of readdirSync(dir)) if (f.endsWith(".tf")) { parseHclFile(readFileSync(dir + "/" + f, "utf8")); n++; }
if (n !== ${FILES}) process.exit(1);
`,
);
const env = { ...process.env, TF_CLI_CONFIG_FILE: join(root, ".ci/terraformrc") };
const time = (cmd: string, args: string[]) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env });
  if (r.status !== 0 && cmd === process.execPath) throw new Error(r.stderr.toString());
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours: number[] = [];
const fmt: number[] = [];
for (let r = 0; r < 5; r++) {
  ours.push(time(process.execPath, [parser, corpus]));
  fmt.push(time("terraform", ["fmt", "-check", "-recursive", corpus]));
}
const tf = execFileSync("terraform", ["version"], { env }).toString().split("\n")[0];
rmSync(corpus, { recursive: true, force: true });
console.log(`node ${process.version}, ${tf}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})`);
console.log(`corpus: ${FILES} files, ${totalLines} lines (${Math.round(totalLines / FILES)} per file) from ${pool.length} real-shaped sources`);
console.log(`median of 5 runs, whole processes:`);
console.log(`  our parser (node, every file)               ${median(ours).toFixed(0).padStart(6)} ms`);
console.log(`  terraform fmt -check -recursive             ${median(fmt).toFixed(0).padStart(6)} ms`);
console.log(`  ratio                                       ${(median(ours) / median(fmt)).toFixed(2).padStart(6)}`);
