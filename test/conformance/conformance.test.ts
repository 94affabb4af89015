/**
 * Our engine against terraform's own answers (test/conformance/expected, produced by
 * `npm run conformance:refresh`): every case must print exactly what `terraform console` printed, or
 * fail with the same error summary. Cases we knowingly differ on are listed in KNOWN-DIFFERENCES.md.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateConsole } from "../../src/plan/console.js";
import { workspaceContext } from "../../src/plan/context.js";
import { ModuleScope } from "../../src/plan/scope.js";
import type { ModuleConfig } from "../../src/template/config.js";
import { loadModule } from "../../src/template/load.js";
import { HclSyntaxError, parseHclFile } from "../../src/template/hcl/index.js";
import { loadExpected, loadSuites, type SyntaxVerdict, syntaxFiles } from "./suite.js";

const root = import.meta.dirname;
const emptyDir = mkdtempSync(join(tmpdir(), "provisioner-conformance-"));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

/** Cases listed in KNOWN-DIFFERENCES.md (lines "- `suite`: `expr`"). */
const known = new Set(
  [...readFileSync(join(root, "KNOWN-DIFFERENCES.md"), "utf8").matchAll(/^- `([^`]+)`: `(.+)`\s*(?:—|$)/gm)].map((m) => `${m[1]}\u0000${m[2]}`),
);

function emptyModule(dir: string): ModuleConfig {
  return { dir, relDir: ".", files: [], resources: [], locals: {}, variables: {}, outputs: {}, modules: {}, requiredProviders: {}, lockedVersions: {}, skipped: [] };
}

interface Outcome {
  suite: string;
  expr: string;
  agree: boolean;
  ours: string;
  theirs: string;
}
const outcomes: Outcome[] = [];

describe("conformance with terraform console", () => {
  for (const suite of loadSuites(root)) {
    const expected = loadExpected(root, suite);
    it(`${suite.name}: ${suite.cases.length} cases as terraform evaluates them`, () => {
      const config = suite.moduleDir ? loadModule(suite.moduleDir) : emptyModule(emptyDir);
      const disagree: string[] = [];
      for (const expr of suite.cases) {
        // A fresh scope per case: terraform runs a fresh console per expression.
        const scope = ModuleScope.root(config, workspaceContext());
        const want = expected.get(expr);
        expect(want, `no stored answer for ${expr}: run npm run conformance:refresh`).toBeDefined();
        const got = evaluateConsole(scope, expr);
        const ours = got.kind === "error" ? `error: ${got.summary}: ${got.detail}` : got.text;
        const theirs = want!.error ? `error: ${want!.error.summary}: ${want!.error.detail}` : want!.output!;
        const agree = want!.error ? got.kind === "error" && got.summary === want!.error.summary : got.kind !== "error" && got.text === want!.output;
        outcomes.push({ suite: suite.name, expr, agree, ours, theirs });
        if (!agree && !known.has(`${suite.name}\u0000${expr}`)) disagree.push(`${expr}\n    ours:      ${ours.replace(/\n/g, "\n               ")}\n    terraform: ${theirs.replace(/\n/g, "\n               ")}`);
      }
      expect(disagree, `cases that differ from terraform:\n${disagree.join("\n")}`).toEqual([]);
    });
  }

  it("covers at least 600 cases and agrees with terraform on at least 99 % of them", () => {
    const agreeing = outcomes.filter((o) => o.agree).length;
    expect(outcomes.length).toBeGreaterThanOrEqual(600);
    expect(agreeing / outcomes.length).toBeGreaterThanOrEqual(0.99);
  });

  it("lists in KNOWN-DIFFERENCES.md only cases that still differ", () => {
    const stale = [...known].filter((k) => outcomes.some((o) => `${o.suite}\u0000${o.expr}` === k && o.agree));
    expect(stale.map((k) => k.replace("\u0000", ": "))).toEqual([]);
  });
});

describe("parser verdicts equal terraform fmt's", () => {
  const repoRoot = join(root, "../..");
  const stored = JSON.parse(readFileSync(join(root, "expected", "syntax.json"), "utf8")) as SyntaxVerdict[];

  it("has terraform's verdict for every .tf file of the test data and examples", () => {
    expect(syntaxFiles(repoRoot).filter((f) => !stored.some((v) => v.file === f))).toEqual([]);
  });

  it(`parses (or rejects, with terraform's error) each of ${stored.length} files as terraform fmt does`, () => {
    const differ: string[] = [];
    for (const v of stored) {
      let ours: SyntaxVerdict;
      try {
        parseHclFile(readFileSync(join(repoRoot, v.file), "utf8"));
        ours = { file: v.file, valid: true };
      } catch (err) {
        if (!(err instanceof HclSyntaxError)) throw err;
        ours = { file: v.file, valid: false, error: err.diagnostic.summary };
      }
      if (ours.valid !== v.valid || ours.error !== v.error) differ.push(`${v.file}: ours ${JSON.stringify(ours)}, terraform ${JSON.stringify(v)}`);
    }
    expect(differ).toEqual([]);
  });
});
