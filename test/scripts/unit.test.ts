import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertDockerInspect, type DockerInspect } from "../../src/agent/containers.js";
import { ScriptRunner } from "../../src/agent/scripts.js";
import type { ManifestScript } from "../../src/sdk/agent.js";
import { coderCronPattern, cronError } from "../../src/sdk/cron.js";
import { agentLogLine, provisionerLogLine, rfc3339 } from "../../src/sdk/logs.js";
import type { ScriptTiming } from "../../src/sdk/timings.js";
import { diffSnapshots, type Snapshot } from "../../src/coordinator/workspace-updates.js";
import { repoRoot } from "../support/cli.js";

const fixture = (name: string) => JSON.parse(readFileSync(join(repoRoot, "test/fixtures/containers/inspect", name), "utf8")) as DockerInspect[];

describe("docker inspect conversion (SPEC §5)", () => {
  it("live host bindings only, IPv4/IPv6 twins once, bad host ports skipped with a warning, volumes by source", () => {
    const { containers, warnings } = convertDockerInspect(fixture("ports.json"));
    expect(containers).toEqual([
      {
        created_at: "2025-03-11T17:56:34.842Z",
        id: "4f0c3b1f2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c",
        name: "web",
        image: "nginx:1.27",
        labels: { "com.example.team": "web", maintainer: "NGINX Docker Maintainers <docker-maint@nginx.com>" },
        running: true,
        ports: [
          { port: 53, network: "udp", host_ip: "0.0.0.0", host_port: 5353 },
          { port: 80, network: "tcp", host_ip: "0.0.0.0", host_port: 32768 },
          { port: 8443, network: "tcp", host_ip: "::", host_port: 8443 },
        ],
        status: "running",
        volumes: { "/home/coder/conf": "/etc/nginx/conf.d", "/var/lib/docker/volumes/web-data/_data": "/usr/share/nginx/html" },
      },
    ]);
    expect(warnings).toEqual(['convert docker host port: strconv.Atoi: parsing "abc": invalid syntax', "convert docker host port: invalid host port 70000"]);
  });

  it("a stopped container with null labels and no ports; a bad container port key is skipped with a warning", () => {
    const [stopped] = fixture("stopped.json");
    const { containers } = convertDockerInspect([stopped]);
    expect(containers[0]).toMatchObject({ name: "batch-job", running: false, status: "exited", labels: {}, ports: [], volumes: {} });
    const odd = { ...stopped, NetworkSettings: { Ports: { "http/tcp": [{ HostIp: "0.0.0.0", HostPort: "80" }], "22": [{ HostIp: "10.0.0.5", HostPort: "2222" }] } } };
    const r = convertDockerInspect([odd]);
    expect(r.containers[0].ports).toEqual([{ port: 22, network: "tcp", host_ip: "10.0.0.5", host_port: 2222 }]);
    expect(r.warnings).toEqual(["convert docker port: invalid port format: http/tcp"]);
  });

  it("the same host port bound to different container ports is kept twice", () => {
    const [c] = fixture("stopped.json");
    const r = convertDockerInspect([{ ...c, NetworkSettings: { Ports: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }], "81/tcp": [{ HostIp: "::", HostPort: "8080" }] } } }]);
    expect(r.containers[0].ports.map((p) => p.port)).toEqual([80, 81]);
  });
});

describe("coder_script cron as Coder's agent parses it", () => {
  it("six fields with seconds; five fields are seconds … month with any weekday", () => {
    expect(coderCronPattern("0 22 * * *")).toBe("0 22 * * * *");
    expect(coderCronPattern("0 0 22 * * *")).toBe("0 0 22 * * *");
    expect(cronError("0 0 22 * * *")).toBeUndefined();
    expect(cronError("* * * *")).toMatch(/expected 5 or 6 fields/);
    expect(cronError("61 * * * * *")).toBeDefined();
  });
});

describe("text log lines (SPEC §4)", () => {
  it("RFC 3339 UTC with whole seconds and the exact shapes", () => {
    expect(rfc3339("2024-05-06T07:08:09.999+02:00")).toBe("2024-05-06T05:08:09Z");
    expect(agentLogLine({ id: 1, created_at: "2024-05-06T07:08:09.5Z", output: "hi", level: "warn", source_id: "x" }, "main", "Startup Script")).toBe("2024-05-06T07:08:09Z [warn] [agent.main|Startup Script] hi");
    expect(provisionerLogLine({ id: 1, created_at: "2024-05-06T07:08:09Z", output: "Terraform 1.11.4", log_level: "info", log_source: "provisioner_daemon", stage: "Planning infrastructure" })).toBe(
      "2024-05-06T07:08:09Z [info] [provisioner_daemon|Planning infrastructure] Terraform 1.11.4",
    );
  });
});

