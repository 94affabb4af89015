import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import type { CreateWorkspaceResponse } from "../../src/sdk/admin.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { runCli } from "../support/cli.js";
import { spawnCli } from "../support/process.js";

describe("provisioner logs and provisioner agent app-status", { timeout: 60_000 }, () => {
  let coord: RunningCoordinator;
  let admin: AdminClient;
  let ws: CreateWorkspaceResponse;
  let env: Record<string, string>;

  beforeAll(async () => {
    coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", adminToken: "admin", ssePingMs: 500 });
    admin = new AdminClient(coord.url, "admin");
    ws = await admin.createWorkspace({ name: "cli", owner: "ann", resources: [{ type: "vm", name: "x", agents: [{ name: "main", apps: [{ slug: "code" }] }] }] });
    env = { PROVISIONER_URL: coord.url, CODER_SESSION_TOKEN: "admin" };
    const res = await fetch(new URL("/api/v2/workspaceagents/me/logs", coord.url), {
      method: "PATCH",
      headers: { "Coder-Session-Token": ws.agents[0].auth_token },
      body: JSON.stringify({ logs: [{ created_at: "2024-05-06T07:08:09Z", output: "one", level: "info" }, { created_at: "2024-05-06T07:08:10Z", output: "two", level: "error" }] }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(() => coord?.close());

  it("an agent's logs as text (the server's format=text) and as JSON", async () => {
    const text = await runCli(["logs", ws.agents[0].id], { env });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toBe("2024-05-06T07:08:09Z [info] [agent.main|External] one\n2024-05-06T07:08:10Z [error] [agent.main|External] two");
    const json = await runCli(["logs", ws.agents[0].id, "--format", "json"], { env });
    expect(JSON.parse(json.stdout).map((l: { output: string }) => l.output)).toEqual(["one", "two"]);
    const after = await runCli(["logs", ws.agents[0].id, "--after", String(JSON.parse(json.stdout)[0].id), "--format", "text"], { env });
    expect(after.stdout).toBe("2024-05-06T07:08:10Z [error] [agent.main|External] two");
  });

  it("--follow renders an agent's logs exactly as the server's format=text (source names included)", async () => {
    const server = (await runCli(["logs", ws.agents[0].id], { env })).stdout;
    const follow = spawnCli(["logs", ws.agents[0].id, "--follow"], env);
    await follow.waitFor(/\] two$/);
    const res = await fetch(new URL("/api/v2/workspaceagents/me/log-source", coord.url), {
      method: "POST",
      headers: { "Coder-Session-Token": ws.agents[0].auth_token },
      body: JSON.stringify({ id: "7d3f9a10-5c2b-4e8f-9a1d-2b3c4d5e6f70", display_name: "Late source" }),
    });
    expect(res.status).toBe(201);
    await fetch(new URL("/api/v2/workspaceagents/me/logs", coord.url), {
      method: "PATCH",
      headers: { "Coder-Session-Token": ws.agents[0].auth_token },
      body: JSON.stringify({ log_source_id: "7d3f9a10-5c2b-4e8f-9a1d-2b3c4d5e6f70", logs: [{ created_at: "2024-05-06T07:08:11.5Z", output: "three", level: "debug" }] }),
    });
    await follow.waitFor(/\] three$/);
    await follow.stop();
    const expected = (await runCli(["logs", ws.agents[0].id], { env })).stdout;
    expect(expected).toBe(`${server}\n2024-05-06T07:08:11Z [debug] [agent.main|Late source] three`);
    expect(follow.lines.join("\n")).toBe(expected);
  });

  it("a build's job logs; --follow ends with the job", async () => {
    const text = await runCli(["logs", ws.latest_build.id], { env });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[info\] \[provisioner_daemon\|plan\] Planning the start transition: 1 resource\(s\)\n/);
    const running = await admin.createBuild(ws.id, { transition: "stop", job: "running" });
    const follow = spawnCli(["logs", running.build.id, "--follow"], env);
    await follow.waitFor(/\[provisioner_daemon\|plan\] Planning the stop transition/);
    await admin.appendJobLogs(running.build.job_id, [{ created_at: "2024-05-06T07:08:09Z", stage: "boot", output: "stopping x" }]);
    await follow.waitFor(/^2024-05-06T07:08:09Z \[info\] \[provisioner\|boot\] stopping x$/);
    await admin.completeJob(running.build.job_id, { status: "succeeded" });
    expect(await follow.exited).toBe(0);
  });

  it("errors: a bad ID exits 2, an unknown one 1, a wrong token 1 naming the status", async () => {
    const bad = await runCli(["logs", "nope"], { env });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/invalid ID/);
    const unknown = await runCli(["logs", "00000000-0000-4000-8000-000000000000"], { env });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no workspace agent or build with ID/);
    const denied = await runCli(["logs", ws.agents[0].id], { env: { ...env, CODER_SESSION_TOKEN: "wrong" } });
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toMatch(/401/);
  });

  it("agent app-status reports with the agent's token; a bad slug or message exits 2 with coderd's message", async () => {
    const own = await admin.createWorkspace({ name: "apps", owner: "ann", resources: [{ type: "vm", name: "x", agents: [{ name: "main", apps: [{ slug: "code" }] }] }] });
    const agentEnv = { CODER_AGENT_URL: coord.url, CODER_AGENT_TOKEN: own.agents[0].auth_token };
    const ok = await runCli(["agent", "app-status", "--app", "code", "--state", "working", "--message", "Indexing", "--uri", "https://example.com"], { env: agentEnv });
    expect(ok.exitCode).toBe(0);
    const status = (await admin.workspace(own.id)).latest_app_status;
    expect(status).toMatchObject({ state: "working", message: "Indexing", uri: "https://example.com" });
    const slug = await runCli(["agent", "app-status", "--app", "nope", "--state", "idle"], { env: agentEnv });
    expect(slug.exitCode).toBe(2);
    expect(slug.stderr).toMatch(/Failed to get workspace app\. No app found with slug "nope"/);
    const long = await runCli(["agent", "app-status", "--app", "code", "--state", "idle", "--message", "x".repeat(161)], { env: agentEnv });
    expect(long.exitCode).toBe(2);
    expect(long.stderr).toMatch(/Message is too long/);
    const state = await runCli(["agent", "app-status", "--app", "code", "--state", "asleep"], { env: agentEnv });
    expect(state.exitCode).toBe(2);
    const noToken = await runCli(["agent", "app-status", "--app", "code", "--state", "idle"], { env: { CODER_AGENT_URL: coord.url, CODER_AGENT_TOKEN: undefined } });
    expect(noToken.exitCode).toBe(2);
  });
});
