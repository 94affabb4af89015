import { isAbsolute, join } from "node:path";
import { TemplateLoadError } from "../template/config.js";
import { loadModule } from "../template/load.js";
import { createRuleContext } from "./context.js";
import type { Finding } from "./rule.js";
import { RULES } from "./rules/index.js";

export interface TemplateResult {
  /** The path as given on the command line. */
  path: string;
  findings: Finding[];
  /** Set when the template could not be read; no rules ran. */
  loadError?: { code: string; file: string; line?: number; column?: number; message: string };
  /** Files that were not read (not regular files), and modules that were not followed, with why. */
  notes: string[];
}

export interface ValidationReport {
  templates: TemplateResult[];
  errors: number;
  warnings: number;
  unreadable: number;
}

/** Validates one template directory. */
export async function validateTemplate(path: string): Promise<TemplateResult> {
  let config;
  try {
    config = loadModule(path);
  } catch (err) {
    if (err instanceof TemplateLoadError) {
      return { path, findings: [], notes: [], loadError: { code: err.code, file: err.file, line: err.line, column: err.column, message: err.reason } };
    }
    throw err;
  }
  const ctx = createRuleContext(config);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    for (const f of rule.check(ctx)) {
      findings.push({ ruleId: rule.id, severity: f.severity ?? rule.severity, file: f.file, line: f.line, message: f.message, hint: f.hint });
    }
  }
  // Where provider-compat explains a line (an attribute the pinned provider no longer has), the
  // evaluation error on it ("Unsupported attribute") says the same thing less usefully.
  const explained = new Set(findings.filter((f) => f.ruleId === "coder/provider-compat").map((f) => `${f.file}:${f.line}`));
  const kept = findings.filter((f) => f.ruleId !== "coder/evaluation" || !explained.has(`${f.file}:${f.line}`));
  const notes = [
    ...config.skipped.map((s) => `${s.file} was not read: it is ${s.reason}`),
    ...ctx.plan.unfollowedModules.map((m) => `${m.address} (source ${m.source}) was not followed: only local modules are checked`),
  ];
  kept.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId));
  return { path, findings: kept, notes };
}

export async function validatePaths(paths: string[]): Promise<ValidationReport> {
  const templates: TemplateResult[] = [];
  for (const p of paths) templates.push(await validateTemplate(p));
  const all = templates.flatMap((t) => t.findings);
  return {
    templates,
    errors: all.filter((f) => f.severity === "error").length,
    warnings: all.filter((f) => f.severity === "warning").length,
    unreadable: templates.filter((t) => t.loadError).length,
  };
}

/** 2 unreadable input, 1 findings (warnings only with strict), 0 clean. */
export function exitCodeOf(report: ValidationReport, strict: boolean): number {
  if (report.unreadable > 0) return 2;
  if (report.errors > 0 || (strict && report.warnings > 0)) return 1;
  return 0;
}

/** The finding's file joined to the template path as given (for editors and code scanning). */
export function findingPath(template: TemplateResult, file: string): string {
  // Errors about the path itself (missing, not a directory) carry the path as their file.
  return file === template.path || isAbsolute(file) ? file : join(template.path, file);
}
