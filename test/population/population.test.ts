/**
 * The template population (test/fixtures/population): templates modelled on Coder's official
 * examples, coder/registry and community repositories, with broken twins of real mistakes. Each
 * directory's EXPECT states what `validate` and `e2e` must say, and why:
 *
 *   validate: clean | errors <rule>… | warnings <rule>…   (the exact sets of rule ids)
 *   e2e: pass | fail <text> | nothing-to-test <text> | invalid <text>
 *   e2e-prebuild: pass                                       (also claims a prebuild)
 *   e2e-lifecycle: pass | fail <text>                        (start → stop → start → update → start)
 *   why: …
 *
 * validate runs in-process on every template. e2e runs the real CLI on a representative selection
 * (every compute family, every broken twin's kind, at most 25, two at a time); set
 * PROVISIONER_POPULATION_E2E=all to run every stated e2e verdict.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateTemplate } from "../../src/validate/index.js";
import { repoRoot, runCli } from "../support/cli.js";

const root = join(repoRoot, "test/fixtures/population");

interface Expectation {
  validate: { errors: string[]; warnings: string[] };
  e2e?: { verdict: "pass" | "fail" | "nothing-to-test" | "invalid"; text: string };
  prebuild: boolean;
  lifecycle?: { verdict: "pass" | "fail"; text: string };
}

function readExpect(dir: string): Expectation {
  const out: Expectation = { validate: { errors: [], warnings: [] }, prebuild: false };
  let validateStated = false;
  for (const line of readFileSync(join(root, dir, "EXPECT"), "utf8").split("\n")) {
    const m = /^([a-z0-9-]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m;
    if (key === "validate") {
      validateStated = true;
      const [kind, ...rules] = value.split(/\s+/);
      if (kind === "errors") out.validate.errors.push(...rules);
      else if (kind === "warnings") out.validate.warnings.push(...rules);
      else if (kind !== "clean") throw new Error(`${dir}/EXPECT: unknown validate verdict ${kind}`);
    } else if (key === "e2e") {
      const [verdict, ...text] = value.split(" ");
      if (!["pass", "fail", "nothing-to-test", "invalid"].includes(verdict)) throw new Error(`${dir}/EXPECT: unknown e2e verdict ${verdict}`);
      out.e2e = { verdict: verdict as NonNullable<Expectation["e2e"]>["verdict"], text: text.join(" ") };
    } else if (key === "e2e-prebuild") out.prebuild = value === "pass";
    else if (key === "e2e-lifecycle") {
      const [verdict, ...text] = value.split(" ");
      if (verdict !== "pass" && verdict !== "fail") throw new Error(`${dir}/EXPECT: unknown e2e-lifecycle verdict ${verdict}`);
      out.lifecycle = { verdict, text: text.join(" ") };
    }
    else if (key !== "why") throw new Error(`${dir}/EXPECT: unknown key ${key}`);
  }
  if (!validateStated || !out.e2e) throw new Error(`${dir}/EXPECT must state a validate and an e2e verdict`);
  return out;
}

const templates = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const expectations = new Map(templates.map((t) => [t, readExpect(t)]));

/** One of each compute family and of each broken twin's kind; cheap refusals run too. */
const E2E_SELECTION = [
  // passes: cloud-init multipart, systemd units, startup scripts, containers, hand-overs, apply-time values
  "aws-linux",
  "azure-linux",
  "digitalocean-linux",
  "gcp-linux",
  "incus",
  "docker",
  "docker-envbuilder",
  "kubernetes",
  "kubernetes-envbox",
  "community-aws-spot-multi-agent",
  "community-hetzner-cloud",
  "community-systemd-user-unit",
  "registry-docker-build-prebuilds",
  "community-docker-install-tools",
  // failures, each with its cause
  "broken-aws-export-name-before-sudo",
  "broken-su-login-drops-token",
  "broken-docker-no-token",
  "broken-unit-enabled-not-started",
  "broken-wrong-agent-name",
  "broken-k8s-secret-key-mismatch",
  "broken-azure-disk-wait-no-attachment",
  "scratch",
  // nothing to test (never a pass), and templates Terraform would not plan
  "aws-windows",
  "gcp-vm-container",
  "broken-templatefile-missing-var",
];
const e2eTemplates = process.env.PROVISIONER_POPULATION_E2E === "all" ? templates : E2E_SELECTION;

/** At most two e2e runs at a time (each boots a coordinator and sandboxes; this is a 2-core machine). */
const slots = { free: 2, waiting: [] as (() => void)[] };
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (slots.free === 0) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  else slots.free--;
  try {
    return await fn();
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free++;
  }
}

