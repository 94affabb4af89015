import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateTemplate } from "../../src/validate/index.js";
import { repoRoot, runCli } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

const fixture = (p: string) => join(repoRoot, "test/fixtures/validate", p);

async function rulesOf(dir: string) {
  const r = await validateTemplate(dir);
  expect(r.loadError).toBeUndefined();
  return r.findings;
}

describe("validate rules: each fails on its failing fixture and passes on its passing one", () => {
  const cases: [string, string, RegExp[]][] = [
    ["agent-name-wiring", "fail", [/agent "dev" is started with CODER_AGENT_NAME=mian .* no agent on aws_instance\.dev \(agents: dev, main\)/]],
    ["agent-name-wiring", "fail-missing", [/agent "main" is started without CODER_AGENT_NAME .*409/]],
    ["init-script-unused", "fail", [/agent "dev" is tied to aws_instance\.dev, but its init_script is never used/]],
    ["identity-cloud-mismatch", "fail", [/agent "main" uses auth = "aws-instance-identity" but runs on google_compute_instance\.dev/]],
    ["identity-cloud-mismatch", "fail-no-instance", [/agent "main" uses auth = "azure-instance-identity" but runs on docker_container\.workspace\[0\], a docker_container, which has no Azure instance identity/]],
    [
      "agent-fields",
      "fail",
      [/agent name "bad_name" is invalid/, /auth = "aws"/, /arch = "x86"/, /has no os/, /coder_agent "many" has count = 2/],
    ],
    ["mixed-auth", "fail", [/runs token agents \(dev\) and instance-identity agents \(main\)/]],
    ["app-fields", "fail", [/slug "Bad_Slug" is invalid/, /open_in = "window"/, /share = "everyone"/, /both command and url/]],
    ["script-fields", "fail", [/never runs/, /start_blocks_login without run_on_start/, /timeout = 0/]],
    ["cloud-config", "fail", [/runcmd must be a list/, /package_update must be a boolean/, /permissions has a wrong value/]],
    ["cloud-config", "fail-yaml", [/is not valid YAML/]],
    ["agent-token", "fail", [/token agent "vm" is started without CODER_AGENT_TOKEN .*is set before `sudo -u ubuntu`, which does not pass it on/, /token agent "pod" is started without CODER_AGENT_TOKEN \(container dev\)/]],
    ["evaluation", "fail", [/vars map does not contain key "region", referenced at \.\/motd\.tftpl:1,23-29/, /There is no function named "uppercase"/, /Unsuitable value for right operand: a number is required/]],
  ];
  for (const [rule, variant, messages] of cases) {
    it(`${rule}/${variant}`, async () => {
      const findings = await rulesOf(fixture(`${rule}/${variant}`));
      const mine = findings.filter((f) => f.ruleId === `coder/${rule}`);
      for (const m of messages) expect(mine.map((f) => f.message).join("\n")).toMatch(m);
      for (const f of mine) {
        expect(f.file).toBe("main.tf");
        expect(f.line).toBeGreaterThan(0);
        expect(f.hint.length).toBeGreaterThan(5);
      }
    });
    it(`${rule}/pass has no findings`, async () => {
      expect(await rulesOf(fixture(`${rule}/pass`))).toEqual([]);
    });
  }

  it("mixed-auth is a warning", async () => {
    const findings = await rulesOf(fixture("mixed-auth/fail"));
    expect(findings.map((f) => f.severity)).toEqual(["warning"]);
  });

  it("reads .tf.json templates (cdktf output) and reports the JSON file", async () => {
    const findings = await rulesOf(fixture("tf-json/fail"));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: "coder/agent-name-wiring", file: "main.tf.json" });
    expect(findings[0].message).toMatch(/agent "dev" is started with CODER_AGENT_NAME=main .* sibling "main"/);
  });

  it("follows MIME multipart user data with shell parts, exports and --preserve-env", async () => {
    expect(await rulesOf(fixture("multipart/pass"))).toEqual([]);
  });

  it("the generated example passes", async () => {
    expect(await rulesOf(join(repoRoot, "examples/templates/aws-multi-agent"))).toEqual([]);
  });

  it("flags the example when one agent loses its CODER_AGENT_NAME, naming that agent", async () => {
    const dir = tempDir("validate-");
    cpSync(join(repoRoot, "examples/templates/aws-multi-agent"), dir, { recursive: true });
    const tpl = join(dir, "cloud-init.yaml.tftpl");
    writeFileSync(tpl, readFileSync(tpl, "utf8").replace('env, "CODER_AGENT_NAME=${name}", ', '%{ if name == "main" }env, "CODER_AGENT_NAME=${name}", %{ endif }'));
    const findings = await rulesOf(dir);
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/agent "dev" is started without CODER_AGENT_NAME/)]);
  });
});

