import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import type { CreateWorkspaceResponse } from "../../src/sdk/admin.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { BACKENDS } from "../coordinator/support/backends.js";
import { repoRoot } from "../support/cli.js";
import { spawnCli, type Spawned } from "../support/process.js";

const FIXTURES = join(repoRoot, "test/fixtures/containers");
const TEXT_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[(trace|debug|info|warn|error)\] \[agent\.[a-z0-9-]+\|[^\]]+\] .*$/;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Two agents on one instance and a dev-container sub-agent, real agent processes, the fake docker and
// devcontainer CLIs: scripts, logs, timings, app statuses and dev containers end to end (server and agent side).
for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`scripts, logs, timings, apps and dev containers on ${backend.name}`, { timeout: 120_000 }, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let drop: () => Promise<void>;
    let ws: CreateWorkspaceResponse;
    let dir: string;
    const agents: Spawned[] = [];
    const id = (name: string) => ws.agents.find((a) => a.name === name)!.id;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "scripts-it-"));
      const repo = join(dir, "repo");
      mkdirSync(join(repo, ".devcontainer"), { recursive: true });
      const state = join(dir, "docker");
      // A recorded container besides the dev container.
      mkdirSync(join(state, "containers"), { recursive: true });
      const [web] = JSON.parse(readFileSync(join(FIXTURES, "inspect/ports.json"), "utf8")) as { Id: string }[];
      writeFileSync(join(state, "containers", `${web.Id}.json`), JSON.stringify(web));

      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: "admin", ssePingMs: 1000 });
      admin = new AdminClient(coord.url, "admin");
      ws = await admin.createWorkspace({
        name: "scripts",
        owner: "ann",
        resources: [
          {
            type: "docker_container",
            name: "dev",
            agents: [
              {
                name: "main",
                apps: [{ slug: "code", display_name: "Code", url: "http://localhost:8080", healthcheck: { url: `${coord.url}/healthz`, interval: 1, threshold: 1 } }],
                scripts: [
                  {
                    display_name: "Install",
                    run_on_start: true,
                    start_blocks_login: true,
                    script: 'echo installing\nprovisioner agent app-status --app code --state working --message "Installing extensions"\nsleep 0.2\nprovisioner agent app-status --app code --state idle --message "Ready"\necho installed',
                  },
                  { display_name: "Lint", run_on_start: true, script: "echo 'lint: 2 problems' >&2\nexit 2" },
                ],
                devcontainers: [{ name: "repo", workspace_folder: repo, subagent: "repo" }],
              },
              {
                name: "dev",
                apps: [{ slug: "db", url: "http://127.0.0.1:1", healthcheck: { url: "http://127.0.0.1:1/", interval: 1, threshold: 2 } }],
                scripts: [{ display_name: "Warm cache", run_on_start: true, timeout: 1, script: "echo warming\nsleep 30" }],
              },
              {
                name: "repo",
                parent: "main",
                env: { GREETING: "hello from the dev container" },
                apps: [{ slug: "preview" }],
                scripts: [{ display_name: "Sub hello", run_on_start: true, script: 'echo "$GREETING"\nprovisioner agent app-status --app preview --state complete --message done' }],
              },
            ],
          },
        ],
      });
      const env = {
        CODER_AGENT_URL: coord.url,
        PATH: `${join(FIXTURES, "bin")}${delimiter}${process.env.PATH}`,
        FAKE_DOCKER_STATE: state,
        FAKE_DEVCONTAINER_DELAY_MS: "300",
      };
      for (const name of ["main", "dev"]) {
        const token = ws.agents.find((a) => a.name === name)!.auth_token;
        agents.push(spawnCli(["agent", "--log-format", "json", "--script-wait-delay", "1s"], { ...env, CODER_AGENT_TOKEN: token }));
      }
    });
    afterAll(async () => {
      await Promise.all(agents.map((a) => a.stop()));
      await coord?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const lifecycle = (name: string, states: string[]) =>
      until(`${name} to be ${states.join("|")}`, async () => {
        const a = await admin.agent(id(name));
        return states.includes(a.lifecycle_state) ? a.lifecycle_state : undefined;
      });

    it("each agent's start ends as coderd's lifecycle says: a failing script → start_error, a timeout → start_timeout, the sub-agent ready", async () => {
      expect(await lifecycle("main", ["ready", "start_error", "start_timeout"])).toBe("start_error");
      expect(await lifecycle("dev", ["ready", "start_error", "start_timeout"])).toBe("start_timeout");
      expect(await lifecycle("repo", ["ready", "start_error", "start_timeout"])).toBe("ready");
      const main = await admin.agent(id("main"));
      expect(main.startup_script_behavior).toBe("blocking");
      expect((await admin.agent(id("dev"))).startup_script_behavior).toBe("non-blocking");
      expect(main.started_at).not.toBeNull();
      expect(main.ready_at).not.toBeNull();
    });

    it("timings: one entry per script, per agent, with status, exit code and a duration; connection timings per agent", async () => {
      const t = await until("4 script timings", async () => {
        const x = await admin.buildTimings(ws.latest_build.id);
        return x.agent_script_timings.length === 4 ? x : undefined;
      });
      const byName = Object.fromEntries(t.agent_script_timings.map((s) => [s.display_name, s]));
      expect(byName.Install).toMatchObject({ status: "ok", exit_code: 0, stage: "start", workspace_agent_name: "main", workspace_agent_id: id("main") });
      expect(byName.Lint).toMatchObject({ status: "exit_failure", exit_code: 2, stage: "start", workspace_agent_name: "main" });
      expect(byName["Warm cache"]).toMatchObject({ status: "timed_out", exit_code: -1, stage: "start", workspace_agent_name: "dev", workspace_agent_id: id("dev") });
      expect(byName["Sub hello"]).toMatchObject({ status: "ok", exit_code: 0, workspace_agent_name: "repo", workspace_agent_id: id("repo") });
      const ms = (s: { started_at: string; ended_at: string }) => Date.parse(s.ended_at) - Date.parse(s.started_at);
      expect(ms(byName["Warm cache"])).toBeGreaterThanOrEqual(1000);
      expect(ms(byName["Warm cache"])).toBeLessThan(5000);
      expect(ms(byName.Install)).toBeGreaterThanOrEqual(200);
      expect(new Set(t.agent_connection_timings.map((c) => c.workspace_agent_name))).toEqual(new Set(["main", "dev", "repo"]));
      expect(t.provisioner_timings.map((p) => p.resource)).toEqual(["docker_container.dev"]);
    });

    it("logs: each script under its own source, the agent's own output under the default source, as text lines", async () => {
      const text = await until("the Lint output", async () => {
        const s = await admin.agentLogsText(id("main"));
        return s.includes("lint: 2 problems") && s.includes("installed") ? s : undefined;
      });
      const lines = text.split("\n");
      for (const l of lines) expect(l).toMatch(TEXT_LINE);
      expect(lines.some((l) => / \[info\] \[agent\.main\|Install\] installing$/.test(l))).toBe(true);
      expect(lines.some((l) => / \[info\] \[agent\.main\|Lint\] lint: 2 problems$/.test(l))).toBe(true);
      expect(lines.some((l) => / \[error\] \[agent\.main\|External\] agent start failed .*lifecycle=start_error/.test(l))).toBe(true);
      const dev = await admin.agentLogsText(id("dev"));
      expect(dev).toMatch(/ \[info\] \[agent\.dev\|Warm cache\] warming\n/);
      expect(dev).toMatch(/ \[warn\] \[agent\.dev\|Warm cache\] WARNING: script timed out after 1s/);
      const sub = await until("the sub-agent's greeting", async () => ((await admin.agentLogsText(id("repo"))).includes("hello from the dev container") ? true : undefined));
      expect(sub).toBe(true);
      // JSON: ids ascend, `after` skips what was read.
      const json = await admin.agentLogs(id("main"));
      expect(json.map((l) => l.id)).toEqual([...json.map((l) => l.id)].sort((a, b) => a - b));
      expect(await admin.agentLogs(id("main"), json[json.length - 1].id)).toEqual([]);
      const agent = await admin.agent(id("main"));
      expect(agent.log_sources.map((s) => s.display_name).sort()).toEqual(["External", "Install", "Lint"]);
      expect(agent.logs_length).toBeGreaterThan(0);
    });

    it("app statuses: newest first on each app, the newest of the workspace as latest_app_status", async () => {
      const apps = await until("the preview status", async () => {
        const x = await admin.appStatuses(ws.id);
        return x.find((a) => a.app.slug === "preview")?.app.statuses.length ? x : undefined;
      });
      const code = apps.find((a) => a.app.slug === "code")!;
      expect(code.agent_name).toBe("main");
      expect(code.app.statuses.map((s) => [s.state, s.message])).toEqual([
        ["idle", "Ready"],
        ["working", "Installing extensions"],
      ]);
      const preview = apps.find((a) => a.app.slug === "preview")!;
      expect(preview.agent_name).toBe("repo");
      expect(preview.app.statuses[0]).toMatchObject({ state: "complete", message: "done", agent_id: id("repo") });
      const all = apps.flatMap((a) => a.app.statuses).sort((a, b) => b.created_at.localeCompare(a.created_at));
      expect((await admin.workspace(ws.id)).latest_app_status).toEqual(all[0]);
    });

    it("app health checks: healthy when the URL answers below 500, unhealthy after threshold failures", async () => {
      const health = (slug: string) =>
        until(`${slug} checked`, async () => {
          const apps = (await admin.workspace(ws.id)).latest_build.resources[0].agents.flatMap((a) => a.apps);
          const app = apps.find((a) => a.slug === slug)!;
          return app.health === "initializing" ? undefined : app.health;
        });
      expect(await health("code")).toBe("healthy");
      expect(await health("db")).toBe("unhealthy");
      const preview = (await admin.workspace(ws.id)).latest_build.resources[0].agents.flatMap((a) => a.apps).find((a) => a.slug === "preview")!;
      expect(preview.health).toBe("disabled");
    });

    it("containers: docker inspect converted, dev container keyed by its ID with its sub-agent, label filter, 400 on a bad label", async () => {
      const list = await until("the dev container running", async () => {
        const l = await admin.containers(id("main"));
        return l.devcontainers[0]?.status === "running" && l.devcontainers[0].agent ? l : undefined;
      });
      const dc = list.devcontainers[0];
      const stored = (await admin.workspace(ws.id)).latest_build.resources[0].agents.find((a) => a.name === "main")!;
      expect(dc).toMatchObject({ name: "repo", workspace_folder: join(dir, "repo"), status: "running", dirty: false, agent: { id: id("repo"), name: "repo", directory: "/workspaces/repo" } });
      expect(dc.container?.labels["devcontainer.local_folder"]).toBe(join(dir, "repo"));
      expect(dc.container?.ports).toEqual([{ port: 8080, network: "tcp", host_ip: "127.0.0.1", host_port: 18080 }]);
      expect(stored.id).toBe(id("main"));
      const web = list.containers.find((c) => c.name === "web")!;
      expect(web.ports).toEqual([
        { port: 53, network: "udp", host_ip: "0.0.0.0", host_port: 5353 },
        { port: 80, network: "tcp", host_ip: "0.0.0.0", host_port: 32768 },
        { port: 8443, network: "tcp", host_ip: "::", host_port: 8443 },
      ]);
      expect(list.warnings).toEqual(['convert docker host port: strconv.Atoi: parsing "abc": invalid syntax', "convert docker host port: invalid host port 70000"]);
      const filtered = await admin.containers(id("main"), { "devcontainer.local_folder": join(dir, "repo") });
      expect(filtered.containers.map((c) => c.id)).toEqual([dc.container!.id]);
      const bad = await fetch(new URL(`/api/v2/workspaceagents/${id("main")}/containers?label=novalue`, coord.url), { headers: { "Coder-Session-Token": "admin" } });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ message: "Invalid label format", detail: "Labels must be in the format key=value" });
    });

    it("recreate: 202 and async starting → running with a new container, 409 while starting, 404 for an unknown ID", async () => {
      const before = (await admin.containers(id("main"))).devcontainers[0];
      const post = (dcId: string) => fetch(new URL(`/api/v2/workspaceagents/${id("main")}/containers/devcontainers/${dcId}/recreate`, coord.url), { method: "POST", headers: { "Coder-Session-Token": "admin" } });
      const first = await post(before.id);
      expect(first.status).toBe(202);
      expect(await first.json()).toEqual({ message: "Devcontainer recreation initiated", detail: 'Recreation process for devcontainer "repo" has started.' });
      expect((await admin.containers(id("main"))).devcontainers[0].status).toBe("starting");
      const second = await post(before.id);
      expect(second.status).toBe(409);
      expect(await second.json()).toEqual({ message: "Unable to recreate transitioning devcontainer", detail: 'Devcontainer "repo" is currently starting and cannot be restarted.' });
      const unknown = await post("00000000-0000-4000-8000-000000000000");
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { message: string }).message).toBe("Devcontainer not found.");
      const after = await until("the recreated dev container", async () => {
        const d = (await admin.containers(id("main"))).devcontainers[0];
        return d.status === "running" && d.container ? d : undefined;
      });
      expect(after.container!.id).not.toBe(before.container!.id);
      // The sub-agent started again inside the new container.
      await until("the sub-agent's second start", async () => ((await admin.agentLogsText(id("repo"))).split("hello from the dev container").length >= 3 ? true : undefined));
    });

    it("stopping the agents: shutting_down → off for each, the sub-agent too", async () => {
      for (const a of agents) expect(await a.stop()).toBe(0);
      expect((await admin.agent(id("main"))).lifecycle_state).toBe("off");
      expect((await admin.agent(id("dev"))).lifecycle_state).toBe("off");
      expect(await lifecycle("repo", ["off"])).toBe("off");
    });
  });
}
