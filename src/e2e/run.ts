/**
 * `provisioner e2e`: plans the template for a workspace, starts an in-process coordinator and a fake
 * metadata service per instance, then boots every instance in its own sandbox as the cloud or the
 * container runtime would (cloud-init's order for user data, the container's command and environment),
 * and checks every agent: authenticated as itself, ready; for prebuilds, one reinit after the claim.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCoordinator, type RunningCoordinator } from "../coordinator/index.js";
import { generateIdentityKeys, type IdentityKeys, trustFromKeys } from "../identity/index.js";
import { startImds, type RunningImds } from "../imds/server.js";
import { agentConfig } from "../plan/agent-config.js";
import { analyzeBoot, droppedNote, nameFix, startLocation } from "../plan/agent-starts.js";
import { workspaceContext } from "../plan/context.js";
import { type Maybe, type Plan, type PlannedAgent, type PlannedInstance, planTemplate, undeclaredParameters } from "../plan/plan.js";
import { AdminClient } from "../sdk/admin-client.js";
import type { CreatedAgent } from "../sdk/admin.js";
import { loadModule } from "../template/load.js";
import { interpretUserData, type UserDataPlan } from "../template/userdata.js";
import { shellQuote } from "../machine/shell.js";
import { bootstrapScript } from "./bootstrap.js";
import { InstanceSandbox, NetworkBridge, sandboxUnavailable } from "./sandbox.js";
import { randomBytes, randomUUID } from "node:crypto";

export type Scenario = "start" | "prebuild";

export type AgentOutcome = "ok" | "refused" | "never_started" | "not_ready" | "wrong_agent" | "unsupported";

export interface AgentResult {
  instance: string;
  /** The compute kind (aws_instance, docker_container, kubernetes_deployment, …). */
  kind: string;
  instance_id: string | null;
  agent: string;
  auth: string;
  result: AgentOutcome;
  /** Why, when the result is not ok. */
  reason: string | null;
  /** The agent name the coordinator authenticated it as (from its manifest). */
  authenticated_as: string | null;
  lifecycle: string;
  time_to_ready_ms: number | null;
  http_status: number | null;
  server_message: string | null;
  reinits: number | null;
  log_file: string | null;
  /** Each script's earliest run, as coderd records it (SPEC §7). */
  scripts: { display_name: string; status: string; exit_code: number; duration_ms: number }[];
  /** Apps and their newest status (SPEC §6). */
  apps: { slug: string; state: string | null; message: string | null }[];
}

export interface ScenarioResult {
  scenario: Scenario;
  ok: boolean;
  failures: string[];
  agents: AgentResult[];
  duration_ms: number;
  /** Agent logs as `GET …/logs?format=text` prints them, by agent (with --logs). */
  logs?: Record<string, string>;
}

export interface E2eReport {
  template: string;
  ok: boolean;
  /** Set when nothing could be exercised: why. */
  nothing_to_test: string | null;
  scenarios: ScenarioResult[];
  notes: string[];
  sandbox: string | null;
}

export interface E2eOptions {
  dir: string;
  scenarios: Scenario[];
  timeoutMs: number;
  keep: boolean;
  parameters?: Record<string, string>;
  progress: (line: string) => void;
  /** Abort the run (SIGINT): every sandbox is stopped and removed. */
  signal?: AbortSignal;
  /** Collect each agent's logs in the `format=text` shape (for --logs). */
  logs?: boolean;
}

/** A bad input that stops the run before anything starts (exit 2). */
export class E2eInputError extends Error {}

interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

function readJsonLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const out: LogLine[] = [];
  for (const l of readFileSync(file, "utf8").split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      // a partial line while the agent is writing
    }
  }
  return out;
}

function tail(file: string, n = 8): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{")).slice(-n);
}


function instanceIdFor(cloud: string | undefined): string {
  if (cloud === "aws") return `i-0${randomBytes(8).toString("hex")}`;
  if (cloud === "gcp") return String(BigInt("0x" + randomBytes(7).toString("hex")) + 1000000000000000n);
  return randomUUID();
}

/** Lifecycle states after which an agent will not become ready by itself. */
const FINAL_NOT_READY = new Set(["start_error", "start_timeout", "shutting_down", "shutdown_error", "shutdown_timeout", "off"]);

const UBUNTU = 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n';

