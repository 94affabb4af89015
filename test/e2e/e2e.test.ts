import { cpSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../support/cli.js";
import { tempDir as tmp } from "../support/tmp.js";

const example = join(repoRoot, "examples/templates/aws-multi-agent");

async function e2e(dir: string, ...args: string[]) {
  const r = await runCli(["e2e", dir, "--json", "--timeout", "45s", ...args], { timeout: 120_000 });
  return { ...r, report: r.stdout.startsWith("{") ? JSON.parse(r.stdout) : undefined };
}

/** Processes whose working directory or command line is inside `dir`. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cwd.startsWith(dir) || cmd.includes(dir)) found.push(`${pid} ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe("provisioner e2e", { timeout: 120_000 }, () => {
  it("passes on the aws-multi-agent example, every agent ready as itself, and leaves no process behind", async () => {
    const r = await e2e(example, "--keep");
    // stderr carries only progress lines (each indented, prefixed by the scenario).
    expect(r.stderr.split("\n").filter((l) => l !== "" && !/^  \[start\] /.test(l))).toEqual([]);
    expect(r.exitCode).toBe(0);
    const s = r.report.scenarios[0];
    expect(s).toMatchObject({ scenario: "start", ok: true, failures: [] });
    expect(s.agents.map((a: { agent: string; result: string; authenticated_as: string; lifecycle: string }) => [a.agent, a.result, a.authenticated_as, a.lifecycle]).sort()).toEqual([
      ["dev", "ok", "dev", "ready"],
      ["main", "ok", "main", "ready"],
    ]);
    expect(r.report.sandbox).toMatch(/provisioner-e2e-/);
    const shims = readFileSync(join(r.report.sandbox, "start/instances/aws_instance.workspace/root/var/log/provisioner/shims.log"), "utf8");
    expect(shims).toMatch(/sudo -u coder env CODER_AGENT_NAME=main sh -c .* → as coder/);
    expect(s.agents.map((a: { kind: string }) => a.kind)).toEqual(["aws_instance", "aws_instance"]);
    await new Promise((res) => setTimeout(res, 300));
    expect(processesIn(r.report.sandbox)).toEqual([]);
    rmSync(r.report.sandbox, { recursive: true, force: true });
  });

  it("prebuild scenario: after the claim every agent re-initialises exactly once and is ready again", async () => {
    const r = await e2e(example, "--scenario", "prebuild");
    expect(r.exitCode).toBe(0);
    const s = r.report.scenarios[0];
    expect(s.ok).toBe(true);
    expect(s.agents.map((a: { reinits: number }) => a.reinits)).toEqual([1, 1]);
  });

  it("passes on the cdktf example's synthesized JSON", async () => {
    const r = await e2e(join(repoRoot, "examples/cdktf/out"));
    expect(r.exitCode).toBe(0);
    expect(r.report.scenarios[0].agents).toHaveLength(2);
  });

  it("passes on a three-agent template", async () => {
    const dir = join(tmp("e2e-three-"), "t");
    expect((await runCli(["init", "aws-multi-agent", dir, "--agents", "web,db,ci"])).exitCode).toBe(0);
    const r = await e2e(dir);
    expect(r.exitCode).toBe(0);
    expect(r.report.scenarios[0].agents.map((a: { authenticated_as: string }) => a.authenticated_as).sort()).toEqual(["ci", "db", "web"]);
  });

  it("fails with the 409 message when one agent's CODER_AGENT_NAME is gone", async () => {
    const dir = tmp("e2e-noname-");
    cpSync(example, dir, { recursive: true });
    const tpl = join(dir, "cloud-init.yaml.tftpl");
    writeFileSync(tpl, readFileSync(tpl, "utf8").replace('env, "CODER_AGENT_NAME=${name}", ', '%{ if name == "main" }env, "CODER_AGENT_NAME=${name}", %{ endif }'));
    const r = await e2e(dir);
    expect(r.exitCode).toBe(1);
    const s = r.report.scenarios[0];
    const dev = s.agents.find((a: { agent: string }) => a.agent === "dev");
    expect(dev).toMatchObject({ result: "refused", http_status: 409 });
    expect(dev.server_message).toMatch(/^Multiple agents found with instance ID "i-[0-9a-f]+"\. Set CODER_AGENT_NAME to one of: dev, main$/);
    expect(s.failures.join("\n")).toMatch(/agent dev was refused: authentication refused with HTTP 409: Multiple agents found/);
  });

  it("names the agent that never started when its init_script is missing", async () => {
    const dir = tmp("e2e-noinit-");
    cpSync(example, dir, { recursive: true });
    const main = join(dir, "main.tf");
    writeFileSync(main, readFileSync(main, "utf8").replace(/\n\s*dev\s+= try\(coder_agent\.dev\[0\]\.init_script, ""\)/, ""));
    const r = await e2e(dir);
    expect(r.exitCode).toBe(1);
    expect(r.report.scenarios[0].failures).toHaveLength(1);
    expect(r.report.scenarios[0].failures[0]).toMatch(/^agent dev never started: nothing in the boot of aws_instance\.workspace ran its init_script; the boot printed: /);
  });

  it("exits 2 on bad input", async () => {
    const r = await runCli(["e2e", join(tmp("e2e-empty-"), "nope")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cannot read the template/);
    const t = await runCli(["e2e", example, "--timeout", "soon"]);
    expect(t.exitCode).toBe(2);
    const p = await runCli(["e2e", example, "--parameter", "region=us-east-1"]);
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/--parameter: the template has no coder_parameter named "region" \(it declares none\)/);
  });
});
