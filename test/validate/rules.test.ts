import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateTemplate } from "../../src/validate/index.js";
import { rulesDocument } from "../../src/validate/rule-docs.js";
import { RULES } from "../../src/validate/rules/index.js";
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
    ["init-script-quoting", "fail", [/agent "main"'s init_script is pasted inside single quotes: it works only while Coder's bootstrap holds no `'` .*sudo -u coder sh -c '/]],
    ["init-script-quoting", "fail-double", [/agent "main"'s init_script is pasted inside double quotes/, /agent "dev"'s init_script is pasted inside an unquoted heredoc: .*cat > \/opt\/dev-init <<SCRIPT/]],
    ["init-script-quoting", "fail-template", [/takes `\$\{HOME\}` as a Terraform interpolation/, /takes `%\{` as the start of a template directive/]],
    ["provider-compat", "fail", [/coder_agent\.main\.login_before_ready was removed in coder provider 2\.0\.0, and this template runs with 2\.16\.0/, /startup_script_timeout was removed/, /coder_app\.code\.relative_path was removed/, /data\.coder_workspace\.me\.owner was removed/, /coder_agent\.main\.dir is deprecated/]],
    ["provider-compat", "fail-new", [/coder_env\.path\.merge_strategy exists from coder provider 2\.15\.0 only, and this template runs with 2\.14\.0/, /subagent_id exists from coder provider 2\.14\.0 only; the constraint ">= 2\.10\.0, < 2\.15\.0" also allows 2\.10\.0 to 2\.13\.0/, /coder_app\.shell sets both command and subdomain, which coder provider 2\.14\.0 and later refuse/]],
    ["provider-compat", "fail-unpinned", [/the coder provider has no version constraint/, /owner_email was removed in coder provider 2\.0\.0/]],
    ["app-slug-unique", "fail", [/coder_app\.dev_web has slug "web", like coder_app\.main_web at main\.tf:\d+ \(agents main and dev\)/, /module\.code_server_dev\.coder_app\.code_server has slug "code-server", like module\.code_server_main/]],
    ["startup-blocks", "fail", [/startup_script runs code-server in the foreground .* users cannot log in/, /coder_script\.jupyter\.script runs jupyter in the foreground/, /coder_script\.files\.script runs python -m http\.server in the foreground/]],
    ["metadata", "fail", [/interval = 1 below timeout = 5/, /two metadata items with key "cpu"/, /metadata "disk" has no timeout/]],
    ["multi-agent-supervised", "fail", [/agents dev and main on aws_instance\.workspace are both started by the unit \/etc\/systemd\/system\/coder-agent\.service/]],
    ["multi-agent-supervised", "fail-socket", [/share CODER_AGENT_SOCKET_PATH=\/run\/coder-agent\.sock/]],
    ["multi-agent-supervised", "fail-user", [/run as one user \(coder\) under systemd units .* with the default agent socket/]],
    ["parameters", "fail", [/its default "t3\.small" is not one of its options/, /form_type = "checkbox"/, /does not match its validation regex/, /"disk_size" to "500", which is above its validation max 100/, /"region", which no coder_parameter declares/, /after 600 s: Coder refuses a ttl under 3600 seconds/]],
    ["prebuild-replacement", "fail", [/docker_container\.workspace\[0\]: name changes on claim \("coder-prebuilds-prebuild-[0-9a-f]+" → "coder-alice-dev"\); forces replacement/, /hostname changes on claim/]],
    ["prebuild-replacement", "fail-user-data", [/aws_instance\.vm: user_data changes on claim \(line 2: "useradd -m prebuilds" → "useradd -m alice"\); forces replacement/]],
    ["prebuild-replacement", "fail-multi-agent", [/2 agents \(main, vm\): Coder does not support prebuilds for multi-agent templates yet/]],
    ["token-ignore-changes", "fail", [/aws_instance\.dev ignores changes to user_data, which carries coder_agent\.main's token; .* coderd refuses it \(401\)/]],
    ["token-ignore-changes", "fail-all", [/ignore_changes = all and runs token agent "main" \(its token is in env\)/]],
    ["device-wait", "fail", [/azurerm_linux_virtual_machine\.main's boot \(cloud-config bootcmd\[0\]\) waits for \/dev\/disk\/azure\/scsi1\/lun10, which nothing in the template attaches to it/]],
  ];
  for (const [rule, variant, messages] of cases) {
    it(`${rule}/${variant}`, async () => {
      const findings = await rulesOf(fixture(`${rule}/${variant}`));
      const mine = findings.filter((f) => f.ruleId === `coder/${rule}`);
      for (const m of messages) expect(mine.map((f) => f.message).join("\n")).toMatch(m);
      for (const f of mine) {
        expect(existsSync(join(fixture(`${rule}/${variant}`), f.file)), f.file).toBe(true);
        expect(f.line).toBeGreaterThan(0);
        expect(f.hint.length).toBeGreaterThan(5);
      }
    });
    it(`${rule}/pass has no findings`, async () => {
      expect(await rulesOf(fixture(`${rule}/pass`))).toEqual([]);
    });
  }

  it("suggests the minimal ignore_changes for a replacement on claim, which the passing twin has", async () => {
    const [name] = (await rulesOf(fixture("prebuild-replacement/fail"))).filter((f) => f.ruleId === "coder/prebuild-replacement");
    expect(name.hint).toMatch(/^add lifecycle \{ ignore_changes = \[name, hostname\] \} to docker_container\.workspace\[0\]/);
    expect(readFileSync(fixture("prebuild-replacement/pass/main.tf"), "utf8")).toMatch(/ignore_changes = \[name, hostname\]/);
  });

  it("warnings and errors of the new rules have the severities documented", async () => {
    const sev = async (dir: string, rule: string) => (await rulesOf(fixture(dir))).filter((f) => f.ruleId === rule).map((f) => f.severity);
    expect(await sev("token-ignore-changes/fail", "coder/token-ignore-changes")).toEqual(["error"]);
    expect(await sev("token-ignore-changes/fail-all", "coder/token-ignore-changes")).toEqual(["warning"]);
    expect(await sev("startup-blocks/fail", "coder/startup-blocks")).toEqual(["error", "warning", "warning"]);
    expect(await sev("provider-compat/fail-unpinned", "coder/provider-compat")).toEqual(["warning", "error"]);
    expect(await sev("multi-agent-supervised/fail-user", "coder/multi-agent-supervised")).toEqual(["warning"]);
  });

  it("mixed-auth is a warning", async () => {
    const findings = await rulesOf(fixture("mixed-auth/fail"));
    expect(findings.map((f) => f.severity)).toEqual(["warning"]);
  });

  it("device-wait is a warning (a device can come with the machine type or image)", async () => {
    const findings = await rulesOf(fixture("device-wait/fail"));
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([["coder/device-wait", "warning"]]);
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
    expect(r.stdout).toMatch(/\s21\s+error\s+coder_app\.web slug/);
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
    expect(out.templates[0].error).toMatchObject({ code: "E_TEMPLATE_SYNTAX", file: `${fixture("unreadable")}/main.tf`, line: 12 });
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
      locations: [{ physicalLocation: { artifactLocation: { uri: `${fixture("agent-name-wiring/fail")}/main.tf` }, region: { startLine: 46 } } }],
    });
    expect(run.tool.driver.rules[run.results[0].ruleIndex].id).toBe("coder/agent-name-wiring");
    const rule = run.tool.driver.rules[run.results[0].ruleIndex];
    expect(rule.help.text).toMatch(/^Agents on one instance share .*\n\nWhy: .*\n\nFix: .*\n\nFails:\n/s);
    expect(rule.help.markdown).toMatch(/^### `coder\/agent-name-wiring`\n/);
    expect(rule.help.markdown).toContain("```yaml");
  });

  it("junit output has a failing test case per failed rule", async () => {
    const r = await runCli(["validate", fixture("init-script-unused/fail"), "--format", "junit"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^<\?xml/);
    expect(r.stdout).toContain(`<testsuites name="provisioner validate" tests="${RULES.length}" failures="1">`);
    expect(r.stdout).toMatch(/<testcase classname="[^"]+" name="coder\/init-script-unused"><failure message="agent &quot;dev&quot;/);
  });
});

describe("rule documentation", () => {
  it("docs/rules.md is generated from the rules' metadata and up to date (npm run docs:rules)", () => {
    expect(readFileSync(join(repoRoot, "docs/rules.md"), "utf8")).toBe(rulesDocument(RULES));
  });

  it("every rule has a stable id, what, why, fix and an example, and a failing fixture", () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^coder\/[a-z]+(-[a-z]+)*$/);
      for (const text of [r.title, r.description, r.why, r.fix, r.example.bad, r.example.good]) expect(text.length).toBeGreaterThan(10);
      expect(existsSync(fixture(`${r.id.slice("coder/".length)}/pass`)), r.id).toBe(true);
    }
  });
});