/** Why an agent cannot run here at all, or undefined. */
function unsupported(agent: PlannedAgent): string | undefined {
  const inst = agent.instance;
  if (agent.os.known && agent.os.value !== "linux") return `its os is ${agent.os.value}: e2e runs Linux agents only (validate checks it statically)`;
  if (inst?.windows) return `${inst.address} boots Windows (${inst.boot.kind === "user-data" ? inst.boot.attribute : "image"}): e2e runs Linux agents only`;
  if (!inst && agent.tiedTo) return `it is tied to ${agent.tiedTo}, a resource e2e cannot boot`;
  return undefined;
}

/** The shell script that boots a VM as cloud-init would (bootcmd, then the scripts of scripts-user in name order). */
function cloudInitBoot(ud: UserDataPlan): string {
  const lines = ["#!/bin/sh", "# provisioner e2e: cloud-init's boot of this instance"];
  const run = (label: string, body: string) => {
    lines.push(`echo ${shellQuote(`== ${label}`)}`);
    lines.push(body);
  };
  for (const c of ud.commands.filter((x) => x.stage === "bootcmd")) run(c.origin, c.argv ? c.argv.map(shellQuote).join(" ") : `/bin/sh -c ${shellQuote(c.script!)}`);
  const scripts = ud.commands.filter((x) => x.stage !== "bootcmd");
  if (scripts.length > 0) run("scripts-user", 'for s in /var/lib/cloud/instance/scripts/*; do [ -x "$s" ] && { echo "== $s"; "$s"; echo "== $s exited $?"; }; done');
  lines.push("echo '== scripts-user done'");
  return lines.join("\n") + "\n";
}

