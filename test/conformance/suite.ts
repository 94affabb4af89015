/**
 * The conformance suite's cases and how terraform answers them. Shared by the test (which checks our
 * engine against the stored answers), the drift test and scripts/conformance-refresh.ts.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Suite {
  /** File stem under expected/: the cases file name, or `module-<dir>`. */
  name: string;
  cases: string[];
  /** For module suites: the directory evaluated in. */
  moduleDir?: string;
  /** Evaluate against a plan (`terraform console -plan`): resources have planned values. */
  plan: boolean;
}

/** What terraform printed for one expression. */
export interface ExpectedCase {
  expr: string;
  /** `terraform console` output, when the expression evaluated. */
  output?: string;
  /** The first error diagnostic, when it did not. */
  error?: { summary: string; detail: string };
}

function readCases(file: string): { cases: string[]; plan: boolean } {
  const lines = readFileSync(file, "utf8").split("\n");
  return {
    plan: lines.some((l) => l.trim() === "# mode: plan"),
    cases: lines.filter((l) => l.trim() !== "" && !l.startsWith("#")),
  };
}

export function loadSuites(root: string): Suite[] {
  const suites: Suite[] = [];
  const casesDir = join(root, "cases");
  for (const f of readdirSync(casesDir).filter((n) => n.endsWith(".txt")).sort()) {
    const { cases, plan } = readCases(join(casesDir, f));
    suites.push({ name: f.replace(/\.txt$/, ""), cases, plan });
  }
  const modulesDir = join(root, "modules");
  for (const d of readdirSync(modulesDir).sort()) {
    const dir = join(modulesDir, d);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, "cases.txt"))) continue;
    const { cases, plan } = readCases(join(dir, "cases.txt"));
    suites.push({ name: `module-${d}`, cases, plan, moduleDir: dir });
  }
  return suites;
}

export function loadExpected(root: string, suite: Suite): Map<string, ExpectedCase> {
  const file = join(root, "expected", `${suite.name}.json`);
  if (!existsSync(file)) return new Map();
  return new Map((JSON.parse(readFileSync(file, "utf8")) as ExpectedCase[]).map((c) => [c.expr, c]));
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** The first "Error: …" diagnostic of terraform's stderr: summary and detail (line wrapping undone). */
export function parseTerraformError(stderr: string): { summary: string; detail: string } {
  const lines = stderr.replace(ANSI, "").split("\n").map((l) => l.replace(/^[│╷╵]\s?/, ""));
  const start = lines.findIndex((l) => l.startsWith("Error: "));
  if (start < 0) return { summary: "unknown error", detail: stderr.trim() };
  const summary = lines[start].slice("Error: ".length).trim();
  const rest: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith("Error: ")) break;
    rest.push(l);
  }
  // Skip the source location block ("on <file> line N:" and the code lines after it).
  const paragraphs = rest
    .join("\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== "" && !p.startsWith("on ") && !/^\(source code not available\)$/.test(p) && !/^\d+:/.test(p) && !p.startsWith("├"));
  // A panic's goroutine dump holds addresses that differ on every run: keep only its first line.
  const detail = paragraphs.join(" ").replace(/\s*\n\s*/g, " ").replace(/ goroutine \d+ \[running\]:.*$/, "");
  return { summary, detail };
}

const tfEnv = () => ({ ...process.env, TF_CLI_CONFIG_FILE: process.env.TF_CLI_CONFIG_FILE ?? join(import.meta.dirname, "../../.ci/terraformrc"), TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" });

export function runTerraformCase(dir: string, expr: string, plan: boolean): Promise<ExpectedCase> {
  return new Promise((resolve, reject) => {
    const child = execFile("terraform", ["console", "-no-color", ...(plan ? ["-plan"] : [])], { cwd: dir, env: tfEnv(), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      if (typeof code !== "number") return reject(err);
      if (code === 0) resolve({ expr, output: stdout.replace(/\n$/, "") });
      else resolve({ expr, error: parseTerraformError(stderr) });
    });
    child.stdin!.end(expr + "\n");
  });
}

export function terraformInit(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("terraform", ["init", "-input=false", "-backend=false", "-no-color"], { cwd: dir, env: tfEnv() }, (err, _out, stderr) => (err ? reject(new Error(`terraform init failed: ${stderr}`)) : resolve()));
  });
}

/** Whether terraform is on PATH. */
export function hasTerraform(): boolean {
  return (process.env.PATH ?? "").split(":").some((p) => p && existsSync(join(p, "terraform")));
}

/** A file's parse verdict: valid, or the first error's summary. */
export interface SyntaxVerdict {
  file: string;
  valid: boolean;
  error?: string;
}

/** Every .tf file the parser-verdict check covers, relative to the repository root. */
export function syntaxFiles(repoRoot: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(repoRoot, rel);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs).sort()) {
      if (name === "node_modules" || name === ".terraform" || name.startsWith(".")) continue;
      const r = join(rel, name);
      if (statSync(join(repoRoot, r)).isDirectory()) walk(r);
      else if (name.endsWith(".tf")) out.push(r);
    }
  };
  for (const dir of ["test/conformance/syntax", "test/conformance/modules", "test/fixtures", "examples", "templates"]) walk(dir);
  return out;
}

/** `terraform fmt`'s verdict on a file (it parses with hclsyntax before formatting). */
export function terraformFmtVerdict(repoRoot: string, file: string): Promise<SyntaxVerdict> {
  return new Promise((resolve) => {
    execFile("terraform", ["fmt", "-write=false", "-list=false", "-no-color", join(repoRoot, file)], { env: tfEnv() }, (err, _out, stderr) => {
      if (!err) resolve({ file, valid: true });
      else resolve({ file, valid: false, error: parseTerraformError(stderr).summary });
    });
  });
}
