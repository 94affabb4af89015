import { ruleHelp } from "../rule-docs.js";
import { RULES } from "../rules/index.js";
import { findingPath, type ValidationReport } from "../index.js";

/** SARIF 2.1.0, as code-scanning services accept it. */
export function formatSarif(report: ValidationReport, version: string): string {
  const results = report.templates.flatMap((t) => [
    ...t.findings.map((f) => ({
      ruleId: f.ruleId,
      ruleIndex: RULES.findIndex((r) => r.id === f.ruleId),
      level: f.severity === "error" ? "error" : "warning",
      message: { text: `${f.message}. Fix: ${f.hint}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: findingPath(t, f.file) }, region: { startLine: f.line } } }],
    })),
  ]);
  const notifications = report.templates
    .filter((t) => t.loadError)
    .map((t) => ({
      level: "error",
      message: { text: t.loadError!.message },
      locations: [{ physicalLocation: { artifactLocation: { uri: findingPath(t, t.loadError!.file) }, ...(t.loadError!.line ? { region: { startLine: t.loadError!.line } } : {}) } }],
    }));
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "provisioner",
            version,
            informationUri: "https://coder.com/docs/admin/templates",
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/^coder\//, "").replace(/-(.)/g, (_m, ch: string) => ch.toUpperCase()),
              shortDescription: { text: r.title },
              fullDescription: { text: r.description },
              help: ruleHelp(r),
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        invocations: [{ executionSuccessful: report.unreadable === 0, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + "\n";
}
