import { execa } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { workspaceContext } from "../../src/plan/context.js";
import { planTemplate } from "../../src/plan/plan.js";
import { loadModule } from "../../src/template/load.js";
import { repoRoot, runCli } from "../support/cli.js";
import { renderAll } from "../support/render.js";
import { tempDir } from "../support/tmp.js";

const tmp = tempDir;
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Record<string, any>;

function summary(dir: string) {
  const plan = planTemplate(loadModule(dir), workspaceContext());
  return {
    agents: plan.agents.map((a) => ({ name: a.name, auth: a.auth, arch: a.arch, os: a.os, instance: a.instance?.address, tie: a.tie })).sort((x, y) => x.name.localeCompare(y.name)),
    instances: plan.instances.map((i) => i.address),
  };
}

describe("provisioner synth (cdktf)", () => {
  let out: string;
  beforeAll(async () => {
    out = tmp("synth-");
    const r = await runCli(["synth", "--app", "examples/cdktf/main.ts", "--out", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).stacks).toEqual([{ name: "aws-multi-agent", dir: out, file: join(out, "cdk.tf.json") }]);
  });

  it("writes plain Terraform: no backend, no cdktf metadata, no absolute paths, coder and aws providers", () => {
    const text = readFileSync(join(out, "cdk.tf.json"), "utf8");
    const doc = JSON.parse(text);
    expect(doc.terraform.backend).toBeUndefined();
    expect(text).not.toContain('"//"');
    expect(text).not.toContain(out);
    expect(text).not.toContain(repoRoot);
    expect(doc.terraform.required_providers.coder.source).toBe("coder/coder");
    expect(doc.terraform.required_providers.aws.version).toBe("5.100.0");
    expect(doc.provider.aws[0].region).toBe("us-east-1");
  });

  it("matches the committed example output (regenerate with `npx provisioner synth`)", () => {
    expect(readJson(join(out, "cdk.tf.json"))).toEqual(readJson(join(repoRoot, "examples/cdktf/out/cdk.tf.json")));
  });

  it("has the same agents, instance ties and CODER_AGENT_NAME wiring as the HCL example", async () => {
    const hcl = join(repoRoot, "examples/templates/aws-multi-agent");
    expect(summary(out)).toEqual(summary(hcl));
    expect(summary(out).agents.map((a) => a.tie)).toEqual(["coder_agent_instance", "coder_agent_instance"]);
    const rendered = renderAll(out)["aws_instance.workspace"]!;
    expect(rendered).toBe(renderAll(hcl)["aws_instance.workspace"]);
    expect(rendered).toContain('"CODER_AGENT_NAME=main"');
    expect(rendered).toContain(Buffer.from("#!/bin/sh\necho init dev\n").toString("base64"));
  });

  it("passes provisioner validate", async () => {
    const r = await runCli(["validate", out]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/0 errors, 0 warnings/);
  });

  it("init --cdktf scaffolds a project that installs from this package's directory, type-checks against its .d.ts and synthesizes the same template", async () => {
    const dir = join(tmp("cdktf-init-"), "proj");
    const init = await runCli(["init", "aws-multi-agent", dir, "--cdktf"]);
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain(`installs provisioner from ${repoRoot.replace(/\/$/, "")}`);
    expect(readFileSync(join(dir, "main.ts"), "utf8")).toContain('from "provisioner/constructs"');
    expect(readJson(join(dir, "package.json")).devDependencies).toEqual({ provisioner: `file:${repoRoot.replace(/\/$/, "")}` });
    // `npm install` as the README says: nothing to fetch (the package comes from its directory).
    const install = await execa("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir, reject: false });
    expect(install.exitCode, install.stderr).toBe(0);
    // The constructs are typed: the project type-checks (no implicit any from a missing .d.ts).
    const tsc = await execa(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", dir], { reject: false });
    expect(tsc.stdout + tsc.stderr).toBe("");
    const r = await runCli(["synth"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readJson(join(dir, "template", "cdk.tf.json"))).toEqual(readJson(join(out, "cdk.tf.json")));
  }, 120_000);

  it("exits 2 naming the file when the app is broken", async () => {
    const dir = tmp("broken-");
    const app = join(dir, "main.ts");
    writeFileSync(app, 'export default function () { throw new Error("boom in app"); }\n');
    const r = await runCli(["synth", "--app", app, "--out", join(dir, "out")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(app);
    expect(r.stderr).toContain("boom in app");
    const occupied = await runCli(["synth", "--app", "examples/cdktf/main.ts", "--out", dir]);
    expect(occupied.exitCode).toBe(2);
    expect(occupied.stderr).toMatch(/not empty and holds no earlier synth output/);
    const missing = await runCli(["synth", "--app", join(dir, "nope.ts")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/not found/);
  });
});