describe("workspace update diffs (SPEC §8)", () => {
  const snap = (ws: [string, string][], agents: [string, string][]): Snapshot => ({
    workspaces: new Map(ws.map(([id, status]) => [id, { id, name: id, status: status as "running" }])),
    agents: new Map(agents.map(([id, w]) => [id, { id, name: id, workspace_id: w }])),
  });
  it("upserts new and changed, deletes missing, undefined when nothing changed", () => {
    const a = snap([["w1", "running"]], [["a1", "w1"]]);
    expect(diffSnapshots(a, snap([["w1", "running"]], [["a1", "w1"]]))).toBeUndefined();
    expect(diffSnapshots(a, snap([["w1", "stopped"], ["w2", "running"]], []))).toEqual({
      upserted_workspaces: [
        { id: "w1", name: "w1", status: "stopped" },
        { id: "w2", name: "w2", status: "running" },
      ],
      upserted_agents: [],
      deleted_workspaces: [],
      deleted_agents: [{ id: "a1", name: "a1", workspace_id: "w1" }],
    });
  });
});

describe("ScriptRunner", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const script = (over: Partial<ManifestScript>): ManifestScript => ({
    id: crypto.randomUUID(),
    log_source_id: crypto.randomUUID(),
    display_name: "s",
    icon: "",
    script: "true",
    run_on_start: false,
    run_on_stop: false,
    cron: "",
    start_blocks_login: false,
    timeout_seconds: 0,
    log_path: "",
    ...over,
  });
  function runner(scripts: ManifestScript[]) {
    const dir = mkdtempSync(join(tmpdir(), "runner-"));
    dirs.push(dir);
    const timings: ScriptTiming[] = [];
    const lines: string[] = [];
    const r = new ScriptRunner(scripts, {
      dataDir: dir,
      env: { ...process.env, GREETING: "hey" },
      waitDelayMs: 300,
      output: (s, line, level) => lines.push(`${s.display_name}:${level}:${line}`),
      completed: (t) => timings.push(t),
      log: () => undefined,
    });
    return { r, timings, lines, dir };
  }

  it("start scripts run in parallel; ok, exit_failure, timed_out and pipes_left_open; the first error wins", async () => {
    const scripts = [
      script({ display_name: "ok", run_on_start: true, script: 'echo "$GREETING from $CODER_SCRIPT_DATA_DIR"; sleep 0.3' }),
      script({ display_name: "fail", run_on_start: true, script: "sleep 0.5; echo oops >&2; exit 7" }),
      script({ display_name: "slow", run_on_start: true, timeout_seconds: 1, script: "trap '' TERM; sleep 5" }),
      script({ display_name: "bg", run_on_start: true, script: "sleep 3 & echo spawned" }),
      script({ display_name: "stop-only", run_on_stop: true, script: "echo bye" }),
    ];
    const { r, timings, lines } = runner(scripts);
    const err = await r.execute("start");
    r.stop();
    // The first run to fail: bg, once the wait delay (0.3 s) is over, before fail exits (0.5 s).
    expect(err?.script.display_name).toBe("bg");
    expect(err?.status).toBe("pipes_left_open");
    const by = Object.fromEntries(timings.map((t) => [scripts.find((s) => s.id === t.script_id)!.display_name, t]));
    expect(Object.keys(by).sort()).toEqual(["bg", "fail", "ok", "slow"]);
    expect(by.ok).toMatchObject({ status: "ok", exit_code: 0, stage: "start" });
    expect(by.fail).toMatchObject({ status: "exit_failure", exit_code: 7 });
    // Ignores SIGTERM: killed after the wait delay.
    expect(by.slow).toMatchObject({ status: "timed_out", exit_code: -1 });
    expect(by.bg).toMatchObject({ status: "pipes_left_open", exit_code: 0 });
    // In parallel: every script started before the first one ended.
    expect(Math.max(...timings.map((t) => Date.parse(t.start)))).toBeLessThan(Math.min(...timings.map((t) => Date.parse(t.end))));
    expect(lines).toContain(`ok:info:hey from ${join(r.binDir, "..", "scripts", scripts[0].log_source_id)}`);
    expect(lines).toContain("fail:info:oops");
    expect(lines.some((l) => l.startsWith("bg:warn:WARNING: script exited successfully, but output pipes were not closed after 0.3s"))).toBe(true);
  });

  it("stop scripts run at stop; a timed-out stop script is the error", async () => {
    const { r, timings, lines } = runner([script({ display_name: "bye", run_on_stop: true, script: "echo bye" }), script({ display_name: "hang", run_on_stop: true, timeout_seconds: 1, script: "sleep 5" })]);
    const err = await r.execute("stop");
    expect(err?.status).toBe("timed_out");
    expect(timings.map((t) => t.stage)).toEqual(["stop", "stop"]);
    expect(lines).toContain("bye:info:bye");
  });

  it("cron scripts run on their schedule with stage cron, and write their log_path file", async () => {
    const s = script({ display_name: "tick", cron: "* * * * * *", script: "echo tick", log_path: "tick.log" });
    const { r, timings, dir } = runner([s]);
    r.startCron();
    await new Promise((res) => setTimeout(res, 2300));
    r.stop();
    expect(timings.length).toBeGreaterThanOrEqual(2);
    expect(timings.every((t) => t.stage === "cron" && t.status === "ok")).toBe(true);
    expect(readFileSync(join(dir, "logs", "tick.log"), "utf8")).toMatch(/^tick\ntick\n/);
  });
});
