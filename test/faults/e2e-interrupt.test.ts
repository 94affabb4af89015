import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../support/cli.js";
import { spawnCli } from "../support/process.js";
import { tempDir } from "../support/tmp.js";

/** Processes whose working directory, root or command line is inside `dir`. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const places = [readlinkSync(`/proc/${pid}/cwd`), readlinkSync(`/proc/${pid}/root`), cmd];
      if (places.some((p) => p.includes(dir))) found.push(`${pid} ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * A VM whose boot leaves daemons in sessions of their own (setsid, nohup) and whose agent never gets
 * ready (a blocking startup script that sleeps), so the run is still waiting when it is interrupted.
 */
function stuckTemplate(): string {
  const dir = join(tempDir("e2e-interrupt-tpl-"), "t");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "main.tf"),
    `resource "coder_agent" "main" {
  arch                    = "amd64"
  os                      = "linux"
  startup_script          = "sleep 1000"
  startup_script_behavior = "blocking"
}

resource "aws_instance" "vm" {
  ami           = "ami-0c7217cdde317cfec"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/bash
    setsid sh -c 'sleep 1001' > /dev/null 2>&1 < /dev/null &
    nohup sleep 1002 > /dev/null 2>&1 &
    export CODER_AGENT_TOKEN=\${coder_agent.main.token}
    sh -c '\${coder_agent.main.init_script}' &
  EOT
}
`,
  );
  return dir;
}

describe("e2e interrupted", { timeout: 120_000 }, () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} stops every process of the run, agents and detached daemons included, and removes the sandbox (exit ${code})`, async () => {
      // TMPDIR with a space: the run's paths are quoted everywhere.
      const tmp = tempDir("e2e interrupt ");
      const run = spawnCli(["e2e", stuckTemplate(), "--timeout", "90s"], { TMPDIR: tmp });
      await run.waitFor(/booted/, 60_000);
      // The agent and the daemons are running inside the sandbox before the interrupt.
      let inside: string[] = [];
      for (let i = 0; i < 100 && !(inside.some((p) => p.includes("sleep 1001")) && inside.some((p) => p.includes("sleep 1002")) && inside.some((p) => / agent/.test(p))); i++) {
        await new Promise((r) => setTimeout(r, 100));
        inside = processesIn(tmp);
      }
      expect(inside.some((p) => p.includes("sleep 1001"))).toBe(true);
      expect(inside.some((p) => p.includes("sleep 1002"))).toBe(true);
      expect(inside.some((p) => / agent/.test(p))).toBe(true);

      expect(await run.stop(signal)).toBe(code);
      await new Promise((r) => setTimeout(r, 300));
      expect(processesIn(tmp)).toEqual([]);
      expect(readdirSync(tmp)).toEqual([]);
    });
  }

  it("runs with TMPDIR holding a space and leaves it empty", async () => {
    const tmp = tempDir("e2e tmp with space ");
    const r = await runCli(["e2e", join(repoRoot, "examples/templates/aws-multi-agent"), "--json"], { env: { TMPDIR: tmp }, timeout: 120_000 });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
