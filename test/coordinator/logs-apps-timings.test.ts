import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import type { CreateWorkspaceResponse } from "../../src/sdk/admin.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { SseParser } from "../../src/agent/sse.js";
import { BACKENDS } from "./support/backends.js";

const T0 = "2024-05-06T07:08:09.123Z";
const T1 = "2024-05-06T07:08:10.999+02:00";

for (const backend of BACKENDS) {
  describe.runIf(backend.available)(`logs, timings and app status routes on ${backend.name}`, () => {
    let coord: RunningCoordinator;
    let admin: AdminClient;
    let drop: () => Promise<void>;
    let ws: CreateWorkspaceResponse;
    let annToken: string;
    let bobToken: string;

    beforeAll(async () => {
      const db = await backend.create();
      drop = db.drop;
      coord = await startCoordinator({ listen: "127.0.0.1:0", db: db.db, adminToken: "admin", ssePingMs: 500 });
      admin = new AdminClient(coord.url, "admin");
      ws = await admin.createWorkspace({
        name: "logs",
        owner: "ann",
        resources: [
          {
            type: "aws_instance",
            name: "dev",
            instance_id: "i-0123456789abcdef0",
            agents: [
              { name: "main", apps: [{ slug: "code" }, { slug: "web", url: "http://localhost:3000" }], scripts: [{ display_name: "Setup", script: "true", run_on_start: true }], startup_script: "echo hi" },
              { name: "dev", apps: [{ slug: "term", command: "bash" }], scripts: [{ display_name: "Setup", script: "true", run_on_start: true }] },
            ],
          },
        ],
      });
      annToken = await admin.userToken("ann");
      bobToken = await admin.userToken("bob");
    });
    afterAll(async () => {
      await coord?.close();
      await drop?.();
    });

    const agent = (name: string) => ws.agents.find((a) => a.name === name)!;
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(new URL(path, coord.url), { method, headers: { "Coder-Session-Token": token, "Content-Type": "application/json" }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json, type: res.headers.get("content-type") };
    };
    const patchLogs = (name: string, body: unknown) => call("PATCH", "/api/v2/workspaceagents/me/logs", agent(name).auth_token, body);

    describe("agent logs (SPEC §4)", () => {
      it("stores logs under the default source and a registered one; text lines byte for byte", async () => {
        const src = await call("POST", "/api/v2/workspaceagents/me/log-source", agent("main").auth_token, { id: "5b8e2a3c-1d4f-4e6a-9b7c-0a1b2c3d4e5f", display_name: "Build cache", icon: "/icon/db.svg" });
        expect(src.status).toBe(201);
        expect(src.json).toMatchObject({ workspace_agent_id: agent("main").id, id: "5b8e2a3c-1d4f-4e6a-9b7c-0a1b2c3d4e5f", display_name: "Build cache", icon: "/icon/db.svg" });
        expect((await patchLogs("main", { logs: [{ created_at: T0, output: "agent says hi", level: "info" }, { created_at: T1, output: "careful\u0000", level: "warn" }] })).status).toBe(200);
        expect((await patchLogs("main", { log_source_id: "5b8e2a3c-1d4f-4e6a-9b7c-0a1b2c3d4e5f", logs: [{ created_at: T1, output: "restored 12 MiB", level: "debug" }] })).status).toBe(200);
        expect((await patchLogs("dev", { logs: [{ created_at: T0, output: "other agent", level: "error" }] })).status).toBe(200);

        const text = await call("GET", `/api/v2/workspaceagents/${agent("main").id}/logs?format=text`, "admin");
        expect(text.status).toBe(200);
        expect(text.type).toBe("text/plain; charset=utf-8");
        expect(text.text).toBe(
          ["2024-05-06T07:08:09Z [info] [agent.main|External] agent says hi", "2024-05-06T05:08:10Z [warn] [agent.main|External] careful", "2024-05-06T05:08:10Z [debug] [agent.main|Build cache] restored 12 MiB"].join("\n"),
        );
        const json = await call("GET", `/api/v2/workspaceagents/${agent("main").id}/logs`, "admin");
        expect(json.type).toMatch(/^application\/json/);
        expect(json.json).toHaveLength(3);
        expect(json.json[0]).toEqual({ id: json.json[0].id, created_at: "2024-05-06T07:08:09.123Z", output: "agent says hi", level: "info", source_id: "3b579bf4-1ed8-4b99-87a8-e9a1e3410410" });
        const after = await call("GET", `/api/v2/workspaceagents/${agent("main").id}/logs?after=${json.json[1].id}`, "admin");
        expect(after.json.map((l: { output: string }) => l.output)).toEqual(["restored 12 MiB"]);
        const afterText = await call("GET", `/api/v2/workspaceagents/${agent("main").id}/logs?after=${json.json[2].id}&format=text`, "admin");
        expect(afterText.text).toBe("");
        const dev = await call("GET", `/api/v2/workspaceagents/${agent("dev").id}/logs?format=text`, annToken);
        expect(dev.text).toBe("2024-05-06T07:08:09Z [error] [agent.dev|External] other agent");
        // The agent JSON lists its sources (scripts' are registered with the build) and counts bytes.
        const a = await admin.agent(agent("main").id);
        expect(a.log_sources.map((s) => s.display_name).sort()).toEqual(["Build cache", "External", "Setup", "Startup Script"]);
        expect(a.logs_length).toBe("agent says hi".length + "careful".length + "restored 12 MiB".length);
      });

      it("PATCH errors: no logs 400, bad level 400, malformed JSON 400, unknown token 401", async () => {
        const none = await patchLogs("main", { logs: [] });
        expect(none.status).toBe(400);
        expect(none.json.message).toBe("No logs provided.");
        const level = await patchLogs("main", { logs: [{ created_at: T0, output: "x", level: "fatal" }] });
        expect(level.status).toBe(400);
        expect(level.json.validations[0].field).toBe("logs.0.level");
        expect((await patchLogs("main", "{")).json.message).toBe("Request body must be valid JSON.");
        expect((await call("PATCH", "/api/v2/workspaceagents/me/logs", "00000000-0000-4000-8000-000000000000", { logs: [] })).status).toBe(401);
      });

      it("past 1 MiB per agent: 413 Logs limit exceeded, the batch is refused and the agent marked overflowed", async () => {
        const created = await admin.createWorkspace({ name: "big", resources: [{ type: "vm", name: "x", agents: [{ name: "big" }] }] });
        const token = created.agents[0].auth_token;
        const chunk = "x".repeat(100_000);
        for (let i = 0; i < 10; i++) expect((await call("PATCH", "/api/v2/workspaceagents/me/logs", token, { logs: [{ created_at: T0, output: chunk, level: "info" }] })).status).toBe(200);
        const over = await call("PATCH", "/api/v2/workspaceagents/me/logs", token, { logs: [{ created_at: T0, output: "y".repeat(48_577), level: "info" }, { created_at: T0, output: "z", level: "info" }] });
        expect(over.status).toBe(413);
        expect(over.json.message).toBe("Logs limit exceeded");
        const a = await admin.agent(created.agents[0].id);
        expect(a.logs_overflowed).toBe(true);
        expect(a.logs_length).toBe(1_000_000);
        // Exactly up to the cap still fits.
        expect((await call("PATCH", "/api/v2/workspaceagents/me/logs", token, { logs: [{ created_at: T0, output: "y".repeat(48_576), level: "info" }] })).status).toBe(200);
        expect((await admin.agent(created.agents[0].id)).logs_length).toBe(1 << 20);
      });

      it("GET errors: after, format, follow with text, unknown agent, bad UUID, no token, another user", async () => {
        const path = `/api/v2/workspaceagents/${agent("main").id}/logs`;
        for (const bad of ["-1", "abc", "1.5"]) {
          const r = await call("GET", `${path}?after=${bad}`, "admin");
          expect(r.status, bad).toBe(400);
          expect(r.json).toEqual({ message: 'Query param "after" must be an integer greater than or equal to zero.', validations: [{ field: "after", detail: "Must be an integer greater than or equal to zero" }] });
        }
        expect((await call("GET", `${path}?format=xml`, "admin")).status).toBe(400);
        const follow = await call("GET", `${path}?format=text&follow`, "admin");
        expect(follow.status).toBe(400);
        expect(follow.json.message).toBe('Query param "follow" cannot be used with format=text.');
        const unknown = await call("GET", "/api/v2/workspaceagents/00000000-0000-4000-8000-000000000000/logs", "admin");
        expect(unknown.status).toBe(404);
        expect(unknown.json.message).toBe("Workspace agent not found.");
        expect((await call("GET", "/api/v2/workspaceagents/not-a-uuid/logs", "admin")).status).toBe(400);
        expect((await call("GET", path, "")).status).toBe(401);
        expect((await call("GET", path, "abcdefghij-abcdefghijabcdefghijab")).status).toBe(401);
        const bob = await call("GET", path, bobToken);
        expect(bob.status).toBe(403);
        expect(bob.json.message).toBe("Forbidden.");
        expect((await call("GET", path, annToken)).status).toBe(200);
      });
    });

    describe("provisioner job logs (SPEC §4)", () => {
      it("every build has plan logs; appended stages come back as text lines byte for byte", async () => {
        const build = ws.latest_build;
        const plan = await call("GET", `/api/v2/workspacebuilds/${build.id}/logs?format=text`, annToken);
        const lines = plan.text.split("\n");
        expect(lines.map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /, ""))).toEqual([
          "[info] [provisioner_daemon|plan] Planning the start transition: 1 resource(s)",
          "[info] [provisioner|plan] aws_instance.dev (instance i-0123456789abcdef0): agents dev, main",
        ]);
        const last = (await admin.buildLogs(build.id)).at(-1)!.id;
        await admin.appendJobLogs(build.job_id, [
          { created_at: T0, stage: "render", output: "aws_instance.dev: user data rendered (2 agents)" },
          { created_at: T1, stage: "boot", level: "warn", source: "provisioner_daemon", output: "aws_instance.dev: cloud-init key bootcmd only logged" },
        ]);
        const text = await call("GET", `/api/v2/workspacebuilds/${build.id}/logs?format=text&after=${last}`, "admin");
        expect(text.text).toBe("2024-05-06T07:08:09Z [info] [provisioner|render] aws_instance.dev: user data rendered (2 agents)\n2024-05-06T05:08:10Z [warn] [provisioner_daemon|boot] aws_instance.dev: cloud-init key bootcmd only logged");
        const json = await admin.buildLogs(build.id, last);
        expect(json[0]).toEqual({ id: json[0].id, created_at: "2024-05-06T07:08:09.123Z", log_source: "provisioner", log_level: "info", stage: "render", output: "aws_instance.dev: user data rendered (2 agents)" });
      });

      it("template version and dry-run logs; 404 for unknown versions and foreign dry runs; 400 cases", async () => {
        const tv = await call("POST", "/api/v2/provisioner/templateversions", "admin");
        expect(tv.status).toBe(201);
        const dry = await call("POST", `/api/v2/provisioner/templateversions/${tv.json.id}/dry-run`, "admin");
        expect(dry.status).toBe(201);
        await admin.appendJobLogs(tv.json.job_id, [{ created_at: T0, stage: "Parsing template parameters", output: "ok" }]);
        await admin.appendJobLogs(dry.json.id, [{ created_at: T0, stage: "Planning infrastructure", output: "Terraform 1.11.4" }]);
        expect((await call("GET", `/api/v2/templateversions/${tv.json.id}/logs?format=text`, annToken)).text).toBe("2024-05-06T07:08:09Z [info] [provisioner|Parsing template parameters] ok");
        expect((await call("GET", `/api/v2/templateversions/${tv.json.id}/dry-run/${dry.json.id}/logs?format=text`, annToken)).text).toBe("2024-05-06T07:08:09Z [info] [provisioner|Planning infrastructure] Terraform 1.11.4");
        const foreign = await call("GET", `/api/v2/templateversions/${tv.json.id}/dry-run/${ws.latest_build.job_id}/logs`, "admin");
        expect(foreign.status).toBe(404);
        expect(foreign.json.message).toBe("Provisioner job not found.");
        expect((await call("GET", "/api/v2/templateversions/00000000-0000-4000-8000-000000000000/logs", "admin")).status).toBe(404);
        expect((await call("GET", `/api/v2/templateversions/${tv.json.id}/logs?after=x`, "admin")).status).toBe(400);
        expect((await call("GET", `/api/v2/templateversions/${tv.json.id}/dry-run/${dry.json.id}/logs?follow&format=text`, "admin")).status).toBe(400);
        expect((await call("GET", "/api/v2/workspacebuilds/00000000-0000-4000-8000-000000000000/logs", "admin")).status).toBe(404);
        expect((await call("GET", `/api/v2/workspacebuilds/${ws.latest_build.id}/logs`, bobToken)).status).toBe(403);
        expect((await call("POST", `/api/v2/provisioner/jobs/${tv.json.job_id}/logs`, annToken, { logs: [{ stage: "x", output: "y" }] })).status).toBe(401);
      });

      it("follow: JSON arrays of new logs as SSE data events, ending when the job completes", async () => {
        const own = await admin.createWorkspace({ name: "follow", resources: [{ type: "vm", name: "x", agents: [{ name: "f" }] }] });
        const running = await admin.createBuild(own.id, { transition: "start", job: "running" });
        const res = await fetch(new URL(`/api/v2/workspacebuilds/${running.build.id}/logs?follow&after=0`, coord.url), { headers: { "Coder-Session-Token": "admin" } });
        expect(res.headers.get("content-type")).toBe("text/event-stream");
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const got: { output: string }[][] = [];
        const reading = (async () => {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) if (ev.event === "data") got.push(JSON.parse(ev.data));
          }
        })();
        await new Promise((r) => setTimeout(r, 200));
        await admin.appendJobLogs(running.build.job_id, [{ stage: "boot", output: "booted" }]);
        await new Promise((r) => setTimeout(r, 200));
        await admin.completeJob(running.build.job_id, { status: "succeeded" });
        await reading;
        const outputs = got.flat().map((l) => l.output);
        expect(outputs[0]).toMatch(/^Planning the start transition/);
        expect(outputs.at(-1)).toBe("booted");
      });
    });

    describe("script timings (SPEC §7)", () => {
      const scriptOf = async (name: string) => (await admin.agent(agent(name).id)).scripts.find((s) => s.display_name === "Setup")!;
      const post = (name: string, body: unknown) => call("POST", "/api/v2/workspaceagents/me/script-timings", agent(name).auth_token, body);

      it("earliest run per script, per agent, never mixed between agents", async () => {
        const main = await scriptOf("main");
        const dev = await scriptOf("dev");
        expect((await post("main", { script_id: main.id, start: "2024-01-01T00:00:05Z", end: "2024-01-01T00:00:09Z", exit_code: 1, stage: "cron", status: "exit_failure" })).status).toBe(204);
        expect((await post("main", { script_id: main.id, start: "2024-01-01T00:00:01Z", end: "2024-01-01T00:00:02Z", exit_code: 0, stage: "start", status: "ok" })).status).toBe(204);
        expect((await post("dev", { script_id: dev.id, start: "2024-01-01T00:00:03Z", end: "2024-01-01T00:01:03Z", exit_code: -1, stage: "start", status: "timed_out" })).status).toBe(204);
        const t = await admin.buildTimings(ws.latest_build.id);
        expect(t.agent_script_timings).toEqual([
          { started_at: "2024-01-01T00:00:01.000Z", ended_at: "2024-01-01T00:00:02.000Z", exit_code: 0, stage: "start", status: "ok", display_name: "Setup", workspace_agent_id: agent("main").id, workspace_agent_name: "main" },
          { started_at: "2024-01-01T00:00:03.000Z", ended_at: "2024-01-01T00:01:03.000Z", exit_code: -1, stage: "start", status: "timed_out", display_name: "Setup", workspace_agent_id: agent("dev").id, workspace_agent_name: "dev" },
        ]);
        expect(t.provisioner_timings).toEqual([expect.objectContaining({ job_id: ws.latest_build.job_id, stage: "plan", source: "aws", action: "create", resource: "aws_instance.dev" })]);
        // Both agents talked to the coordinator: one connection timing each.
        expect(t.agent_connection_timings.map((c) => c.workspace_agent_name).sort()).toEqual(["dev", "main"]);
      });

      it("errors: a script of another agent 400, bad status 400, unknown build 404, bad UUID 400, another user 403", async () => {
        const dev = await scriptOf("dev");
        const foreign = await post("main", { script_id: dev.id, start: T0, end: T0, exit_code: 0, stage: "start", status: "ok" });
        expect(foreign.status).toBe(400);
        expect(foreign.json.validations[0].field).toBe("script_id");
        expect((await post("main", { script_id: dev.id, start: T0, end: T0, exit_code: 0, stage: "start", status: "crashed" })).status).toBe(400);
        expect((await call("GET", "/api/v2/workspacebuilds/00000000-0000-4000-8000-000000000000/timings", "admin")).status).toBe(404);
        expect((await call("GET", "/api/v2/workspacebuilds/nope/timings", "admin")).status).toBe(400);
        expect((await call("GET", `/api/v2/workspacebuilds/${ws.latest_build.id}/timings`, bobToken)).status).toBe(403);
        expect((await call("GET", `/api/v2/workspacebuilds/${ws.latest_build.id}/timings`, annToken)).status).toBe(200);
      });
    });

    describe("app status (SPEC §6)", () => {
      const patch = (name: string, body: unknown) => call("PATCH", "/api/v2/workspaceagents/me/app-status", agent(name).auth_token, body);

      it("any app of the agent reports; statuses newest first; latest_app_status is the newest of the workspace", async () => {
        expect((await admin.workspace(ws.id)).latest_app_status).toBeNull();
        const ok = await patch("main", { app_slug: "code", state: "working", message: "Cloning", uri: "" });
        expect(ok.status).toBe(200);
        expect(ok.text).toBe("null");
        await patch("main", { app_slug: "web", state: "idle", message: "x".repeat(160), uri: "https://example.com/pr/1" });
        await patch("dev", { app_slug: "term", state: "complete", message: "Done" });
        await patch("main", { app_slug: "code", state: "failure", message: "Clone failed" });
        const w = await admin.workspace(ws.id);
        const main = w.latest_build.resources[0].agents.find((a) => a.name === "main")!;
        expect(main.apps.find((a) => a.slug === "code")!.statuses.map((s) => s.state)).toEqual(["failure", "working"]);
        expect(main.apps.find((a) => a.slug === "web")!.statuses[0]).toMatchObject({ state: "idle", uri: "https://example.com/pr/1", agent_id: agent("main").id, workspace_id: ws.id });
        expect(w.latest_app_status).toMatchObject({ state: "failure", message: "Clone failed", app_id: main.apps.find((a) => a.slug === "code")!.id });
      });

      it("errors with coderd's messages: unknown slug, a sibling's slug, message over 160, bad state", async () => {
        const unknown = await patch("main", { app_slug: "nope", state: "working", message: "" });
        expect(unknown.status).toBe(400);
        expect(unknown.json).toEqual({ message: "Failed to get workspace app.", detail: 'No app found with slug "nope"' });
        expect((await patch("main", { app_slug: "term", state: "working", message: "" })).status).toBe(400);
        const long = await patch("main", { app_slug: "code", state: "working", message: "x".repeat(161) });
        expect(long.status).toBe(400);
        expect(long.json.message).toBe("Message is too long.");
        expect(long.json.validations).toEqual([{ field: "message", detail: "Message must be less than 160 characters." }]);
        const state = await patch("main", { app_slug: "code", state: "sleeping", message: "" });
        expect(state.status).toBe(400);
        expect(state.json.message).toBe("Invalid state provided.");
        expect(state.json.validations[0].field).toBe("state");
      });
    });

    describe("app health", () => {
      it("the agent reports its health checks; apps without one or of another agent are refused", async () => {
        const created = await admin.createWorkspace({
          name: "health",
          resources: [{ type: "vm", name: "x", agents: [{ name: "h", apps: [{ slug: "web", healthcheck: { url: "http://127.0.0.1:1/", interval: 5, threshold: 3 } }, { slug: "plain" }] }, { name: "o", apps: [{ slug: "other", healthcheck: { url: "http://127.0.0.1:1/", interval: 5, threshold: 3 } }] }] }],
        });
        const token = created.agents.find((a) => a.name === "h")!.auth_token;
        const apps = async () => Object.fromEntries((await admin.agent(created.agents.find((a) => a.name === "h")!.id)).apps.map((a) => [a.slug, a]));
        const before = await apps();
        expect(before.web.health).toBe("initializing");
        expect(before.plain.health).toBe("disabled");
        const m = (await call("GET", "/api/v2/workspaceagents/me/manifest", token)).json;
        expect(m.apps.find((a: { slug: string }) => a.slug === "web").healthcheck).toEqual({ url: "http://127.0.0.1:1/", interval: 5, threshold: 3 });
        expect((await call("POST", "/api/v2/workspaceagents/me/app-health", token, { healths: { [before.web.id]: "unhealthy" } })).status).toBe(204);
        expect((await apps()).web.health).toBe("unhealthy");
        const plain = await call("POST", "/api/v2/workspaceagents/me/app-health", token, { healths: { [before.plain.id]: "healthy" } });
        expect(plain.status).toBe(400);
        expect(plain.json.message).toBe("Error setting health");
        const otherId = (await admin.agent(created.agents.find((a) => a.name === "o")!.id)).apps[0].id;
        expect((await call("POST", "/api/v2/workspaceagents/me/app-health", token, { healths: { [otherId]: "healthy" } })).status).toBe(400);
        expect((await call("POST", "/api/v2/workspaceagents/me/app-health", token, { healths: { [before.web.id]: "disabled" } })).status).toBe(400);
      });
    });

    describe("containers (SPEC §5) without a connected agent", () => {
      it("400 while the agent has no API, 400 on a bad label, 404 unknown agent, 403 another user", async () => {
        const created = await admin.createWorkspace({ name: "idle", owner: "ann", resources: [{ type: "vm", name: "x", agents: [{ name: "idle" }] }] });
        const id = created.agents[0].id;
        const r = await call("GET", `/api/v2/workspaceagents/${id}/containers`, annToken);
        expect(r.status).toBe(400);
        expect(r.json.message).toBe('Agent state is "connecting", it must be in the "connected" state.');
        expect((await call("GET", `/api/v2/workspaceagents/${id}/containers?label=a=b=c`, annToken)).json.message).toBe("Invalid label format");
        expect((await call("GET", `/api/v2/workspaceagents/00000000-0000-4000-8000-000000000000/containers`, "admin")).status).toBe(404);
        expect((await call("GET", `/api/v2/workspaceagents/${id}/containers`, bobToken)).status).toBe(403);
        expect((await call("POST", `/api/v2/workspaceagents/${id}/containers/devcontainers/x/recreate`, bobToken)).status).toBe(403);
        expect((await call("POST", `/api/v2/workspaceagents/${id}/containers/devcontainers/x/recreate`, annToken)).status).toBe(400);
      });
    });

    describe("manifest", () => {
      it("carries scripts (startup_script as Coder's \"Startup Script\"), apps, env and dev containers", async () => {
        const created = await admin.createWorkspace({
          name: "manifest",
          resources: [
            {
              type: "docker_container",
              name: "c",
              agents: [
                { name: "p", env: { A: "1" }, startup_script: "echo start", startup_script_behavior: "blocking", shutdown_script: "echo stop", devcontainers: [{ name: "dc", workspace_folder: "/w", subagent: "s" }] },
                { name: "s", parent: "p" },
              ],
            },
          ],
        });
        const p = created.agents.find((a) => a.name === "p")!;
        const m = (await call("GET", "/api/v2/workspaceagents/me/manifest", p.auth_token)).json;
        expect(m.environment_variables).toEqual({ A: "1" });
        expect(m.scripts.map((s: Record<string, unknown>) => [s.display_name, s.run_on_start, s.run_on_stop, s.start_blocks_login, s.log_path])).toEqual([
          ["Startup Script", true, false, true, "coder-startup-script.log"],
          ["Shutdown Script", false, true, false, "coder-shutdown-script.log"],
        ]);
        const s = created.agents.find((a) => a.name === "s")!;
        expect(m.devcontainers).toEqual([{ id: expect.any(String), name: "dc", workspace_folder: "/w", config_path: "", subagent: { id: s.id, name: "s", auth_token: s.auth_token } }]);
        const bad = await call("POST", "/api/v2/provisioner/workspaces", "admin", { name: "bad", resources: [{ type: "x", name: "y", agents: [{ name: "p", devcontainers: [{ name: "dc", workspace_folder: "/w", subagent: "q" }] }, { name: "q" }] }] });
        expect(bad.status).toBe(400);
        expect(bad.json.validations[0].field).toBe("resources.agents.devcontainers.subagent");
        const badScript = await call("POST", "/api/v2/provisioner/workspaces", "admin", { name: "bad", resources: [{ type: "x", name: "y", agents: [{ name: "p", scripts: [{ display_name: "x", script: "y", cron: "not cron" }] }] }] });
        expect(badScript.status).toBe(400);
      });
    });
  });
}
