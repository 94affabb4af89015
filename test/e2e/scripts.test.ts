import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../support/cli.js";

const template = join(repoRoot, "test/fixtures/e2e/scripts");

describe("e2e runs each agent's scripts and apps as the template declares them", { timeout: 120_000 }, () => {
  it("reports a failing and a timed-out script by name, the agent's lifecycle, its apps and (with --logs) its logs", async () => {
    const r = await runCli(["e2e", template, "--json", "--quiet", "--logs"], { timeout: 110_000 });
    expect(r.exitCode).toBe(1);
    const s = JSON.parse(r.stdout).scenarios[0];
    const byName = Object.fromEntries(s.agents.map((a: { agent: string }) => [a.agent, a]));
    expect(byName.ok).toMatchObject({ result: "ok", lifecycle: "ready", apps: [{ slug: "web" }] });
    expect(byName.ok.scripts).toEqual([expect.objectContaining({ display_name: "Startup Script", status: "ok", exit_code: 0 })]);
    expect(byName.fails).toMatchObject({ result: "not_ready", lifecycle: "start_error", reason: 'its lifecycle ended start_error: script "Install" exited 3' });
    expect(byName.fails.scripts).toEqual([expect.objectContaining({ display_name: "Install", status: "exit_failure", exit_code: 3 })]);
    expect(byName.slow).toMatchObject({ result: "not_ready", lifecycle: "start_timeout", reason: 'its lifecycle ended start_timeout: script "Warm cache" timed out' });
    expect(byName.slow.scripts).toEqual([expect.objectContaining({ display_name: "Warm cache", status: "timed_out" })]);
    expect(s.failures).toEqual(['agent fails was not ready: its lifecycle ended start_error: script "Install" exited 3', 'agent slow was not ready: its lifecycle ended start_timeout: script "Warm cache" timed out']);
    // The script's own output reaches the agent's logs, as GET …/logs?format=text prints them.
    expect(s.logs.fails).toMatch(/\[info\] \[agent\.fails\|Install\] installing/);
    expect(s.logs.ok).toMatch(/\[agent\.ok\|Startup Script\] started/);
  });
});
