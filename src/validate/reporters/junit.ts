import { RULES } from "../rules/index.js";
import { findingPath, type ValidationReport } from "../index.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JUnit XML: one test suite per template, one test case per rule; findings are failures. */
export function formatJunit(report: ValidationReport, strict: boolean): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failing = (sev: string) => sev === "error" || strict;
  let total = 0;
  let failures = 0;
  const suites: string[] = [];
  for (const t of report.templates) {
    const cases: string[] = [];
    let suiteFailures = 0;
    if (t.loadError) {
      cases.push(`    <testcase classname="${esc(t.path)}" name="load"><error message="${esc(t.loadError.message)}"/></testcase>`);
      suiteFailures++;
    } else {
      for (const rule of RULES) {
        const fs = t.findings.filter((f) => f.ruleId === rule.id);
        const failed = fs.filter((f) => failing(f.severity));
        const body = fs.map((f) => `${findingPath(t, f.file)}:${f.line}: ${f.severity}: ${f.message}\nfix: ${f.hint}`).join("\n\n");
        if (failed.length > 0) {
          suiteFailures++;
          cases.push(`    <testcase classname="${esc(t.path)}" name="${esc(rule.id)}"><failure message="${esc(failed[0].message)}" type="${esc(rule.id)}">${esc(body)}</failure></testcase>`);
        } else if (fs.length > 0) {
          cases.push(`    <testcase classname="${esc(t.path)}" name="${esc(rule.id)}"><system-out>${esc(body)}</system-out></testcase>`);
        } else cases.push(`    <testcase classname="${esc(t.path)}" name="${esc(rule.id)}"/>`);
      }
    }
    total += cases.length;
    failures += suiteFailures;
    suites.push(`  <testsuite name="${esc(t.path)}" tests="${cases.length}" failures="${suiteFailures}">`, ...cases, "  </testsuite>");
  }
  out.push(`<testsuites name="provisioner validate" tests="${total}" failures="${failures}">`, ...suites, "</testsuites>");
  return out.join("\n") + "\n";
}
