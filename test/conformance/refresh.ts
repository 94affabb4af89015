/**
 * Asks `terraform console` (the reference) for every conformance case — one process per expression,
 * in an empty directory for cases/*.txt and in a copy of the module for modules/<name>/ (with `-plan`
 * when its cases.txt starts with `# mode: plan`) — and `terraform fmt` for the parser verdict of every
 * .tf file of the repository's test data and examples. Either writes the answers to expected/ or
 * compares them with what is stored there (drift).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ExpectedCase, loadSuites, runTerraformCase, type SyntaxVerdict, syntaxFiles, terraformFmtVerdict, terraformInit } from "./suite.js";

const root = fileURLToPath(new URL("./", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Runs the items with `n` workers, each in its own copy of the suite's directory (terraform locks its state). */
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

export interface RefreshResult {
  cases: number;
  syntaxFiles: number;
  /** With `check`: each difference between terraform's answer and the stored one. */
  drift: string[];
}

export async function refreshConformance(opts: { check: boolean; jobs: number; progress?: (line: string) => void }): Promise<RefreshResult> {
  const drift: string[] = [];
  let cases = 0;
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
      const results: ExpectedCase[] = await pool(suite.cases, opts.jobs, setup, (workDir, expr) => runTerraformCase(workDir, expr, suite.plan));
      cases += results.length;
      const file = join(root, "expected", `${suite.name}.json`);
      if (opts.check) {
        let old: ExpectedCase[] = [];
        try {
          old = JSON.parse(readFileSync(file, "utf8")) as ExpectedCase[];
        } catch {
          // a missing file: every case drifted
        }
        for (const r of results) {
          const o = old.find((x) => x.expr === r.expr);
          if (!o || JSON.stringify(o) !== JSON.stringify(r)) drift.push(`${suite.name}: ${r.expr}\n  stored:    ${JSON.stringify(o)}\n  terraform: ${JSON.stringify(r)}`);
        }
      } else writeFileSync(file, JSON.stringify(results, null, 1) + "\n");
      opts.progress?.(`${suite.name}: ${results.length} cases`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const files = syntaxFiles(repoRoot);
  const verdicts = await pool(files, opts.jobs, async () => repoRoot, (_dir, file) => terraformFmtVerdict(repoRoot, file));
  const syntaxFile = join(root, "expected", "syntax.json");
  if (opts.check) {
    const stored = JSON.parse(readFileSync(syntaxFile, "utf8")) as SyntaxVerdict[];
    for (const v of verdicts) {
      const o = stored.find((x) => x.file === v.file);
      if (!o || JSON.stringify(o) !== JSON.stringify(v)) drift.push(`syntax: ${v.file}\n  stored:    ${JSON.stringify(o)}\n  terraform: ${JSON.stringify(v)}`);
    }
    for (const o of stored.filter((x) => !files.includes(x.file))) drift.push(`syntax: ${o.file} is stored but no longer exists`);
  } else writeFileSync(syntaxFile, JSON.stringify(verdicts, null, 1) + "\n");
  opts.progress?.(`syntax: ${verdicts.length} files`);
  return { cases, syntaxFiles: verdicts.length, drift };
}
