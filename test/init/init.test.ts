import { execa } from "execa";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { Evaluator, parseExpression, Value } from "../../src/template/hcl/index.js";
import { repoRoot, runCli } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

const tfEnv = { TF_CLI_CONFIG_FILE: join(repoRoot, ".ci/terraformrc") };
const tmp = tempDir;

/** Renders a template file with Terraform itself (`terraform console`, no providers needed). */
async function renderWithTerraform(file: string, vars: string): Promise<string> {
  const dir = tmp("tfconsole-");
  const r = await execa("terraform", ["console"], { cwd: dir, env: tfEnv, input: `jsonencode(templatefile(${JSON.stringify(file)}, ${vars}))\n` });
  return JSON.parse(JSON.parse(r.stdout.trim())) as string;
}

describe("provisioner init aws-multi-agent", () => {
  it("the defaults produce exactly examples/templates/aws-multi-agent", async () => {
    const out = join(tmp("init-"), "t");
    const r = await runCli(["init", "aws-multi-agent", out]);
    expect(r.exitCode).toBe(0);
    const example = join(repoRoot, "examples/templates/aws-multi-agent");
    expect(readdirSync(out).sort()).toEqual(readdirSync(example).sort());
    for (const f of readdirSync(example)) expect(readFileSync(join(out, f), "utf8"), f).toBe(readFileSync(join(example, f), "utf8"));
  });

  it("is terraform fmt clean for several agent sets", async () => {
    const root = tmp("fmt-");
    await runCli(["init", "aws-multi-agent", join(root, "a")]);
    await runCli(["init", "aws-multi-agent", join(root, "b"), "--agents", "a,bb,ccc-long-name", "--arch", "arm64", "--region", "eu-west-2"]);
    const r = await execa("terraform", ["fmt", "-check", "-recursive", root], { env: tfEnv, reject: false });
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("renders (as Terraform does) to cloud-config that passes cloud-init schema, starting each agent with its own name", async () => {
    const out = join(tmp("ci-"), "t");
    await runCli(["init", "aws-multi-agent", out, "--agents", "main,dev,ci"]);
    const script = "#!/usr/bin/env sh\nset -eux\necho starting agent\n";
    const tpl = join(out, "cloud-init.yaml.tftpl");
    const rendered = await renderWithTerraform(tpl, `{ linux_user = "coder", agents = { main = ${JSON.stringify(script)}, dev = ${JSON.stringify(script)}, ci = ${JSON.stringify(script)} } }`);
    // Our engine renders it byte for byte like Terraform.
    const ours = new Evaluator({ baseDir: out, resolve: () => Value.nullOf() }).eval(
      parseExpression(`templatefile("cloud-init.yaml.tftpl", { linux_user = "coder", agents = { main = ${JSON.stringify(script)}, dev = ${JSON.stringify(script)}, ci = ${JSON.stringify(script)} } })`),
    );
    expect(ours.asString()).toBe(rendered);
    const file = join(out, "rendered.yaml");
    writeFileSync(file, rendered);
    const schema = await execa("cloud-init", ["schema", "--config-file", file], { reject: false });
    expect(schema.stderr).toBe("");
    expect(schema.exitCode).toBe(0);
    const cfg = parseYaml(rendered) as { write_files: { path: string; encoding: string; content: string }[]; runcmd: string[][] };
    for (const name of ["main", "dev", "ci"]) {
      const wf = cfg.write_files.find((f) => f.path === `/opt/coder/agents/${name}/init.sh`)!;
      expect(wf.encoding).toBe("b64");
      expect(Buffer.from(wf.content, "base64").toString()).toBe(script);
      const cmd = cfg.runcmd.find((c) => c.join(" ").includes(`/opt/coder/agents/${name}/init.sh`))!;
      expect(cmd.slice(0, 5)).toEqual(["sudo", "-u", "coder", "env", `CODER_AGENT_NAME=${name}`]);
      expect(cmd.join(" ")).toContain(`coder-agent-${name}.log`);
    }
  });

  it("--arch arm64 picks an arm64 instance type (t3 is x86 only) unless --instance-type says otherwise", async () => {
    const root = tmp("arch-");
    await runCli(["init", "aws-multi-agent", join(root, "arm"), "--arch", "arm64"]);
    const arm = readFileSync(join(root, "arm", "main.tf"), "utf8");
    expect(arm).toMatch(/instance_type += "t4g\.medium"/);
    expect(arm).toMatch(/arch += "arm64"/);
    await runCli(["init", "aws-multi-agent", join(root, "x86")]);
    expect(readFileSync(join(root, "x86", "main.tf"), "utf8")).toMatch(/instance_type += "t3\.medium"/);
    await runCli(["init", "aws-multi-agent", join(root, "chosen"), "--arch", "arm64", "--instance-type", "m7g.large"]);
    expect(readFileSync(join(root, "chosen", "main.tf"), "utf8")).toMatch(/instance_type += "m7g\.large"/);
  });

  it("writes one coder_agent and coder_agent_instance per agent", async () => {
    const out = join(tmp("three-"), "t");
    const r = await runCli(["init", "aws-multi-agent", out, "--agents", "a,b,c", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ template: "aws-multi-agent", files: ["main.tf", "cloud-init.yaml.tftpl", "README.md"] });
    const main = readFileSync(join(out, "main.tf"), "utf8");
    for (const n of ["a", "b", "c"]) {
      expect(main).toContain(`resource "coder_agent" "${n}" {`);
      expect(main).toContain(`resource "coder_agent_instance" "${n}" {`);
      expect(main).toMatch(new RegExp(`${n} += try\\(coder_agent\\.${n}\\[0\\]\\.init_script, ""\\)`));
    }
    expect(readFileSync(join(out, "README.md"), "utf8")).toContain("Set CODER_AGENT_NAME to one of: a, b, c");
    expect((await runCli(["validate", out])).exitCode).toBe(0);
  });

  const bad: [string, string[], RegExp][] = [
    ["an invalid agent name", ["--agents", "main,bad_name"], /invalid agent name "bad_name"/],
    ["a duplicate agent name", ["--agents", "main,dev,Main"], /duplicate agent name "Main"/],
    ["an empty agent list", ["--agents", ""], /--agents is empty/],
    ["an unknown region format", ["--region", "virginia"], /unknown region format "virginia"/],
    ["a bad instance type", ["--instance-type", "big"], /invalid instance type "big"/],
    ["an unknown arch", ["--arch", "sparc"], /Invalid values:[\s\S]*arch/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with exit 2 and writes nothing`, async () => {
      const out = join(tmp("bad-"), "t");
      const r = await runCli(["init", "aws-multi-agent", out, ...args]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("rejects an unknown template", async () => {
    const r = await runCli(["init", "gcp-thing", join(tmp("bad-"), "t")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown template "gcp-thing"[\s\S]*known templates: aws-multi-agent/);
  });

  it("refuses a non-empty directory without --force and overwrites with it", async () => {
    const out = tmp("nonempty-");
    writeFileSync(join(out, "keep.txt"), "mine");
    writeFileSync(join(out, "main.tf"), "old");
    const r = await runCli(["init", "aws-multi-agent", out]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is not empty[\s\S]*--force/);
    expect(readFileSync(join(out, "main.tf"), "utf8")).toBe("old");
    const forced = await runCli(["init", "aws-multi-agent", out, "--force"]);
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(join(out, "main.tf"), "utf8")).toContain('resource "aws_instance" "workspace"');
    expect(readFileSync(join(out, "keep.txt"), "utf8")).toBe("mine");
    expect(readdirSync(out).filter((f) => f.startsWith(".provisioner-init-"))).toEqual([]);
  });

  it("creates missing parent directories", async () => {
    const out = join(tmp("nested-"), "a", "b");
    mkdirSync(join(out, ".."), { recursive: true });
    expect((await runCli(["init", "aws-multi-agent", out])).exitCode).toBe(0);
    expect(existsSync(join(out, "main.tf"))).toBe(true);
  });
});
