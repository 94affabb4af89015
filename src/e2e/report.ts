import type { E2eReport } from "./run.js";

/** The final table and verdict of an e2e run. */
export function formatReport(report: E2eReport, color: boolean): string {
  const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [];
  for (const s of report.scenarios) {
    out.push(`${c("1", `scenario ${s.scenario}`)} (${(s.duration_ms / 1000).toFixed(1)}s)`);
    for (const st of s.steps ?? []) {
      out.push(`  build ${st.build} ${st.step} (${st.transition})${st.failures.length ? c("31", ` ${st.failures.length} failure${st.failures.length === 1 ? "" : "s"}`) : ""}`);
      for (const i of st.instances) out.push(`    ${i.instance}: ${i.action}${i.detail ? ` — ${i.detail}` : ""}`);
      for (const a of st.agents) out.push(`    agent ${a.agent}: ${a.result === "refused" ? `refused ${a.http_status}` : a.result}, ${a.lifecycle}${a.time_to_ready_ms === null ? "" : ` in ${(a.time_to_ready_ms / 1000).toFixed(1)}s`}`);
      for (const k of st.checks) out.push(`    ${c("2", `✓ ${k}`)}`);
    }
    if (s.steps) out.push(`  agents of the last start build:`);
    const rows = [["INSTANCE", "KIND", "AGENT", "AUTH", "RESULT", "AUTHENTICATED AS", "LIFECYCLE", "READY IN", ...(s.scenario === "prebuild" ? ["REINITS"] : [])]];
    for (const a of s.agents) {
      rows.push([
        a.instance,
        a.kind,
        a.agent,
        a.auth,
        a.result === "refused" ? `refused ${a.http_status}` : a.result,
        a.authenticated_as ?? "-",
        a.lifecycle,
        a.time_to_ready_ms === null ? "-" : `${(a.time_to_ready_ms / 1000).toFixed(1)}s`,
        ...(s.scenario === "prebuild" ? [a.reinits === null ? "-" : String(a.reinits)] : []),
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) out.push("  " + r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
    for (const a of s.agents) {
      for (const sc of a.scripts) {
        const took = `${(sc.duration_ms / 1000).toFixed(1)}s`;
        const how = sc.status === "ok" ? `ok in ${took}` : sc.status === "exit_failure" ? `exited ${sc.exit_code} after ${took}` : sc.status === "timed_out" ? `timed out after ${took}` : `${sc.status} after ${took}`;
        out.push(`  ${a.agent}: script "${sc.display_name}" ${how}`);
      }
      for (const app of a.apps) out.push(`  ${a.agent}: app ${app.slug}${app.state ? ` ${app.state}${app.message ? `: ${app.message}` : ""}` : ""}`);
    }
    for (const a of s.agents.filter((x) => x.result === "unsupported")) out.push(`  ${c("33", "-")} agent ${a.agent} not run: ${a.reason}`);
    for (const ch of s.claim_changes ?? []) out.push(`  claim changes ${ch.instance}: ${ch.argument} ${ch.description} — ${ch.effect === "replace" ? "forces replacement" : ch.effect === "update" ? "updated in place" : "effect unknown"}`);
    for (const w of s.warnings) out.push(`  ${c("33", "!")} ${w}`);
    for (const f of s.failures) out.push(`  ${c("31", "✗")} ${f}`);
    for (const [agent, text] of Object.entries(s.logs ?? {})) {
      out.push(`  logs of agent ${agent}:`);
      for (const l of text.split("\n").filter((x) => x !== "")) out.push(`    ${l}`);
    }
    out.push("");
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  if (report.sandbox) out.push(`sandbox and logs kept in ${report.sandbox}`);
  if (report.nothing_to_test) out.push(c("31", `e2e: ${report.nothing_to_test.startsWith("nothing to test") ? "" : "nothing to test: "}${report.nothing_to_test}`));
  else out.push(report.ok ? c("32", `e2e passed: ${report.template}`) : c("31", `e2e failed: ${report.template}`));
  return out.join("\n") + "\n";
}