export async function runE2e(opts: E2eOptions): Promise<E2eReport> {
  const config = loadModule(opts.dir);
  const why = sandboxUnavailable();
  if (why) throw new E2eInputError(`e2e cannot run instances on this machine: ${why}`);
  // Per run and in memory only: the run leaves no key material behind.
  const keys = generateIdentityKeys();
  keys.catch(() => undefined);
  const runDir = mkdtempSync(join(tmpdir(), "provisioner-e2e-"));
  const scenarios: ScenarioResult[] = [];
  const notes: string[] = [];
  let nothing: string | null = null;
  try {
    for (const s of opts.scenarios) {
      const r = await scenarioRun(config, s, opts, join(runDir, s), notes, keys);
      if ("nothing" in r) {
        nothing = r.nothing;
        scenarios.push({ scenario: s, ok: false, failures: [], agents: r.agents, duration_ms: 0 });
        break;
      }
      scenarios.push(r);
      if (opts.signal?.aborted) break;
    }
  } finally {
    if (!opts.keep) {
      const { rmSync, readdirSync } = await import("node:fs");
      for (const d of existsSync(runDir) ? readdirSync(runDir) : []) {
        for (const inst of existsSync(join(runDir, d, "instances")) ? readdirSync(join(runDir, d, "instances")) : []) new InstanceSandbox(join(runDir, d, "instances", inst), new NetworkBridge(join(runDir, d, "net"))).remove();
      }
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  const ok = nothing === null && scenarios.length > 0 && scenarios.every((s) => s.ok);
  return { template: opts.dir, ok, nothing_to_test: nothing, scenarios, notes: [...new Set(notes)], sandbox: opts.keep ? runDir : null };
}

function describeMaybe(m: Maybe<unknown>): string {
  return m.known ? "" : m.reason;
}

/** The report row of an agent e2e does not run: not runnable on this host, or tied to nothing (a failure). */
function notRunRow(plan: Plan, a: PlannedAgent): AgentResult {
  const why = unsupported(a);
  const modules = !a.instance && !why ? plan.unfollowedModules.map((m) => m.address) : [];
  const reason = why ?? (modules.length ? `it is tied to no compute resource of this template; its compute may be in ${modules.join(", ")}, which e2e does not follow` : "it is tied to no compute resource: nothing in the template runs its init_script, so it never connects");
  return {
    instance: a.instance?.address ?? a.tiedTo ?? "-",
    kind: a.instance?.kind ?? a.tiedTo?.split(".")[0] ?? "-",
    instance_id: null,
    agent: a.name,
    auth: a.auth,
    result: why || modules.length ? "unsupported" : "never_started",
    reason,
    authenticated_as: null,
    lifecycle: "-",
    time_to_ready_ms: null,
    http_status: null,
    server_message: null,
    reinits: null,
    log_file: null,
    scripts: [],
    apps: [],
  };
}

/** A scenario where no agent can run: a failure when an agent is tied to nothing, else nothing to test. */
function notRun(plan: Plan, started: PlannedAgent[], t0: number, scenario: Scenario): ScenarioResult | NothingToTest {
  const agents = started.map((a) => notRunRow(plan, a));
  const failures = agents.filter((r) => r.result !== "unsupported").map((r) => `agent ${r.agent} never started: ${r.reason}`);
  if (failures.length) return { scenario, ok: false, failures, agents, duration_ms: Date.now() - t0 };
  const nothing = `nothing to test: ${started.length === 0 ? "the template starts no agent" : agents.map((r) => `agent ${r.agent}: ${r.reason}`).join("; ")}`;
  return { nothing, agents };
}

interface NothingToTest {
  nothing: string;
  agents: AgentResult[];
}

async function scenarioRun(config: ReturnType<typeof loadModule>, scenario: Scenario, opts: E2eOptions, dir: string, notes: string[], identityKeys: Promise<IdentityKeys>): Promise<ScenarioResult | NothingToTest> {
  const t0 = Date.now();
  const progress = (l: string) => opts.progress(`[${scenario}] ${l}`);
  const agentValues = new Map<string, { id: string; token: string; initScript: string }>();
  const ctx = workspaceContext({
    prebuild: scenario === "prebuild" ? "prebuild" : "none",
    parameters: opts.parameters,
    owner: scenario === "prebuild" ? undefined : { name: "e2e-user" },
    agent: (name) => agentValues.get(name) ?? { id: "", token: "", initScript: "" },
  });
  const plan = planTemplate(config, ctx);
  const undeclared = undeclaredParameters(plan, opts.parameters ?? {});
  if (undeclared) throw new E2eInputError(`--parameter: ${undeclared}`);
  for (const m of plan.unfollowedModules) notes.push(`module ${m.address} (${m.source}) is not followed: only local modules are; its agents and resources are not exercised`);
  for (const p of plan.problems) notes.push(`${p.file}:${p.line}: ${p.message}`);

  const started = plan.agents.filter((a) => a.count > 0);
  for (const a of plan.agents.filter((x) => x.count === 0)) notes.push(`agent ${a.name} has count 0 for a started workspace: not run`);
  for (const a of plan.agents.filter((x) => x.count > 1)) throw new E2eInputError(`coder_agent.${a.name} has ${a.count} instances: Coder rejects several agents with one name (declare one coder_agent resource per agent)`);
  // Agents whose os is not Linux, or that are tied to nothing: known without evaluating any boot.
  const runnableByConfig = started.filter((a) => a.instance && !(a.os.known && a.os.value !== "linux"));
  if (runnableByConfig.length === 0) return notRun(plan, started, t0, scenario);

  const keys = await identityKeys;
  let coord: RunningCoordinator | undefined;
  const imdses: RunningImds[] = [];
  const sandboxes: InstanceSandbox[] = [];
  const bridge = new NetworkBridge(join(dir, "net"));
  const failures: string[] = [];
  const results: AgentResult[] = [];
  const onAbort = () => void Promise.all(sandboxes.map((s) => s.stop()));
  opts.signal?.addEventListener("abort", onAbort);
  try {
    coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", trust: trustFromKeys(keys), adminToken: "e2e-admin-token-0123456789", ssePingMs: 5000 });
    const port = Number(new URL(coord.url).port);
    // The access URL says "localhost", as a local Coder's does: templates that rewrite it for containers are exercised.
    const accessUrl = `http://localhost:${port}/`;
    progress(`coordinator on ${coord.url}`);
    const admin = new AdminClient(coord.url, coord.adminToken);
    const instanceIds = new Map<PlannedInstance, string>();
    const withAgents = plan.instances.filter((i) => i.agents.some((a) => a.count > 0));
    for (const inst of withAgents) instanceIds.set(inst, instanceIdFor(inst.cloud));
    const configs = new Map(started.map((a) => [a.name, agentConfig(plan, a.name)]));
    for (const [name, c] of configs) {
      c.skipped.forEach((s) => notes.push(`agent ${name}: ${s}`));
      if (c.devcontainers.length) notes.push(`agent ${name}: dev containers (${c.devcontainers.map((d) => d.name).join(", ")}) need a Docker engine; e2e does not start them`);
    }
    const createdWs = await admin.createWorkspace({
      name: "e2e",
      ...(scenario === "prebuild" ? { prebuild: true } : { owner: "e2e-user" }),
      resources: withAgents.map((inst) => ({
        type: inst.kind,
        name: inst.address.slice(inst.kind.length + 1),
        instance_id: inst.cloud ? instanceIds.get(inst) : undefined,
        agents: inst.agents
          .filter((a) => a.count > 0)
          .map((a) => {
            const c = configs.get(a.name)!;
            return {
              name: a.name,
              auth: a.auth as "token",
              arch: (a.arch.known && a.arch.value === "arm64" ? "arm64" : "amd64") as "amd64",
              os: "linux" as const,
              env: c.env,
              startup_script: c.startup_script,
              startup_script_behavior: c.startup_script_behavior,
              shutdown_script: c.shutdown_script,
              apps: c.apps,
              scripts: c.scripts,
            };
          }),
      })),
    });
    const createdByName = new Map(createdWs.agents.map((a) => [a.name, a]));
    ctx.workspace.id = createdWs.id;
    ctx.workspace.accessUrl = accessUrl;
    ctx.workspace.accessPort = port;

    const metadataPorts = new Map<PlannedInstance, number>();
    for (const inst of withAgents) {
      if (!inst.cloud || !inst.agents.some((a) => a.auth !== "token")) continue;
      const imds = await startImds({ cloud: inst.cloud, instanceId: instanceIds.get(inst)!, keys });
      imdses.push(imds);
      metadataPorts.set(inst, Number(new URL(imds.url).port));
    }
    const agentLog = (a: string) => `/var/log/provisioner/agent-${a}.log`;
    for (const inst of withAgents) {
      for (const a of inst.agents.filter((x) => x.count > 0)) {
        const c = createdByName.get(a.name)!;
        const mport = metadataPorts.get(inst);
        agentValues.set(a.name, {
          id: c.id,
          token: c.auth_token,
          initScript: bootstrapScript({ agent: a.name, arch: a.arch.known && a.arch.value === "arm64" ? "arm64" : "amd64", auth: a.auth, accessUrl, metadataUrl: mport ? `http://127.0.0.1:${mport}` : undefined, logFile: agentLog(a.name) }),
        });
      }
    }

    // Now that every agent's init_script is known, boots can be evaluated (Windows shows only there).
    const runnable = started.filter((a) => a.instance && !unsupported(a));
    if (runnable.length === 0) return notRun(plan, started, t0, scenario);
    const sandboxOf = new Map<PlannedInstance, InstanceSandbox>();
    const bootProblem = new Map<PlannedInstance, string>();
    const launchedAt = Date.now();
    for (const inst of withAgents) {
      const runnableHere = inst.agents.filter((a) => a.count > 0 && !unsupported(a));
      if (runnableHere.length === 0) continue;
      const boot = inst.boot;
      if (boot.kind === "unknown") {
        bootProblem.set(inst, `its ${boot.attribute} is not known before apply: ${boot.reason} is known only after apply`);
        continue;
      }
      // Terraform's plan fails on it too: the template is not runnable as written (bad input, exit 2).
      if (boot.kind === "error") throw new E2eInputError(`${inst.address}.${boot.attribute} (${boot.attr.file}:${boot.attr.pos.line}) cannot be evaluated, so terraform plan fails too: ${boot.message}`);
      if (boot.kind === "none") {
        bootProblem.set(inst, `${inst.address} has no user data or command that could start an agent`);
        continue;
      }
      const sbox = new InstanceSandbox(join(dir, "instances", inst.address.replace(/[^A-Za-z0-9_.-]/g, "_")), bridge);
      const forwards = [port, ...(metadataPorts.has(inst) ? [metadataPorts.get(inst)!] : [])];
      if (boot.kind === "user-data") {
        const ud = interpretUserData(boot.text, boot.asScript);
        ud.problems.forEach((p) => notes.push(`${inst.address}: user data: ${p.message}`));
        const defaultUser = ud.users === undefined || ud.users.includes("default");
        // The image's default user, and the workspace owner's account (OS Login and Coder images provide it).
        const accounts = [
          ...(defaultUser ? [{ name: "ubuntu", uid: 1000, home: "/home/ubuntu", shell: "/bin/bash", groups: ["sudo", "adm"] }] : []),
          { name: ctx.owner.name, uid: 1001, home: `/home/${ctx.owner.name}`, shell: "/bin/bash", groups: ["sudo"] },
        ];
        sbox.prepare({ users: accounts, devices: inst.devices, hosts: [], hostname: inst.address.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 60), osRelease: UBUNTU });
        applyCloudConfigAccounts(sbox, ud);
        for (const f of ud.files.filter((x) => !x.defer)) sbox.writeFile(f.path, f.content, f.permissions, f.append);
        for (const f of ud.files.filter((x) => x.defer)) sbox.writeFile(f.path, f.content, f.permissions, f.append);
        // cloud-init writes runcmd as one script, and each shell part as a script of its own.
        const runcmd = ud.commands.filter((c) => c.stage === "runcmd");
        if (runcmd.length) sbox.writeFile("/var/lib/cloud/instance/scripts/runcmd", `#!/bin/sh\n${runcmd.map((c) => c.script ?? c.argv!.map(shellQuote).join(" ")).join("\n")}\n`, "0755");
        for (const c of ud.commands.filter((x) => x.stage === "part")) sbox.writeFile(`/var/lib/cloud/instance/scripts/${c.file}`, c.script!, "0755");
        if (ud.ignoredKeys.length) progress(`${inst.address}: cloud-config keys only logged: ${ud.ignoredKeys.join(", ")}`);
        sandboxes.push(sbox);
        await sbox.start(cloudInitBoot(ud), { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" }, forwards, inst.devices);
      } else {
        const c = boot.containers.find((x) => x.argv.known && runnableHere.some((a) => x.argv.known && x.argv.value.join(" ").includes(agentValues.get(a.name)!.initScript.split("\n")[1]))) ?? boot.containers[0];
        if (!c) {
          bootProblem.set(inst, `${inst.address} declares no container`);
          continue;
        }
        if (!c.argv.known) {
          bootProblem.set(inst, `the command of container ${c.name} is not known before apply: ${c.argv.reason}`);
          continue;
        }
        const unknownEnv = Object.entries(c.env).filter(([, v]) => !v.known);
        unknownEnv.forEach(([k, v]) => notes.push(`${inst.address}: env ${k} of container ${c.name} is not known before apply (${describeMaybe(v)})`));
        const user = c.user ?? "root";
        const users = [{ name: "coder", uid: 1000, home: "/home/coder", shell: "/bin/bash", groups: ["sudo"] }];
        const runAs = users.find((u) => u.name === user || String(u.uid) === user) ?? (user === "root" || user === "0" ? undefined : { name: user, uid: Number(user) || 1001, home: `/home/${user}`, shell: "/bin/sh", groups: [] });
        if (runAs && !users.includes(runAs)) users.push(runAs);
        sbox.prepare({ users, devices: [], hosts: Object.keys(c.hosts), hostname: c.name, osRelease: UBUNTU });
        const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOSTNAME: c.name, HOME: runAs?.home ?? "/root" };
        for (const [k, v] of Object.entries(c.env)) if (v.known) env[k] = v.value;
        if (runAs) Object.assign(env, { USER: runAs.name });
        const boot2 = ["#!/bin/sh", `# provisioner e2e: container ${c.name} (${c.image ?? "image"})`, `cd ${shellQuote(c.workingDir ?? runAs?.home ?? "/")} 2>/dev/null || cd /`, `exec /usr/bin/env -i ${Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${c.argv.value.map(shellQuote).join(" ")}`, ""].join("\n");
        sandboxes.push(sbox);
        await sbox.start(boot2, { PATH: env.PATH }, forwards, []);
      }
      sandboxOf.set(inst, sbox);
      progress(`${inst.address}: booted (${inst.kind}, agents ${runnableHere.map((a) => a.name).join(", ")})`);
    }

    const expected = plan.agents.filter((a) => a.count > 0 && a.instance).map((a) => ({ a, inst: a.instance! }));
    const logOf = (a: PlannedAgent) => {
      const s = sandboxOf.get(a.instance!);
      return s ? s.hostPath(agentLog(a.name)) : undefined;
    };
    const refused = (a: PlannedAgent) => readJsonLines(logOf(a) ?? "").find((l) => l.msg === "authentication refused");
    // The agent CLI printed a fatal error and exited (no token, a bad URL, …).
    const fatal = (a: PlannedAgent) => {
      const f = logOf(a);
      return f && existsSync(f) ? readFileSync(f, "utf8").split("\n").find((l) => l.startsWith("provisioner: ")) : undefined;
    };
    const states = async () => {
      const ws = await admin.workspace(createdWs.id);
      return new Map(ws.latest_build.resources.flatMap((r) => r.agents.map((x) => [x.name, x.lifecycle_state] as const)));
    };
    const deadline = Date.now() + opts.timeoutMs;
    const readyAt = new Map<string, number>();
    const active = expected.filter(({ a, inst }) => !unsupported(a) && sandboxOf.has(inst));
    let quietSince: number | undefined;
    while (!opts.signal?.aborted) {
      const s = await states();
      for (const { a } of active) if (s.get(a.name) === "ready" && !readyAt.has(a.name)) readyAt.set(a.name, Date.now() - launchedAt);
      // start_error and start_timeout are final: a startup script failed or ran past its timeout.
      const pending = active.filter(({ a }) => !readyAt.has(a.name) && !refused(a) && !fatal(a) && !FINAL_NOT_READY.has(s.get(a.name) ?? ""));
      if (pending.length === 0 || Date.now() > deadline) break;
      // Agents whose init script never ran: the boot finished long ago and nothing wrote their log.
      const neverStarted = pending.filter(({ a }) => !existsSync(logOf(a)!));
      const bootsDone = pending.every(({ inst }) => existsSync(sandboxOf.get(inst)!.hostPath("/var/log/provisioner/boot.log")) && /scripts-user done|exited/.test(readFileSync(sandboxOf.get(inst)!.hostPath("/var/log/provisioner/boot.log"), "utf8")));
      if (neverStarted.length === pending.length && bootsDone) quietSince ??= Date.now();
      else quietSince = undefined;
      if (quietSince && Date.now() - quietSince > 4000) break;
      await new Promise((r) => setTimeout(r, 150));
    }

    const finalStates = await states();
    const timings = await admin.buildTimings(createdWs.latest_build.id).catch(() => undefined);
    const appStatuses = await admin.appStatuses(createdWs.id).catch(() => []);
    const scriptsOf = (name: string) =>
      (timings?.agent_script_timings ?? [])
        .filter((t) => t.workspace_agent_name === name)
        .map((t) => ({ display_name: t.display_name, status: t.status, exit_code: t.exit_code, duration_ms: Date.parse(t.ended_at) - Date.parse(t.started_at) }));
    const appsOf = (name: string) => appStatuses.filter((x) => x.agent_name === name).map((x) => ({ slug: x.app.slug, state: x.app.statuses[0]?.state ?? null, message: x.app.statuses[0]?.message ?? null }));
    for (const { a, inst } of expected) {
      const base = { instance: inst.address, kind: inst.kind, instance_id: instanceIds.get(inst) ?? null, agent: a.name, auth: a.auth, authenticated_as: null, lifecycle: finalStates.get(a.name) ?? "unknown", time_to_ready_ms: null, http_status: null, server_message: null, reinits: null, log_file: null, scripts: scriptsOf(a.name), apps: appsOf(a.name) };
      const why = unsupported(a);
      if (why) {
        results.push({ ...base, result: "unsupported", reason: why });
        continue;
      }
      const sbox = sandboxOf.get(inst);
      if (!sbox) {
        const reason = bootProblem.get(inst) ?? "its instance did not boot";
        results.push({ ...base, result: "never_started", reason });
        failures.push(`agent ${a.name} never started: ${reason}`);
        continue;
      }
      const logFile = logOf(a)!;
      const lines = readJsonLines(logFile);
      const manifest = lines.filter((l) => l.msg === "manifest").pop();
      const refusal = refused(a);
      let result: AgentOutcome = "ok";
      let reason: string | null = null;
      if (!existsSync(logFile)) {
        result = "never_started";
        reason = neverStartedReason(sbox, a, inst);
      } else if (refusal) {
        result = "refused";
        reason = `authentication refused with HTTP ${refusal.status}: ${String(refusal.message)}${refusal.status === 409 || refusal.status === 404 ? whereStarted(inst, a, opts.dir) : ""}`;
      } else if (fatal(a) && !readyAt.has(a.name)) {
        result = "not_ready";
        reason = `the agent exited: ${fatal(a)!.slice("provisioner: ".length)}${tail(logFile, 2).length ? ` (${tail(logFile, 2).join(" | ")})` : ""}`;
      } else if (manifest && manifest.agent_name !== a.name) {
        result = "wrong_agent";
        reason = `it authenticated as its sibling "${String(manifest.agent_name)}"${whereStarted(inst, a, opts.dir) || " (check its CODER_AGENT_NAME)"}`;
      } else if (!readyAt.has(a.name) && FINAL_NOT_READY.has(finalStates.get(a.name) ?? "")) {
        result = "not_ready";
        const failing = base.scripts.filter((x) => x.status !== "ok");
        reason = `its lifecycle ended ${finalStates.get(a.name)}${failing.length ? `: ${failing.map((x) => `script "${x.display_name}" ${x.status === "timed_out" ? "timed out" : x.status === "exit_failure" ? `exited ${x.exit_code}` : x.status}`).join(", ")}` : ""}`;
      } else if (!readyAt.has(a.name)) {
        result = "not_ready";
        reason = `it did not reach ready within ${opts.timeoutMs / 1000}s (lifecycle ${finalStates.get(a.name) ?? "unknown"})${tail(logFile, 3).length ? `; its log ends: ${tail(logFile, 3).join(" | ")}` : ""}`;
      }
      results.push({
        ...base,
        result,
        reason,
        authenticated_as: (manifest?.agent_name as string | undefined) ?? null,
        time_to_ready_ms: readyAt.get(a.name) ?? null,
        http_status: refusal ? Number(refusal.status) : null,
        server_message: refusal ? String(refusal.message) : null,
        log_file: logFile,
      });
      if (result !== "ok") failures.push(`agent ${a.name} ${result === "never_started" ? "never started" : result === "refused" ? "was refused" : result === "wrong_agent" ? "authenticated as another agent" : "was not ready"}: ${reason}`);
    }
    for (const a of started.filter((x) => !x.instance)) {
      const row = notRunRow(plan, a);
      results.push(row);
      if (row.result !== "unsupported") failures.push(`agent ${a.name} never started: ${row.reason}`);
    }
    const exercised = results.filter((r) => r.result !== "unsupported");
    if (exercised.length === 0) failures.push("no agent was exercised");
    if (failures.length === 0) progress(exercised.length === 1 ? "the agent is ready as itself" : `all ${exercised.length} agents ready as themselves`);

    if (scenario === "prebuild" && failures.length === 0) {
      await claimAndCheck(admin, coord, createdWs.id, createdWs.agents, exercised, results, failures, opts, progress, (name) => {
        const a = plan.agents.find((x) => x.name === name)!;
        return logOf(a)!;
      });
    }
    let logs: Record<string, string> | undefined;
    if (opts.logs) {
      logs = {};
      for (const a of createdWs.agents) logs[a.name] = await admin.agentLogsText(a.id).catch(() => "");
    }
    return { scenario, ok: failures.length === 0, failures, agents: results, duration_ms: Date.now() - t0, logs };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await Promise.all(sandboxes.map((s) => s.stop()));
    await bridge.close();
    await Promise.all(imdses.map((i) => i.close()));
    await coord?.close();
  }
}

/** Why an agent's init script never ran: the boot's last lines, units that failed, device waits. */
/**
 * The line that started an agent under the wrong name, read with the machine's rules from the boot
 * that ran (its bootstrap's first comment names the agent): " — started by `…` at main.tf:42: …; fix: …".
 */
function whereStarted(inst: PlannedInstance, a: PlannedAgent, dir: string): string {
  const names = inst.agents.map((x) => x.name);
  const starts = analyzeBoot(inst.boot, names, (n) => `# coder_agent.${n}.init_script (provisioner e2e`).starts.get(a.name) ?? [];
  const wrong = starts.find((st) => st.name !== a.name) ?? starts[0];
  if (!wrong) return "";
  const at = startLocation(inst, wrong, dir);
  return ` — started by \`${wrong.command}\` at ${at.file}:${at.line} (${wrong.origin})${droppedNote(wrong, "CODER_AGENT_NAME")}; fix: ${nameFix(a.name, wrong)}`;
}

function neverStartedReason(sbox: InstanceSandbox, a: PlannedAgent, inst: PlannedInstance): string {
  const parts: string[] = [`nothing in the boot of ${inst.address} ran its init_script`];
  const boot = tail(sbox.hostPath("/var/log/provisioner/boot.log"), 6);
  if (boot.length) parts.push(`the boot printed: ${boot.join(" | ")}`);
  const shims = existsSync(sbox.hostPath("/var/log/provisioner/shims.log")) ? readFileSync(sbox.hostPath("/var/log/provisioner/shims.log"), "utf8").split("\n").filter((l) => /does not exist|missing|no network|not found/.test(l)) : [];
  if (shims.length) parts.push(shims.map((l) => l.replace(/^\S+ /, "")).slice(-3).join(" | "));
  if (inst.boot.kind === "user-data") {
    const waits = [...inst.boot.text.matchAll(/(?:-e|-b|test\s+-[eb])\s+"?(\/dev\/[^\s"';)\]]+)/g)].map((m) => m[1]).filter((d) => !inst.devices.includes(d));
    if (waits.length) parts.push(`it waits for device ${[...new Set(waits)].join(", ")}, which the template does not attach to ${inst.address}`);
  }
  void a;
  return parts.join("; ");
}

function applyCloudConfigAccounts(sbox: InstanceSandbox, ud: UserDataPlan): void {
  if (!ud.accounts) return;
  for (const g of ud.accounts.groups) sbox.accounts().addGroup(g);
  for (const u of ud.accounts.users) sbox.accounts().addUser(u.name, { home: u.home, shell: u.shell, groups: u.groups, createHome: !u.noCreateHome, system: u.system });
}

async function claimAndCheck(
  admin: AdminClient,
  coord: RunningCoordinator,
  workspaceId: string,
  createdAgents: CreatedAgent[],
  exercised: AgentResult[],
  results: AgentResult[],
  failures: string[],
  opts: E2eOptions,
  progress: (l: string) => void,
  logFile: (agent: string) => string,
): Promise<void> {
  progress("claiming the prebuild for e2e-user");
  const claimed = await admin.claim(workspaceId, { owner: "e2e-user" });
  const deadline = Date.now() + opts.timeoutMs;
  const reinitsOf = (name: string) => readJsonLines(logFile(name)).filter((l) => l.msg === "reinitializing").length;
  const readyCount = (name: string) => readJsonLines(logFile(name)).filter((l) => l.msg === "agent ready").length;
  const states = async () => {
    const ws = await admin.workspace(workspaceId);
    return new Map(ws.latest_build.resources.flatMap((r) => r.agents.map((x) => [x.name, x.lifecycle_state] as const)));
  };
  for (;;) {
    const s = await states();
    if (exercised.every((r) => reinitsOf(r.agent) >= 1 && readyCount(r.agent) >= 2 && s.get(r.agent) === "ready") || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const tokens = new Map(createdAgents.map((a) => [a.name, a.auth_token]));
  const second = await Promise.all(exercised.map((r) => probeNoReinit(coord.url, tokens.get(r.agent)!, 1000)));
  const s = await states();
  exercised.forEach((r, i) => {
    const result = results.find((x) => x.agent === r.agent)!;
    result.reinits = reinitsOf(r.agent);
    result.lifecycle = s.get(r.agent) ?? "unknown";
    if (result.reinits !== 1) failures.push(`agent ${r.agent} re-initialised ${result.reinits} times after the claim (expected exactly once)`);
    if (readyCount(r.agent) < 2 || result.lifecycle !== "ready") failures.push(`agent ${r.agent} is not ready again after the claim (lifecycle ${result.lifecycle})`);
    if (!second[i]) failures.push(`agent ${r.agent} got a second reinit event after re-opening its stream`);
  });
  const owners = exercised.map((r) => readJsonLines(logFile(r.agent)).filter((l) => l.msg === "manifest").pop()?.owner);
  if (owners.some((o) => o !== claimed.workspace.owner_name)) failures.push(`after the claim the agents serve owner(s) ${[...new Set(owners)].join(", ")}, not ${claimed.workspace.owner_name}`);
  if (failures.length === 0) progress("every agent re-initialised exactly once and is ready again; no second reinit");
}

/** Opens a reinit stream with the agent's token; true when no event arrives within `ms`. */
async function probeNoReinit(baseUrl: string, token: string, ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const res = await fetch(new URL("/api/v2/workspaceagents/me/reinit?wait=true", baseUrl), { headers: { "Coder-Session-Token": token }, signal: controller.signal });
    if (res.status !== 200 || !res.body) return res.status === 409;
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (/^event: data$/m.test(text)) return false;
    }
    return true;
  } catch {
    return true;
  } finally {
    clearTimeout(timer);
  }
}
