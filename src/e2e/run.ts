/**
 * `provisioner e2e`: plans the template for a workspace, starts an in-process coordinator and a fake
 * metadata service per instance, then boots every instance in its own sandbox as the cloud or the
 * container runtime would, and checks every agent: authenticated as itself, ready; for prebuilds,
 * what the claim changes and one reinit per agent; for the lifecycle, every build of a workspace's life.
 */
import { mkdtempSync, existsSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentityKeys, type IdentityKeys } from "../identity/index.js";
import { agentConfig, type AgentConfig } from "../plan/agent-config.js";
import { workspaceContext, type WorkspaceContext } from "../plan/context.js";
import { type ChangeEffect, claimFindings, diffPlans, prebuildPlans } from "../plan/diff.js";
import { evaluationProblems, type Plan, type PlannedAgent, type PlannedInstance, planTemplate, undeclaredParameters } from "../plan/plan.js";
import { prebuildPresets } from "../plan/presets.js";
import type { AdminResourceSpec, CreatedAgent } from "../sdk/admin.js";
import type { ModuleConfig } from "../template/config.js";
import { loadModule } from "../template/load.js";
import { lifecycleRun } from "./lifecycle.js";
import { InstanceSandbox, NetworkBridge, sandboxUnavailable } from "./sandbox.js";
import { type AgentExpectation, instanceIdFor, type LiveInstance, notRunRow, readAgentLog, Session, type StartsOn, unsupported } from "./session.js";

export type Scenario = "start" | "prebuild" | "lifecycle";

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

/** One build of the lifecycle scenario: what Terraform did to each instance, and what was checked. */
export interface LifecycleStep {
  build: number;
  /** start, stop, restart (start after a stop), update (start of the new template version). */
  step: "start" | "stop" | "restart" | "update";
  transition: "start" | "stop";
  /** Per instance: created, replaced (and why), updated in place (restarted or not), stopped, kept running, destroyed. */
  instances: { instance: string; action: string; detail: string | null }[];
  /** Agents of this build (start steps). */
  agents: AgentResult[];
  /** What was probed: old tokens refused, instance identities, scripts. */
  checks: string[];
  failures: string[];
}

/** An argument of a compute resource that differs between the prebuild and its claim. */
export interface ClaimChange {
  instance: string;
  argument: string;
  effect: ChangeEffect;
  /** The two values in a few words. */
  description: string;
  /** The fix (for replacements: the minimal lifecycle { ignore_changes }). */
  hint: string;
}

export interface ScenarioResult {
  scenario: Scenario;
  ok: boolean;
  failures: string[];
  /** Findings that do not fail the scenario (a replacement on claim when the template keeps no prebuilds, …). */
  warnings: string[];
  agents: AgentResult[];
  duration_ms: number;
  /** Agent logs as `GET …/logs?format=text` prints them, by agent (with --logs). */
  logs?: Record<string, string>;
  /** prebuild: the compute arguments that change on claim. */
  claim_changes?: ClaimChange[];
  /** lifecycle: each build. */
  steps?: LifecycleStep[];
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
  /** The template's next version, for the lifecycle's update step (default: this template, each agent's init_script changed). */
  updateDir?: string;
  /** Give every agent a bootstrap holding ' " $ ` %{ (a template must not depend on their absence). */
  fuzzBootstrap?: boolean;
}

/** A bad input that stops the run before anything starts (exit 2). */
export class E2eInputError extends Error {}

