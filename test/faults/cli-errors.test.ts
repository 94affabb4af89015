import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { runCli } from "../support/cli.js";

/**
 * Every user error: one line saying what is wrong, one `fix:` line, exit 2 (1 for an agent the
 * coordinator refuses, with the server's message), and no stack trace unless --debug or
 * PROVISIONER_DEBUG=1 asks for one.
 */
describe("user errors on the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "faults-cli-"));
  const file = join(dir, "a-file");
  const empty = join(dir, "empty-token");
  let coord: RunningCoordinator;

  beforeAll(async () => {
    writeFileSync(file, "x");
    writeFileSync(empty, "\n");
    coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", adminToken: "cli-errors-admin-token" });
  });
  afterAll(async () => {
    await coord?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const oneLineAndFix = (stderr: string) => {
    const lines = stderr.split("\n");
    expect(lines, stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^provisioner: /);
    expect(lines[1]).toMatch(/^ {2}fix: \S/);
  };

  it("each is one line and a fix, exit 2, no stack trace", async () => {
    const agentEnv = (extra: Record<string, string>) => ({ CODER_AGENT_URL: coord.url, ...extra });
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["synth", "--app", "examples/cdktf/main.ts", "--out", file], {}, /--out .*a-file is not a directory/],
      [["imds", "--cloud", "aws", "--instance-id", "i-1", "--keys", file], {}, /cannot use --keys .*a-file: not a directory/],
      [["agent"], agentEnv({ CODER_AGENT_TOKEN_FILE: join(dir, "missing") }), /cannot read CODER_AGENT_TOKEN_FILE .*missing: no such file or directory/],
      [["agent"], agentEnv({ CODER_AGENT_TOKEN_FILE: empty }), /CODER_AGENT_TOKEN_FILE .*empty-token is empty/],
      [["validate", "--format", "json", "--format", "sarif", "examples/templates/aws-multi-agent"], {}, /--format is given 2 times/],
      [["validate", "-f", "json", "--format", "json", "examples/templates/aws-multi-agent"], {}, /--format is given 2 times/],
      [["imds", "--cloud", "aws", "--cloud", "gcp", "--instance-id", "i-1"], {}, /--cloud is given 2 times/],
      [["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", "--sse-ping", "0s"], {}, /--sse-ping 0s is zero/],
      [["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", "--sse-ping", "1000h"], {}, /--sse-ping 1000h is too long/],
      [["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", "--access-url", "notaurl"], {}, /--access-url "notaurl" is not an http\(s\) URL/],
      [["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", "--admin-token", ""], {}, /the admin token from --admin-token is empty/],
      [["e2e", "examples/templates/aws-multi-agent", "--timeout", "0s"], {}, /--timeout 0s is zero/],
      [["imds", "--cloud", "aws", "--instance-id", "i-1", "--listen", "127.0.0.1:99999"], {}, /invalid --listen "127\.0\.0\.1:99999"/],
      [["init", "aws-multi-agent", join(file, "t")], {}, /cannot write .*a-file\/t: not a directory/],
      [["identity", "verify", "--cloud", "aws", dir], {}, /cannot read file .*: is a directory/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(args, { env });
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      oneLineAndFix(r.stderr);
    }
  }, 120_000);

  it("an agent the coordinator refuses exits 1 with the server's message", async () => {
    const r = await runCli(["agent"], { env: { CODER_AGENT_URL: coord.url, CODER_AGENT_TOKEN: randomUUID() } });
    expect(r.exitCode).toBe(1);
    const last = r.stderr.split("\n").slice(-2);
    expect(last[0]).toMatch(/^provisioner: the coordinator refused the agent \(401\): Workspace agent not authorized\./);
    expect(last[1]).toMatch(/^ {2}fix: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("--debug and PROVISIONER_DEBUG=1 add the stack trace", async () => {
    for (const [args, env] of [
      [["synth", "--app", "examples/cdktf/main.ts", "--out", file, "--debug"], {}],
      [["synth", "--app", "examples/cdktf/main.ts", "--out", file], { PROVISIONER_DEBUG: "1" }],
    ] as const) {
      const r = await runCli([...args], { env });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/^provisioner: --out .* is not a directory$/m);
      expect(r.stderr).toMatch(/^UsageError: .*\n\s+at /m);
    }
  });
});