describe("provisioner validate CLI", () => {
  it("exits 0 on the example", async () => {
    const r = await runCli(["validate", "examples/templates/aws-multi-agent"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/1 template checked: 0 errors, 0 warnings/);
  });

  it("exits 1 with findings grouped by file, no colours without a TTY", async () => {
    const r = await runCli(["validate", fixture("app-fields/fail")]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`${fixture("app-fields/fail")}/main.tf`);
    expect(r.stdout).toMatch(/\s20\s+error\s+coder_app\.web slug/);
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("warnings pass unless --strict", async () => {
    expect((await runCli(["validate", fixture("mixed-auth/fail")])).exitCode).toBe(0);
    expect((await runCli(["validate", fixture("mixed-auth/fail"), "--strict"])).exitCode).toBe(1);
  });

  it("exits 2 on unreadable input, naming the file and where parsing failed", async () => {
    const r = await runCli(["validate", fixture("unreadable"), "--format", "json"]);
    expect(r.exitCode).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.templates[0].error).toMatchObject({ code: "E_TEMPLATE_SYNTAX", file: `${fixture("unreadable")}/main.tf`, line: 11 });
  });

  it("exits 2 for a path without templates", async () => {
    const r = await runCli(["validate", tempDir("empty-")]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/no \.tf or \.tf\.json files found/);
  });

  it("json output lists findings of several templates", async () => {
    const r = await runCli(["validate", fixture("script-fields/fail"), fixture("script-fields/pass"), "--format", "json"]);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ templates: 2, errors: 3, warnings: 0, unreadable: 0 });
    expect(out.templates[0].findings[0]).toMatchObject({ rule: "coder/script-fields", severity: "error", line: expect.any(Number), hint: expect.any(String) });
    expect(out.templates[1].findings).toEqual([]);
  });

  it("sarif output is SARIF 2.1.0 with rules and located results", async () => {
    const r = await runCli(["validate", fixture("agent-name-wiring/fail"), "--format", "sarif"]);
    expect(r.exitCode).toBe(1);
    const sarif = JSON.parse(r.stdout);
    expect(sarif.version).toBe("2.1.0");
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe("provisioner");
    expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toContain("coder/agent-name-wiring");
    expect(run.results).toHaveLength(1);
    expect(run.results[0]).toMatchObject({
      ruleId: "coder/agent-name-wiring",
      level: "error",
      locations: [{ physicalLocation: { artifactLocation: { uri: `${fixture("agent-name-wiring/fail")}/main.tf` }, region: { startLine: 43 } } }],
    });
    expect(run.tool.driver.rules[run.results[0].ruleIndex].id).toBe("coder/agent-name-wiring");
  });

  it("junit output has a failing test case per failed rule", async () => {
    const r = await runCli(["validate", fixture("init-script-unused/fail"), "--format", "junit"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^<\?xml/);
    expect(r.stdout).toMatch(/<testsuites name="provisioner validate" tests="11" failures="1">/);
    expect(r.stdout).toMatch(/<testcase classname="[^"]+" name="coder\/init-script-unused"><failure message="agent &quot;dev&quot;/);
  });
});