export async function runE2e(opts: E2eOptions): Promise<E2eReport> {
  const config = loadModule(opts.dir);
  const update = opts.updateDir ? loadModule(opts.updateDir) : undefined;
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
      const r = await scenarioRun(config, s, opts, join(runDir, s), notes, keys, update);
      if ("nothing" in r) {
        nothing = r.nothing;
        scenarios.push({ scenario: s, ok: false, failures: [], warnings: [], agents: r.agents, duration_ms: 0 });
        break;
      }
      scenarios.push(r);
      if (opts.signal?.aborted) break;
    }
  } finally {
    if (!opts.keep) {
      for (const d of existsSync(runDir) ? readdirSync(runDir) : []) {
        for (const inst of existsSync(join(runDir, d, "instances")) ? readdirSync(join(runDir, d, "instances")) : []) new InstanceSandbox(join(runDir, d, "instances", inst), new NetworkBridge(join(runDir, d, "net"))).remove();
      }
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  const ok = nothing === null && scenarios.length > 0 && scenarios.every((s) => s.ok);
  return { template: opts.dir, ok, nothing_to_test: nothing, scenarios, notes: [...new Set(notes)], sandbox: opts.keep ? runDir : null };
}

/** A scenario where no agent can run: a failure when an agent is tied to nothing, else nothing to test. */
export function notRun(started: PlannedAgent[], t0: number, scenario: Scenario, startsOn?: StartsOn): ScenarioResult | NothingToTest {
  const agents = started.map((a) => notRunRow(a, startsOn));
  const failures = agents.filter((r) => r.result !== "unsupported").map((r) => `agent ${r.agent} never started: ${r.reason}`);
  if (failures.length) return { scenario, ok: false, failures, warnings: [], agents, duration_ms: Date.now() - t0 };
  const nothing = `nothing to test: ${started.length === 0 ? "the template starts no agent" : agents.map((r) => `agent ${r.agent}: ${r.reason}`).join("; ")}`;
  return { nothing, agents };
}

export interface NothingToTest {
  nothing: string;
  agents: AgentResult[];
}

/** Why e2e refuses an instance whose boot payload does not evaluate (terraform plan fails on it too), or undefined. */
function bootError(inst: PlannedInstance): string | undefined {
  const b = inst.boot;
  if (b.kind !== "error") return undefined;
  const at = b.attr ?? inst.resource;
  return `${inst.address}.${b.attribute} (${at.file}:${at.pos.line}) cannot be evaluated, so terraform plan fails too: ${b.message}`;
}

/** Notes about a plan, and the inputs e2e refuses (exit 2). */
export function checkPlan(plan: Plan, opts: E2eOptions, notes: string[]): void {
  const undeclared = undeclaredParameters(plan, opts.parameters ?? {});
  if (undeclared) throw new E2eInputError(`--parameter: ${undeclared}`);
  // Terraform refuses to plan a template with an evaluation error: no workspace, nothing to boot.
  const planErrors = evaluationProblems(plan);
  if (planErrors.length) {
    // Name the instance whose boot it breaks when there is one (that is what the user is testing).
    const boots = plan.instances.flatMap((i) => bootError(i) ?? []);
    const rest = planErrors.filter((p) => !boots.some((b) => b.endsWith(p.message))).map((p) => `${p.address ?? "the template"} (${p.file}:${p.line}) cannot be evaluated, so terraform plan fails too: ${p.message}`);
    throw new E2eInputError([...boots, ...rest].join("; "));
  }
  for (const m of plan.unfollowedModules) notes.push(`${m.address} (${m.source}) is not followed: only local modules are; what it creates is not exercised`);
  for (const a of plan.agents.filter((x) => x.count > 1)) throw new E2eInputError(`coder_agent.${a.name} has ${a.count} instances: Coder rejects several agents with one name (declare one coder_agent resource per agent)`);
}

/** Each started agent's scripts, apps and env, with what could not be evaluated noted once. */
export function agentConfigs(plan: Plan, notes: string[]): Map<string, AgentConfig> {
  const configs = new Map(plan.agents.filter((a) => a.count > 0).map((a) => [a.name, agentConfig(plan, a.name)]));
  for (const [name, c] of configs) {
    c.skipped.forEach((s) => notes.push(`agent ${name}: ${s}`));
    if (c.devcontainers.length) notes.push(`agent ${name}: dev containers (${c.devcontainers.map((d) => d.name).join(", ")}) need a Docker engine; e2e does not start them`);
  }
  return configs;
}

/** The admin API's resources of a build: every instance running agents, with its agents as the template declares them. */
export function buildResources(instances: { inst: PlannedInstance; instanceId: string | null }[], configs: Map<string, AgentConfig>): AdminResourceSpec[] {
  return instances.map(({ inst, instanceId }) => ({
    type: inst.kind,
    name: inst.address.slice(inst.kind.length + 1),
    instance_id: instanceId ?? undefined,
    agents: inst.agents
      .filter((a) => a.count > 0)
      .map((a) => {
        const c = configs.get(a.name)!;
        return {
          name: a.name,
          auth: a.auth as AdminResourceSpec["agents"][number]["auth"],
          arch: a.arch.known && a.arch.value === "arm64" ? "arm64" : "amd64",
          os: "linux",
          env: c.env,
          startup_script: c.startup_script,
          startup_script_behavior: c.startup_script_behavior,
          shutdown_script: c.shutdown_script,
          apps: c.apps,
          scripts: c.scripts,
          devcontainers: [],
        } as AdminResourceSpec["agents"][number];
      }),
  }));
}

/** The plan of a build, with agent values the session fills in once the coordinator made the agents. */
export function planBuild(config: ModuleConfig, options: Parameters<typeof workspaceContext>[0]): { plan: Plan; ctx: WorkspaceContext; values: Map<string, { id: string; token: string; initScript: string }> } {
  const values = new Map<string, { id: string; token: string; initScript: string }>();
  const ctx = workspaceContext({ ...options, agent: (name) => values.get(name) ?? { id: "", token: "", initScript: "" } });
  return { plan: planTemplate(config, ctx), ctx, values };
}

async function scenarioRun(config: ModuleConfig, scenario: Scenario, opts: E2eOptions, dir: string, notes: string[], identityKeys: Promise<IdentityKeys>, update: ModuleConfig | undefined): Promise<ScenarioResult | NothingToTest> {
  const t0 = Date.now();
  const progress = (l: string) => opts.progress(`[${scenario}] ${l}`);
  if (scenario === "lifecycle") return lifecycleRun(config, update, opts, dir, notes, identityKeys, progress);
  const contextOptions = { prebuild: scenario === "prebuild" ? ("prebuild" as const) : ("none" as const), parameters: opts.parameters, owner: scenario === "prebuild" ? undefined : { name: "e2e-user" } };
  // Checked on a plan of its own, as Terraform's plan sees the template: nothing is fixed before the agents exist.
  const checked = planTemplate(config, workspaceContext(contextOptions));
  checkPlan(checked, opts, notes);
  for (const a of checked.agents.filter((x) => x.count === 0)) notes.push(`agent ${a.name} has count 0 for a started workspace: not run`);
  // Agents whose os is not Linux, or that are tied to nothing: known without evaluating any boot.
  const startedByConfig = checked.agents.filter((a) => a.count > 0);
  if (!startedByConfig.some((a) => a.instance && !(a.os.known && a.os.value !== "linux"))) return notRun(startedByConfig, t0, scenario);

  const session = new Session(dir, opts, await identityKeys, notes, progress);
  const onAbort = () => void Promise.all(session.sandboxes.map((s) => s.stop()));
  opts.signal?.addEventListener("abort", onAbort);
  try {
    await session.open();
    const { admin } = session;
    // The plan the instances boot from: apply's values, the real access URL (coderd's, as configured:
    // no trailing slash), the agents' real init scripts once the coordinator has made them.
    const { plan, ctx, values } = planBuild(config, { ...contextOptions, phase: "apply", accessUrl: session.accessUrl.replace(/\/$/, "") });
    const started = plan.agents.filter((a) => a.count > 0);
    session.tokenOf = (name) => values.get(name)?.token ?? "";
    const lives = new Map<PlannedInstance, LiveInstance>(
      plan.instances.filter((i) => i.agents.some((a) => a.count > 0)).map((inst) => [inst, { address: inst.address, kind: inst.kind, cloud: inst.cloud, instanceId: inst.cloud ? instanceIdFor(inst.cloud) : null, payload: inst, generation: 0 }]),
    );
    const configs = agentConfigs(plan, notes);
    const created = await admin.createWorkspace({
      name: "e2e",
      ...(scenario === "prebuild" ? { prebuild: true } : { owner: "e2e-user" }),
      resources: buildResources([...lives.values()].map((l) => ({ inst: l.payload, instanceId: l.instanceId })), configs),
    });
    ctx.workspace.id = created.id;
    const byName = new Map(created.agents.map((a) => [a.name, a]));
    for (const live of lives.values()) {
      await session.metadataFor(live, live.payload.agents);
      for (const a of live.payload.agents.filter((x) => x.count > 0)) values.set(a.name, { id: byName.get(a.name)!.id, token: byName.get(a.name)!.auth_token, initScript: session.bootstrap(a, live) });
    }
    // Now that every agent's init_script is known, boots can be evaluated (Windows shows only there).
    if (!started.some((a) => a.instance && !unsupported(a, session.startsOn))) return notRun(started, t0, scenario, session.startsOn);
    const launchedAt = Date.now();
    for (const live of lives.values()) {
      // Terraform's plan fails on it too: the template is not runnable as written (bad input, exit 2).
      const error = bootError(live.payload);
      if (error && live.payload.agents.some((a) => a.count > 0 && !unsupported(a, session.startsOn))) throw new E2eInputError(error);
      live.problem = await session.boot(live, "fresh", ctx.owner.name);
    }
    const expected: AgentExpectation[] = started.filter((a) => a.instance).map((a) => ({ agent: a, live: lives.get(a.instance!), logFrom: 0 }));
    const { results, failures } = await session.awaitAgents({ number: 1, id: created.latest_build.id, workspaceId: created.id, agents: created.agents }, expected, launchedAt, (e) => e.live?.problem);
    for (const a of started.filter((x) => !x.instance)) {
      const row = notRunRow(a, session.startsOn);
      results.push(row);
      if (row.result !== "unsupported") failures.push(`agent ${a.name} never started: ${row.reason}`);
    }
    const exercised = results.filter((r) => r.result !== "unsupported");
    if (exercised.length === 0) failures.push("no agent was exercised");
    if (failures.length === 0) progress(exercised.length === 1 ? "the agent is ready as itself" : `all ${exercised.length} agents ready as themselves`);

    const warnings: string[] = [];
    let claimChanges: ClaimChange[] | undefined;
    if (scenario === "prebuild") {
      claimChanges = claimDiff(config, plan, opts, failures, warnings, progress);
      if (failures.some((f) => f.startsWith("agent "))) failures.push("the claim was not exercised: not every agent was ready before it");
      else await claimAndCheck(session, created.id, created.agents, exercised, results, failures, (name) => session.logOf(expected.find((e) => e.agent.name === name)!)!);
    }
    let logs: Record<string, string> | undefined;
    if (opts.logs) {
      logs = {};
      for (const a of created.agents) logs[a.name] = await admin.agentLogsText(a.id).catch(() => "");
    }
    return { scenario, ok: failures.length === 0, failures, warnings, agents: results, duration_ms: Date.now() - t0, logs, claim_changes: claimChanges };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await session.close();
  }
}

/**
 * The template planned as the unclaimed prebuild and as its claim: every compute argument that
 * differs. A replacement fails the scenario when the template keeps prebuilt workspaces (a preset with
 * `prebuilds`); otherwise it is a warning (nothing would be prebuilt).
 */
function claimDiff(config: ModuleConfig, plan: Plan, opts: E2eOptions, failures: string[], warnings: string[], progress: (l: string) => void): ClaimChange[] {
  const { prebuild, claim } = prebuildPlans(config, { parameters: opts.parameters, owner: { name: "e2e-user" } });
  const findings = claimFindings(diffPlans(prebuild, claim));
  const declared = prebuildPresets(plan).length > 0;
  for (const f of findings) {
    const text = `${f.message} (${f.file}:${f.line}); fix: ${f.hint}`;
    if (f.severity === "error" && declared) failures.push(text);
    else warnings.push(f.severity === "error" ? `${text} — a failure once a preset keeps prebuilt workspaces (this template declares none)` : text);
  }
  const agents = plan.agents.filter((a) => a.count > 0);
  if (declared && agents.length > 1) warnings.push(`a preset keeps prebuilt workspaces of a template with ${agents.length} agents (${agents.map((a) => a.name).join(", ")}): Coder does not support prebuilds for multi-agent templates yet`);
  for (const inst of plan.instances.filter((i) => i.resource.ignoreChanges === "all" && i.agents.some((a) => a.count > 0 && a.auth === "token"))) {
    warnings.push(`${inst.address} has lifecycle { ignore_changes = all } and runs token agents: a new agent token never reaches it (list only the arguments that must not change)`);
  }
  const replaced = findings.filter((f) => f.change?.effect === "replace").length;
  progress(replaced ? `the claim replaces compute (${replaced} argument${replaced === 1 ? "" : "s"} force replacement)` : "the claim replaces no compute");
  return findings.filter((f) => f.change).map((f) => ({ ...f.change!, hint: f.hint }));
}

async function claimAndCheck(session: Session, workspaceId: string, createdAgents: CreatedAgent[], exercised: AgentResult[], results: AgentResult[], failures: string[], logFile: (agent: string) => string): Promise<void> {
  const { admin, opts, progress } = session;
  progress("every agent was ready before the claim; claiming the prebuild for e2e-user");
  const claimed = await admin.claim(workspaceId, { owner: "e2e-user" });
  const deadline = Date.now() + opts.timeoutMs;
  // Per agent, from one read of its log: reinits, and the lifecycle state it reported last after the
  // first reinit (starting, ready, start_error, …).
  const afterClaim = (name: string) => {
    const lines = readAgentLog(logFile(name));
    const reinit = lines.findIndex((l) => l.msg === "reinitializing");
    return { reinits: lines.filter((l) => l.msg === "reinitializing").length, settledAs: reinit < 0 ? undefined : lines.slice(reinit).filter((l) => l.msg === "lifecycle").pop()?.state };
  };
  const SETTLED = new Set(["ready", "start_error", "start_timeout"]);
  const states = async () => {
    const ws = await admin.workspace(workspaceId);
    return new Map(ws.latest_build.resources.flatMap((r) => r.agents.map((x) => [x.name, { state: x.lifecycle_state, id: x.id }] as const)));
  };
  for (;;) {
    const s = await states();
    const settled = exercised.every((r) => {
      const a = afterClaim(r.agent);
      return a.reinits >= 1 && SETTLED.has(String(a.settledAs)) && s.get(r.agent)?.state === a.settledAs;
    });
    if (settled || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const tokens = new Map(createdAgents.map((a) => [a.name, a.auth_token]));
  const second = await Promise.all(exercised.map((r) => probeNoReinit(session.coord.url, tokens.get(r.agent)!, 1000)));
  const s = await states();
  for (const [i, r] of exercised.entries()) {
    const result = results.find((x) => x.agent === r.agent)!;
    const a = afterClaim(r.agent);
    result.reinits = a.reinits;
    result.lifecycle = s.get(r.agent)?.state ?? "unknown";
    if (result.reinits !== 1) failures.push(`agent ${r.agent} re-initialised ${result.reinits} times after the claim (expected exactly once)`);
    // A start script that failed for want of the network before the claim fails again after it.
    const explained = result.lifecycle === "start_error" ? await session.startErrorExplained(claimed.build.id, s.get(r.agent)!.id, r.agent) : undefined;
    if (explained) session.notes.push(`agent ${r.agent} after the claim: ${explained}; the agent itself re-initialised and authenticated`);
    else if (a.settledAs !== "ready" || result.lifecycle !== "ready") failures.push(`agent ${r.agent} is not ready again after the claim (lifecycle ${result.lifecycle})`);
    if (!second[i]) failures.push(`agent ${r.agent} got a second reinit event after re-opening its stream`);
  }
  const owners = exercised.map((r) => readAgentLog(logFile(r.agent)).filter((l) => l.msg === "manifest").pop()?.owner);
  if (owners.some((o) => o !== claimed.workspace.owner_name)) failures.push(`after the claim the agents serve owner(s) ${[...new Set(owners)].join(", ")}, not ${claimed.workspace.owner_name}`);
  if (failures.length === 0) progress("every agent re-initialised exactly once and is settled again; no second reinit");
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
