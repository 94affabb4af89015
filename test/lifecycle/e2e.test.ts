/**
 * e2e's lifecycle and prebuild scenarios through the built CLI: every example passes `--scenario all`,
 * and each failure class has a broken twin that fails with the reason and a fixed twin that passes —
 * owner-derived user data replaced on claim, a token frozen by ignore_changes, a 409 on the build after
 * a template update, an instance that outlives the stop — plus --fuzz-bootstrap.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { E2eReport, LifecycleStep, ScenarioResult } from "../../src/e2e/run.js";
import { repoRoot, runCli } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

const examples = join(repoRoot, "examples/templates");
const twin = (p: string) => join(repoRoot, "test/fixtures/twins", p);

async function e2e(dir: string, ...args: string[]) {
  const r = await runCli(["e2e", dir, "--json", "--quiet", "--timeout", "30s", ...args], { timeout: 240_000 });
  return { exitCode: r.exitCode, stderr: r.stderr, report: (r.stdout.startsWith("{") ? JSON.parse(r.stdout) : undefined) as E2eReport };
}

const scenario = (r: E2eReport, name: string) => r.scenarios.find((s) => s.scenario === name) as ScenarioResult;
const actions = (s: ScenarioResult) => s.steps!.map((st: LifecycleStep) => [st.step, st.instances.map((i) => i.action.replace(/ \(.*\)$/, "")).join(", ")]);

describe.concurrent("e2e --scenario all on every example", { timeout: 300_000 }, () => {
  const LIFECYCLE: Record<string, string[]> = {
    // A persistent VM stopped by aws_ec2_instance_state; its user data changes (try() gives "" while stopped).
    "aws-multi-agent": ["created", "stopped", "updated in place, started", "stopped", "updated in place, started"],
    "aws-linux": ["created", "stopped", "updated in place, started", "stopped", "updated in place, started"],
    // Created at each start, destroyed at each stop.
    docker: ["created", "destroyed", "created", "destroyed", "created"],
    kubernetes: ["created", "destroyed", "created", "destroyed", "created"],
    "gcp-linux": ["created", "destroyed", "created", "destroyed", "created"],
    "azure-linux": ["created", "destroyed", "created", "destroyed", "created"],
    "aws-multi-agent-sudo-fixed": ["created", "destroyed", "created", "destroyed", "created"],
    "docker-multi-agent": ["created, created", "destroyed, destroyed", "created, created", "destroyed, destroyed", "created, created"],
  };

  it("lists every correct example", () => {
    expect(readdirSync(examples).filter((d) => d !== "aws-multi-agent-sudo-broken").sort()).toEqual(Object.keys(LIFECYCLE).sort());
  });

  for (const [name, expected] of Object.entries(LIFECYCLE)) {
    it(`${name}: start, prebuild and lifecycle pass; every build's agents ready as themselves`, async () => {
      const r = await e2e(join(examples, name), "--scenario", "all");
      expect(r.stderr).toBe("");
      expect(r.report.scenarios.map((s) => [s.scenario, s.ok, s.failures])).toEqual([
        ["start", true, []],
        ["prebuild", true, []],
        ["lifecycle", true, []],
      ]);
      const life = scenario(r.report, "lifecycle");
      expect(actions(life).map(([, a]) => a)).toEqual(expected);
      for (const st of life.steps!.filter((x) => x.transition === "start")) {
        expect(st.agents.length).toBeGreaterThan(0);
        for (const a of st.agents) expect([a.result, a.authenticated_as, a.lifecycle]).toEqual(["ok", a.agent, "ready"]);
      }
      // Every build after the first refuses the tokens of the builds before it that it does not keep.
      for (const st of life.steps!.slice(1)) expect(st.checks.join("\n")).toMatch(/token\(s\) of earlier builds refused \(401\)/);
      expect(r.exitCode).toBe(0);
    });
  }

  it("the prebuild scenario lists what the claim changes: docker's container name and hostname force replacement (a warning: no preset keeps prebuilds)", async () => {
    const r = await e2e(join(examples, "docker"), "--scenario", "prebuild");
    const s = scenario(r.report, "prebuild");
    expect(s.claim_changes!.map((c) => [c.instance, c.argument, c.effect])).toEqual([
      ["docker_container.workspace[0]", "name", "replace"],
      ["docker_container.workspace[0]", "hostname", "replace"],
    ]);
    expect(s.warnings.join("\n")).toMatch(/name changes on claim \("coder-prebuilds-prebuild-[0-9a-f]+" → "coder-e2e-user-dev"\); forces replacement.*a failure once a preset keeps prebuilt workspaces/);
    expect(s.ok).toBe(true);
    expect(s.agents.map((a) => a.reinits)).toEqual([1]);
  });
});

describe.concurrent("e2e catches each failure class on its broken twin and passes the fixed one", { timeout: 300_000 }, () => {
  it("owner-derived user data replaced on claim: the prebuild scenario fails with the minimal ignore_changes", async () => {
    const r = await e2e(twin("claim-replaces-user-data/broken"), "--scenario", "prebuild");
    expect(r.exitCode).toBe(1);
    const s = scenario(r.report, "prebuild");
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatch(/^google_compute_instance\.dev\[0\]: metadata_startup_script changes on claim \(line 3: .*useradd -m -s \/bin\/bash prebuilds" → .*useradd -m -s \/bin\/bash e2e-user"\); forces replacement: .* \(main\.tf:\d+\); fix: add lifecycle \{ ignore_changes = \[metadata_startup_script\] \}/);
    // Every agent was ready before the claim, and re-initialised once after it.
    expect(s.agents.map((a) => [a.result, a.reinits])).toEqual([["ok", 1]]);
    const fixed = await e2e(twin("claim-replaces-user-data/fixed"), "--scenario", "prebuild");
    expect(scenario(fixed.report, "prebuild")).toMatchObject({ ok: true, failures: [], claim_changes: [] });
  });

  it("a token under ignore_changes: refused with 401 on the first restart, naming the frozen argument", async () => {
    const r = await e2e(twin("token-ignore-changes/broken"), "--scenario", "lifecycle");
    expect(r.exitCode).toBe(1);
    const s = scenario(r.report, "lifecycle");
    expect(actions(s)).toEqual([
      ["start", "created"],
      ["stop", "stopped"],
      ["restart", "started"],
      ["stop", "stopped"],
      ["update", "started"],
    ]);
    const restart = s.steps![2];
    expect(restart.agents.map((a) => [a.agent, a.result, a.http_status])).toEqual([["main", "refused", 401]]);
    expect(restart.failures[0]).toMatch(/agent main was refused: authentication refused with HTTP 401: .*lifecycle\.ignore_changes keeps aws_instance\.dev's user_data as it was, with an earlier build's token/);
    expect(restart.instances[0].detail).toMatch(/user_data \(ignored by lifecycle\.ignore_changes\): .*<token of build 1's main>.* → .*<token of build 3's main>/);
    const fixed = await e2e(twin("token-ignore-changes/fixed"), "--scenario", "lifecycle");
    expect(scenario(fixed.report, "lifecycle")).toMatchObject({ ok: true, failures: [] });
  });

  it("stale build 409: after a template update adds an agent, the VM still starts the first without its name", async () => {
    const r = await e2e(twin("stale-build-409/broken"), "--scenario", "lifecycle", "--update", twin("stale-build-409/broken-v2"));
    expect(r.exitCode).toBe(1);
    const s = scenario(r.report, "lifecycle");
    expect(s.steps!.slice(0, 4).every((st) => st.failures.length === 0)).toBe(true);
    const update = s.steps![4];
    expect(update.agents.map((a) => [a.agent, a.result, a.http_status])).toEqual([
      ["main", "refused", 409],
      ["dev", "never_started", null],
    ]);
    expect(update.failures[0]).toMatch(/Multiple agents found with instance ID "i-[0-9a-f]+"\. Set CODER_AGENT_NAME to one of: dev, main — started by `sudo -u coder sh \/opt\/coder\/main-init &` .*was not re-created, so it booted with what cloud-init wrote at its first boot in build 1/);
    const fixed = await e2e(twin("stale-build-409/fixed"), "--scenario", "lifecycle", "--update", twin("stale-build-409/fixed-v2"));
    expect(scenario(fixed.report, "lifecycle")).toMatchObject({ ok: true, failures: [] });
    expect(scenario(fixed.report, "lifecycle").steps![4].agents.map((a) => a.agent).sort()).toEqual(["dev", "main"]);
  });

  it("stale-build agents: a container that outlives the stop keeps build 1's agent, and build 3's never connects", async () => {
    const dir = join(tempDir("e2e-persistent-"), "t");
    cpSync(join(examples, "docker"), dir, { recursive: true });
    const main = join(dir, "main.tf");
    writeFileSync(main, readFileSync(main, "utf8").replace("  count = data.coder_workspace.me.start_count\n", ""));
    const r = await e2e(dir, "--scenario", "lifecycle");
    expect(r.exitCode).toBe(1);
    const s = scenario(r.report, "lifecycle");
    expect(s.warnings[0]).toMatch(/^build 2 \(stop\): docker_container\.workspace keeps running while the workspace is stopped: nothing in the template stops it/);
    expect(s.steps![2].instances[0].action).toBe("kept running");
    expect(s.steps![2].failures[0]).toMatch(/agent main never started: nothing restarted docker_container\.workspace in build 3 .*the agent process of build 1 still runs there/);
  });

  it("start and stop scripts run at every start and every stop", async () => {
    const r = await e2e(join(repoRoot, "test/fixtures/lifecycle/scripts"), "--scenario", "lifecycle");
    const s = scenario(r.report, "lifecycle");
    expect(s).toMatchObject({ ok: true, failures: [] });
    for (const st of s.steps!.filter((x) => x.transition === "stop")) expect(st.checks).toContain("agent main: stop scripts ran at shutdown");
    for (const st of s.steps!.filter((x) => x.transition === "start")) expect(st.agents[0].scripts.map((x) => [x.display_name, x.status]).sort()).toEqual([["Setup", "ok"], ["Startup Script", "ok"]]);
  });

  it("--fuzz-bootstrap: the base64 pattern survives ' \" $ ` %{ in the bootstrap; sh -c '${init_script}' does not", async () => {
    expect((await e2e(join(examples, "aws-multi-agent"), "--fuzz-bootstrap")).exitCode).toBe(0);
    const quoted = join(repoRoot, "test/fixtures/real-patterns/sudoers-d");
    expect((await e2e(quoted)).exitCode).toBe(0);
    const r = await e2e(quoted, "--fuzz-bootstrap");
    expect(r.exitCode).toBe(1);
    const [failure] = scenario(r.report, "start").failures;
    expect(failure).toMatch(/^agent main never started: nothing in the boot of google_compute_instance\.vm ran its init_script; the boot printed: .*exited [1-9].*--fuzz-bootstrap gave it a bootstrap holding ' " \$ ` %\{ .*coder\/init-script-quoting/);
  });

  it("--fuzz-bootstrap: a single-quoted init script split by the quote fails, also when the pasting shell runs the rest as root", async () => {
    // aws-linux pastes it into `sudo -u coder sh -c '…'` in a script without `set -u`: after the quote,
    // the rest of the bootstrap runs in the user-data shell and would start the agent as root.
    const official = join(repoRoot, "test/fixtures/population/aws-linux");
    const r = await e2e(official, "--fuzz-bootstrap");
    expect(r.exitCode).toBe(1);
    const [failure] = scenario(r.report, "start").failures;
    expect(failure).toMatch(/^agent dev never started: its init_script stopped itself: the init script was split before it ran: a quote in it ended the string it was pasted into, and the rest ran in the pasting shell/);
  });

  it("--update is for the lifecycle scenario (exit 2 otherwise)", async () => {
    const r = await runCli(["e2e", join(examples, "docker"), "--update", join(examples, "docker")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--update is for the lifecycle scenario/);
  });
});
