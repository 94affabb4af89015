import { findingPath, type ValidationReport } from "../index.js";

const COLORS = { red: "\x1b[31m", yellow: "\x1b[33m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };

export function formatText(report: ValidationReport, color: boolean): string {
  const c = (k: keyof typeof COLORS, s: string) => (color ? `${COLORS[k]}${s}${COLORS.reset}` : s);
  const lines: string[] = [];
  for (const t of report.templates) {
    if (t.loadError) {
      const e = t.loadError;
      lines.push(c("bold", findingPath(t, e.file)));
      lines.push(`  ${e.line ?? "-"}${e.column ? `:${e.column}` : ""}  ${c("red", "unreadable")}  ${e.message}`);
      lines.push("");
      continue;
    }
    const byFile = new Map<string, typeof t.findings>();
    for (const f of t.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
    for (const [file, findings] of byFile) {
      lines.push(c("bold", findingPath(t, file)));
      for (const f of findings) {
        const sev = f.severity === "error" ? c("red", "error  ") : c("yellow", "warning");
        lines.push(`  ${String(f.line).padStart(4)}  ${sev}  ${f.message}  ${c("dim", f.ruleId)}`);
        lines.push(`        ${c("dim", "fix:")} ${f.hint}`);
      }
      lines.push("");
    }
    for (const n of t.notes) lines.push(`${c("dim", "note:")} ${t.path}: ${n}`);
    if (t.notes.length) lines.push("");
  }
  const n = report.templates.length;
  const summary = `${n} template${n === 1 ? "" : "s"} checked: ${report.errors} error${report.errors === 1 ? "" : "s"}, ${report.warnings} warning${report.warnings === 1 ? "" : "s"}${report.unreadable ? `, ${report.unreadable} unreadable` : ""}`;
  lines.push(report.errors || report.unreadable ? c("red", summary) : summary);
  return lines.join("\n") + "\n";
}
