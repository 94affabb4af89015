/**
 * Regenerates test/conformance/expected/*.json by asking `terraform console` (the reference) for
 * every case: one process per expression, in an empty directory for cases/*.txt and in a copy of the
 * module for modules/<name>/ (with `-plan` when its cases.txt starts with `# mode: plan`).
 * Usage: npm run conformance:refresh   (needs terraform on PATH; TF_CLI_CONFIG_FILE → .ci/terraformrc)
 *        npm run conformance:refresh -- --check   (compare with the stored files, exit 1 on drift)
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSuites, runTerraformCase, type ExpectedCase, type SyntaxVerdict, syntaxFiles, terraformFmtVerdict, terraformInit } from "../test/conformance/suite.js";

const root = fileURLToPath(new URL("../test/conformance/", import.meta.url));
const check = process.argv.includes("--check");
const concurrency = Number(process.env.CONFORMANCE_JOBS ?? 4);

/** Runs the cases with `n` workers, each in its own copy of the suite's directory (terraform locks its state). */
async function pool<T, R>(items: T[], n: number, setup: (worker: number) => Promise<string>, fn: (dir: string, t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      const dir = await setup(w);
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(dir, items[i]);
      }
    }),
  );
  return out;
}

let drift = 0;
let total = 0;
for (const suite of loadSuites(root)) {
  const dir = mkdtempSync(join(tmpdir(), "provisioner-conformance-"));
  try {
    const setup = async (w: number) => {
      const workDir = join(dir, String(w));
      mkdirSync(workDir);
      if (suite.moduleDir) {
        cpSync(suite.moduleDir, workDir, { recursive: true, filter: (src) => !src.endsWith("cases.txt") });
        await terraformInit(workDir);
      }
      return workDir;
    };
    const results: ExpectedCase[] = await pool(suite.cases, concurrency, setup, (workDir, expr) => runTerraformCase(workDir, expr, suite.plan));
    total += results.length;
    const file = join(root, "expected", `${suite.name}.json`);
    const text = JSON.stringify(results, null, 1) + "\n";
    if (check) {
      let stored = "";
      try {
        stored = readFileSync(file, "utf8");
      } catch {
        // missing file = drift
      }
      const old = stored ? (JSON.parse(stored) as ExpectedCase[]) : [];
      for (const r of results) {
        const o = old.find((x) => x.expr === r.expr);
        if (!o || JSON.stringify(o) !== JSON.stringify(r)) {
          drift++;
          console.log(`drift in ${suite.name}: ${r.expr}\n  stored:    ${JSON.stringify(o)}\n  terraform: ${JSON.stringify(r)}`);
        }
      }
    } else writeFileSync(file, text);
    console.log(`${suite.name}: ${results.length} cases`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// Parser verdicts: terraform fmt on every .tf file of the repository's test data and examples.
const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const files = syntaxFiles(repoRoot);
const verdicts = await pool(files, concurrency, async () => repoRoot, (_dir, file) => terraformFmtVerdict(repoRoot, file));
const syntaxFile = join(root, "expected", "syntax.json");
if (check) {
  const stored = JSON.parse(readFileSync(syntaxFile, "utf8")) as SyntaxVerdict[];
  for (const v of verdicts) {
    const o = stored.find((x) => x.file === v.file);
    if (!o || JSON.stringify(o) !== JSON.stringify(v)) {
      drift++;
      console.log(`drift in syntax: ${v.file}\n  stored:    ${JSON.stringify(o)}\n  terraform: ${JSON.stringify(v)}`);
    }
  }
} else writeFileSync(syntaxFile, JSON.stringify(verdicts, null, 1) + "\n");
console.log(`syntax: ${verdicts.length} files`);
console.log(`${total} cases${check ? `, ${drift} drifted` : " written"}`);
if (check && drift > 0) process.exit(1);
