/**
 * Prints every conformance case where our engine's answer differs from terraform's stored one (the
 * test shows the same, this is for working through them). Usage: npx tsx scripts/conformance-report.ts [filter]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluateConsole } from "../src/plan/console.js";
import { workspaceContext } from "../src/plan/context.js";
import { ModuleScope } from "../src/plan/scope.js";
import { loadModule } from "../src/template/load.js";
import { loadExpected, loadSuites } from "../test/conformance/suite.js";

const root = fileURLToPath(new URL("../test/conformance/", import.meta.url));
const filter = process.argv[2];
const empty = mkdtempSync(join(tmpdir(), "provisioner-conformance-"));
let total = 0;
let agree = 0;
let detailAgree = 0;
try {
  for (const suite of loadSuites(root)) {
    const expected = loadExpected(root, suite);
    const config = suite.moduleDir
      ? loadModule(suite.moduleDir)
      : { dir: empty, relDir: ".", files: [], resources: [], locals: {}, variables: {}, outputs: {}, modules: {}, requiredProviders: {}, lockedVersions: {}, skipped: [] };
    for (const expr of suite.cases) {
      if (filter && !`${suite.name} ${expr}`.includes(filter)) continue;
      total++;
      const want = expected.get(expr)!;
      let got;
      try {
        got = evaluateConsole(ModuleScope.root(config, workspaceContext()), expr);
      } catch (err) {
        got = { kind: "error" as const, summary: "CRASH", detail: (err as Error).stack ?? String(err) };
      }
      const ok = want.error ? got.kind === "error" && got.summary === want.error.summary : got.kind !== "error" && got.text === want.output;
      if (ok) {
        agree++;
        if (!want.error || (got.kind === "error" && got.detail === want.error.detail)) detailAgree++;
        else if (process.env.DETAILS) console.log(`~ ${suite.name}: ${expr}\n    ours:      ${got.kind === "error" ? got.detail : ""}\n    terraform: ${want.error.detail}`);
        continue;
      }
      const ours = got.kind === "error" ? `error: ${got.summary}: ${got.detail}` : got.text;
      const theirs = want.error ? `error: ${want.error.summary}: ${want.error.detail}` : want.output!;
      console.log(`✗ ${suite.name}: ${expr}\n    ours:      ${ours.replace(/\n/g, "\n               ")}\n    terraform: ${theirs.replace(/\n/g, "\n               ")}`);
    }
  }
} finally {
  rmSync(empty, { recursive: true, force: true });
}
console.log(`${agree}/${total} agree (${((100 * agree) / Math.max(total, 1)).toFixed(1)} %); error details identical for ${detailAgree}`);
