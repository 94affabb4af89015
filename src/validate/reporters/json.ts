import { findingPath, type ValidationReport } from "../index.js";

export function formatJson(report: ValidationReport): string {
  return (
    JSON.stringify(
      {
        version: 1,
        summary: { templates: report.templates.length, errors: report.errors, warnings: report.warnings, unreadable: report.unreadable },
        templates: report.templates.map((t) => ({
          path: t.path,
          error: t.loadError ? { ...t.loadError, file: findingPath(t, t.loadError.file) } : undefined,
          findings: t.findings.map((f) => ({ rule: f.ruleId, severity: f.severity, file: findingPath(t, f.file), line: f.line, message: f.message, hint: f.hint })),
          notes: t.notes,
        })),
      },
      null,
      2,
    ) + "\n"
  );
}