describe("the population: validate", () => {
  it("has at least 40 templates, each with its verdicts", () => {
    expect(templates.length).toBeGreaterThanOrEqual(40);
    expect(E2E_SELECTION.length).toBeLessThanOrEqual(25);
    for (const t of E2E_SELECTION) expect(templates).toContain(t);
  });

  for (const t of templates) {
    it(t, async () => {
      const want = expectations.get(t)!.validate;
      const r = await validateTemplate(join(root, t));
      expect(r.loadError).toBeUndefined();
      const ids = (severity: string) => [...new Set(r.findings.filter((f) => f.severity === severity).map((f) => f.ruleId))].sort();
      const explain = r.findings.map((f) => `${f.ruleId} ${f.file}:${f.line} ${f.message}`).join("\n");
      expect(ids("error"), explain).toEqual([...want.errors].sort());
      expect(ids("warning"), explain).toEqual([...want.warnings].sort());
      for (const f of r.findings) expect(f.line).toBeGreaterThan(0);
    });
  }
});

interface AgentRow {
  agent: string;
  result: string;
  reason: string | null;
}

interface Report {
  ok: boolean;
  nothing_to_test: string | null;
  scenarios: { scenario: string; ok: boolean; failures: string[]; agents: AgentRow[] }[];
}

describe.concurrent("the population: e2e", { timeout: 400_000 }, () => {
  for (const t of e2eTemplates) {
    const want = expectations.get(t)!;
    it(`${t}: ${want.e2e!.verdict}${want.e2e!.text ? ` (${want.e2e!.text})` : ""}`, async () => {
      const r = await limited(() => runCli(["e2e", join(root, t), "--json", "--timeout", "40s", ...(want.prebuild ? ["--scenario", "all"] : [])], { timeout: 140_000 }));
      const report: Report | undefined = r.stdout.startsWith("{") ? JSON.parse(r.stdout) : undefined;
      const context = `exit ${r.exitCode}\n${r.stderr}\n${JSON.stringify(report?.scenarios?.map((s) => s.agents), null, 1)}`;
      const { verdict, text } = want.e2e!;
      if (verdict === "invalid") {
        expect(r.exitCode, context).toBe(2);
        expect(r.stderr).toContain(text);
        return;
      }
      expect(report, context).toBeDefined();
      if (verdict === "nothing-to-test") {
        expect(r.exitCode, context).toBe(2);
        expect(report!.ok).toBe(false);
        expect(report!.nothing_to_test).toContain(text);
        return;
      }
      if (verdict === "fail") {
        expect(r.exitCode, context).toBe(1);
        expect(report!.scenarios[0].failures.join("\n"), context).toContain(text);
        return;
      }
      expect(r.exitCode, context).toBe(0);
      for (const s of report!.scenarios) {
        expect(s.ok, context).toBe(true);
        // Never vacuous: at least one agent ran, and every agent that ran is ready as itself.
        const ran = s.agents.filter((a) => a.result !== "unsupported");
        expect(ran.length, context).toBeGreaterThan(0);
        for (const a of ran) expect(a.result, context).toBe("ok");
      }
      expect(report!.scenarios.map((s) => s.scenario)).toEqual(want.prebuild ? ["start", "prebuild", "lifecycle"] : ["start"]);
    });
  }
});

describe.concurrent("the population: e2e lifecycle", { timeout: 400_000 }, () => {
  for (const t of templates.filter((x) => expectations.get(x)!.lifecycle)) {
    const want = expectations.get(t)!.lifecycle!;
    it(`${t}: ${want.verdict}${want.text ? ` (${want.text})` : ""}`, async () => {
      const r = await limited(() => runCli(["e2e", join(root, t), "--json", "--timeout", "40s", "--scenario", "lifecycle"], { timeout: 140_000 }));
      const report = JSON.parse(r.stdout) as { scenarios: { scenario: string; ok: boolean; failures: string[]; steps: { step: string; transition: string; agents: AgentRow[]; failures: string[] }[] }[] };
      const [lifecycle] = report.scenarios;
      const context = `exit ${r.exitCode}\n${r.stderr}\n${lifecycle.failures.join("\n")}`;
      expect(lifecycle.scenario).toBe("lifecycle");
      if (want.verdict === "fail") {
        expect(r.exitCode, context).toBe(1);
        expect(lifecycle.failures.join("\n"), context).toContain(want.text);
        return;
      }
      expect(r.exitCode, context).toBe(0);
      expect(lifecycle.steps.map((s) => s.step)).toEqual(["start", "stop", "restart", "stop", "update"]);
      // Never vacuous: every start build ran its agents, each ready as itself.
      for (const s of lifecycle.steps.filter((x) => x.transition === "start")) {
        expect(s.agents.length, context).toBeGreaterThan(0);
        for (const a of s.agents) expect(a.result, context).toBe("ok");
      }
    });
  }
});
