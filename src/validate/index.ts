import { join } from "node:path";
import { loadTemplate } from "../template/load.js";
import { TemplateLoadError } from "../template/model.js";
import { createRuleContext } from "./context.js";
import type { Finding } from "./rule.js";
import { RULES } from "./rules/index.js";

export interface TemplateResult {
  /** The path as given on the command line. */
  path: string;
  findings: Finding[];
  /** Set when the template could not be read; no rules ran. */
  loadError?: { code: string; file: string; line?: number; column?: number; message: string };
}

export interface ValidationReport {
  templates: TemplateResult[];
  errors: number;
  warnings: number;
  unreadable: number;
}

/** Validates one template directory. */
export async function validateTemplate(path: string): Promise<TemplateResult> {
  let model;
  try {
    model = await loadTemplate(path);
  } catch (err) {
    if (err instanceof TemplateLoadError) {
      return { path, findings: [], loadError: { code: err.code, file: err.file, line: err.line, column: err.column, message: err.reason } };
    }
    throw err;
  }
  const ctx = createRuleContext(model);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    for (const f of rule.check(ctx)) {
      findings.push({ ruleId: rule.id, severity: "severity" in f ? f.severity : rule.severity, file: f.file, line: f.line, message: f.message, hint: f.hint });
    }
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId));
  return { path, findings };
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
  return join(template.path, file);
}
