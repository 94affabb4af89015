/**
 * The example templates (README lists them): validate is clean on each correct one and flags the
 * broken twin; e2e passes every correct one and fails the broken one with the 409 and the line to fix.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateTemplate } from "../../src/validate/index.js";
import { repoRoot, runCli } from "../support/cli.js";

const examples = join(repoRoot, "examples/templates");
const BROKEN = "aws-multi-agent-sudo-broken";
const correct = readdirSync(examples).filter((d) => d !== BROKEN);

/** The compute kind each example runs its agents on, and its agents. */
const EXPECTED: Record<string, { kind: string; agents: string[] }> = {
  "aws-linux": { kind: "aws_instance", agents: ["dev"] },
  "aws-multi-agent": { kind: "aws_instance", agents: ["dev", "main"] },
  "aws-multi-agent-sudo-fixed": { kind: "aws_instance", agents: ["dev", "main"] },
  "azure-linux": { kind: "azurerm_linux_virtual_machine", agents: ["main"] },
  docker: { kind: "docker_container", agents: ["main"] },
  "docker-multi-agent": { kind: "docker_container", agents: ["app", "db"] },
  "gcp-linux": { kind: "google_compute_instance", agents: ["main"] },
  kubernetes: { kind: "kubernetes_deployment", agents: ["main"] },
};

describe("validate on the examples", () => {
  it("lists every example here", () => {
    expect(correct.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const name of correct) {
    it(`${name}: clean`, async () => {
      const r = await validateTemplate(join(examples, name));
      expect(r.loadError).toBeUndefined();
      expect(r.findings).toEqual([]);
    });
  }

  it(`${BROKEN}: one error per agent, on the line that loses its name`, async () => {
    const r = await validateTemplate(join(examples, BROKEN));
    const lines = readFileSync(join(examples, BROKEN, "main.tf"), "utf8").split("\n");
    expect(r.findings.map((f) => [f.ruleId, f.severity, lines[f.line - 1].trim().split(" ").slice(0, 4).join(" ")])).toEqual([
      ["coder/agent-name-wiring", "error", "CODER_AGENT_NAME=main sudo -u coder"],
      ["coder/agent-name-wiring", "error", "CODER_AGENT_NAME=dev sudo -u coder"],
    ]);
  });
});

describe.concurrent("e2e on the examples", { timeout: 150_000 }, () => {
  for (const name of correct.filter((n) => n !== "aws-multi-agent")) {
    it(`${name}: passes, every agent ready as itself on its ${EXPECTED[name]?.kind}`, async () => {
      const r = await runCli(["e2e", join(examples, name), "--json", "--quiet"], { timeout: 120_000 });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const s = JSON.parse(r.stdout).scenarios[0];
      expect(s.agents.map((a: { agent: string }) => a.agent).sort()).toEqual(EXPECTED[name].agents);
      for (const a of s.agents) {
        expect([a.kind, a.result, a.authenticated_as, a.lifecycle]).toEqual([EXPECTED[name].kind, "ok", a.agent, "ready"]);
        for (const script of a.scripts) expect(script.status, `${a.agent}: ${script.display_name}`).toBe("ok");
      }
    });
  }

  it(`${BROKEN}: fails, both agents refused with 409, each naming the line that started it and the fix`, async () => {
    const r = await runCli(["e2e", join(examples, BROKEN), "--quiet"], { timeout: 120_000 });
    expect(r.exitCode).toBe(1);
    for (const [agent, line] of [
      ["main", 46],
      ["dev", 47],
    ] as const) {
      expect(r.stdout).toContain(
        `✗ agent ${agent} was refused: authentication refused with HTTP 409: Multiple agents found with instance ID "i-`,
      );
      expect(r.stdout).toContain(`— started by \`CODER_AGENT_NAME=${agent} sudo -u coder /opt/coder/${agent}-init > /tmp/coder-${agent}.log 2>&1 &\` at main.tf:${line} (script): CODER_AGENT_NAME=${agent} is set before \`sudo -u coder\``);
      expect(r.stdout).toContain(`fix: pass it through the wrapper: \`sudo -u coder CODER_AGENT_NAME=${agent} sh -c "…"\``);
    }
  });
});
