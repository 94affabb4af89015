/**
 * The lifecycle scenario: one workspace through start → stop → start → template update (stop, then
 * start of the new version, as `coder update` does). Every build is planned; what Terraform does to
 * each instance follows from its state and the providers' rules (src/plan/diff.ts): created,
 * replaced, updated in place (restarting the machine when the provider must), stopped by what the
 * template says, or left running. Instances keep their disk across a stop and boot again as a
 * machine does (src/e2e/session.ts: cloud-init's once-per-instance rules, enabled units). At every
 * build: only that build's agents authenticate, tokens of earlier builds are refused, no agent gets
 * 409, every agent is ready, start scripts run again and stop scripts ran at the stop.
 */
import { randomUUID } from "node:crypto";
import { fetchIdentity } from "../agent/metadata.js";
import type { IdentityKeys } from "../identity/index.js";
import type { AgentConfig } from "../plan/agent-config.js";
import { actionOf, type ArgumentChange, type ArgumentValue, describeChange, diffArguments, instanceArguments, pathSegments, powerOf } from "../plan/diff.js";
import { IDENTITY_AUTH_CLOUD, type Plan, type PlannedInstance } from "../plan/plan.js";
import { AUTH_ROUTES, type AgentAuthType } from "../sdk/auth.js";
import type { CreatedAgent } from "../sdk/admin.js";
import type { ModuleConfig } from "../template/config.js";
import { agentConfigs, buildResources, checkPlan, type E2eOptions, type LifecycleStep, notRun, type NothingToTest, planBuild, type ScenarioResult } from "./run.js";
import type { InstanceSandbox } from "./sandbox.js";
import { type AgentExpectation, agentLogFile, fileSize, instanceIdFor, type LiveInstance, readAgentLog, Session } from "./session.js";

const STEPS: { step: LifecycleStep["step"]; transition: "start" | "stop"; version: 1 | 2 }[] = [
  { step: "start", transition: "start", version: 1 },
  { step: "stop", transition: "stop", version: 1 },
  { step: "restart", transition: "start", version: 1 },
  // `coder update` of a running workspace stops it with the old version, then starts the new one.
  { step: "stop", transition: "stop", version: 1 },
  { step: "update", transition: "start", version: 2 },
];

/** How long a stopping machine gives its processes (agents run their stop scripts) before it is off. */
const SHUTDOWN_GRACE_MS = 15_000;

/** An instance slot: the address's instance across builds (absent from Terraform's state between a destroy and a create). */
interface Slot extends LiveInstance {
  exists: boolean;
  running: boolean;
  /** Its arguments as Terraform's state has them. */
  state: Map<string, ArgumentValue>;
  /** The build whose agents last started on it (an agent process of that build may still run there). */
  agentsOf?: number;
  /** The build that booted its disk first (cloud-init's once-per-instance files and runcmd are that build's). */
  bornIn?: number;
  /** Boot arguments whose changes lifecycle.ignore_changes keeps out. */
  frozen: string[];
}

/** Whether a change touches what the instance boots with (its user data, startup script or container). */
function bootChange(inst: PlannedInstance, c: ArgumentChange): boolean {
  if (inst.family === "container") return true;
  const b = inst.boot;
  if (b.kind === "none") return false;
  const top = b.kind === "user-data" || b.kind === "unknown" || b.kind === "error" ? b.attribute.split(".")[0] : undefined;
  return top === undefined || pathSegments(c.path)[0] === top;
}

const list = (changes: ArgumentChange[]) => changes.map((c) => `${c.path}${c.ignored ? " (ignored by lifecycle.ignore_changes)" : ""}: ${describeChange(c)}`).join("; ");

export async function lifecycleRun(config: ModuleConfig, update: ModuleConfig | undefined, opts: E2eOptions, dir: string, notes: string[], identityKeys: Promise<IdentityKeys>, progress: (l: string) => void): Promise<ScenarioResult | NothingToTest> {
  const t0 = Date.now();
  const owner = { name: "e2e-user" };
  const first = planBuild(config, { parameters: opts.parameters, owner });
  checkPlan(first.plan, opts, notes);
  if (update) checkPlan(planBuild(update, { parameters: opts.parameters, owner }).plan, opts, notes);
  const started = first.plan.agents.filter((a) => a.count > 0);
  if (!started.some((a) => a.instance && !(a.os.known && a.os.value !== "linux"))) return notRun(started, t0, "lifecycle");

  const session = new Session(dir, opts, await identityKeys, notes, progress);
  const onAbort = () => void Promise.all(session.sandboxes.map((s) => s.stop()));
  opts.signal?.addEventListener("abort", onAbort);
  const steps: LifecycleStep[] = [];
  const warnings: string[] = [];
  try {
    await session.open();
    const { admin } = session;
    const slots = new Map<string, Slot>();
    const templateId = randomUUID();
    let workspaceId: string | undefined;
    let previous: Plan | undefined;
    /** The latest agents of each name (their tokens carry over while Terraform keeps the agent). */
    const latest = new Map<string, CreatedAgent>();
    const issued: { build: number; agent: string; token: string }[] = [];
    /** Each agent's scripts as the last start build declared them (a stop runs those). */
    const declared = new Map<string, AgentConfig>();

    /** Report text never shows an agent token: each becomes "<token of build N's agent>". */
    const mask = (text: string) => issued.reduce((t, x) => t.split(x.token).join(`<token of build ${x.build}'s ${x.agent}>`), text);
    for (const [i, s] of STEPS.entries()) {
      if (opts.signal?.aborted) break;
      const number = i + 1;
      const cfg = s.version === 2 && update ? update : config;
      // Without --update, the new version differs in each agent's init_script: the bootstrap of another Coder release.
      const revision = s.version === 2 && !update ? 2 : 1;
      const label = `build ${number} (${s.step}${s.version === 2 ? `, template version 2${update ? ` from ${opts.updateDir}` : ": every init_script changed"}` : ""})`;
      progress(label);
      const step: LifecycleStep = { build: number, step: s.step, transition: s.transition, instances: [], agents: [], checks: [], failures: [] };
      steps.push(step);
      const base = { transition: s.transition, parameters: opts.parameters, owner, workspaceName: "e2e", phase: "apply", accessUrl: session.accessUrl.replace(/\/$/, ""), workspace: { templateId, ...(workspaceId ? { id: workspaceId } : {}) } } as const;

      // 1. The plan with the values the agents will have: Terraform keeps an agent it does not
      //    re-create (and its token); a re-created one gets a new token.
      const predicted = planBuild(cfg, base);
      const agentsNow = predicted.plan.agents.filter((a) => a.count > 0);
      const kept = agentsNow.filter((a) => (previous?.agents.find((x) => x.name === a.name)?.count ?? 0) > 0 && latest.has(a.name)).map((a) => a.name);
      for (const inst of predicted.plan.instances.filter((x) => x.agents.length > 0)) {
        if (!slots.has(inst.address)) slots.set(inst.address, { address: inst.address, kind: inst.kind, cloud: inst.cloud, instanceId: inst.cloud ? instanceIdFor(inst.cloud) : null, payload: inst, generation: 0, exists: false, running: false, state: new Map(), frozen: [] });
        await session.metadataFor(slots.get(inst.address)!, inst.agents);
      }
      const fill = (p: ReturnType<typeof planBuild>, agents: Map<string, { id: string; token: string }>) => {
        for (const a of p.plan.agents.filter((x) => x.count > 0 && agents.has(x.name))) p.values.set(a.name, { ...agents.get(a.name)!, initScript: session.bootstrap(a, a.instance ? slots.get(a.instance.address) : undefined, revision) });
      };
      fill(predicted, new Map(agentsNow.map((a) => [a.name, kept.includes(a.name) ? { id: latest.get(a.name)!.id, token: latest.get(a.name)!.auth_token } : { id: randomUUID(), token: `new-token-of-${a.name}-in-build-${number}` }])));

      // 2. What Terraform does to each instance.
      const planned = new Map(predicted.plan.instances.filter((x) => x.agents.length > 0).map((x) => [x.address, x]));
      const decisions = new Map<string, { action: "create" | "delete" | "replace" | "update" | "none"; changes: ArgumentChange[]; restarts: boolean; running: boolean; by?: string }>();
      for (const slot of slots.values()) {
        const inst = planned.get(slot.address);
        if (!inst) {
          if (slot.exists) decisions.set(slot.address, { action: "delete", changes: [], restarts: false, running: false });
          continue;
        }
        const power = powerOf(predicted.plan, inst);
        if (!slot.exists) {
          decisions.set(slot.address, { action: "create", changes: [], restarts: false, ...power });
          continue;
        }
        const changes = diffArguments(slot.state, predicted.plan, inst);
        decisions.set(slot.address, { ...actionOf(changes), changes, ...power });
      }
      for (const [address, d] of decisions) if (d.action === "create" || d.action === "replace") slots.get(address)!.instanceId = d.action === "replace" && slots.get(address)!.cloud ? instanceIdFor(slots.get(address)!.cloud) : slots.get(address)!.instanceId;
      for (const [address] of decisions) await session.metadataFor(slots.get(address)!, planned.get(address)?.agents ?? []);

      // 3. The build in the coordinator (a stop's job runs while the instances shut down).
      const configs = agentConfigs(predicted.plan, notes);
      for (const [name, c] of configs) if (s.transition === "start") declared.set(name, c);
      const resources = buildResources(
        [...planned.values()].filter((inst) => inst.agents.some((a) => a.count > 0)).map((inst) => ({ inst, instanceId: slots.get(inst.address)!.instanceId })),
        configs,
      );
      const inBuild = new Set(resources.flatMap((r) => r.agents.map((a) => a.name)));
      let build: { id: string; jobId: string; agents: CreatedAgent[] };
      if (!workspaceId) {
        const ws = await admin.createWorkspace({ name: "e2e", owner: owner.name, resources });
        workspaceId = ws.id;
        build = { id: ws.latest_build.id, jobId: ws.latest_build.job_id, agents: ws.agents };
      } else {
        const b = await admin.createBuild(workspaceId, s.transition === "start" ? { transition: "start", resources, keep_tokens: kept.filter((n) => inBuild.has(n)), job: "succeeded" } : { transition: "stop", job: "running" });
        build = { id: b.build.id, jobId: b.build.job_id, agents: b.agents };
      }
      for (const a of build.agents) {
        latest.set(a.name, a);
        issued.push({ build: number, agent: a.name, token: a.auth_token });
      }
      const real = planBuild(cfg, { ...base, workspace: { templateId, id: workspaceId } });
      fill(real, new Map(build.agents.map((a) => [a.name, { id: a.id, token: a.auth_token }])));
      // Agents Terraform keeps through a stop (no count) are not in a stop build: their values stay as they were.
      for (const a of real.plan.agents.filter((x) => x.count > 0 && !real.values.has(x.name) && latest.has(x.name))) real.values.set(a.name, { id: latest.get(a.name)!.id, token: latest.get(a.name)!.auth_token, initScript: session.bootstrap(a, a.instance ? slots.get(a.instance.address) : undefined, revision) });
      session.tokenOf = (name) => real.values.get(name)?.token ?? "";
      const realInstances = new Map(real.plan.instances.filter((x) => x.agents.length > 0).map((x) => [x.address, x]));

      // 4. Where each agent's log stands before anything boots (earlier lines belong to earlier builds).
      const logFrom = new Map<string, number>();
      for (const a of real.plan.agents) {
        const slot = a.instance ? slots.get(a.instance.address) : undefined;
        logFrom.set(a.name, slot?.sandbox ? fileSize(agentLogFile(slot.sandbox, a.name)) : 0);
      }
      const stoppedAgents: { agent: string; slot: Slot; sandbox: InstanceSandbox }[] = [];

      // 5. Apply: destroy and replace first, then updates, creates and power changes.
      const launchedAt = Date.now();
      for (const [address, d] of decisions) {
        const slot = slots.get(address)!;
        const inst = realInstances.get(address);
        const changed = d.changes.filter((c) => !c.ignored);
        // What the report shows: the changes with the build's real values (tokens masked).
        const shown = inst && slot.exists ? diffArguments(slot.state, real.plan, inst) : [];
        const ignored = shown.filter((c) => c.ignored);
        let detail: string | null = shown.length ? mask(list(shown)) : null;
        const down = async () => {
          if (slot.sandbox?.running) {
            for (const a of slot.payload.agents) stoppedAgents.push({ agent: a.name, slot, sandbox: slot.sandbox });
            await slot.sandbox.shutdown(SHUTDOWN_GRACE_MS);
          }
          slot.running = false;
        };
        const up = async (mode: "fresh" | "reboot") => {
          slot.problem = await session.boot(slot, mode, owner.name);
          slot.running = !slot.problem;
          slot.agentsOf = number;
          // A new disk: the agents' logs start empty.
          if (mode === "fresh") {
            slot.bornIn = number;
            for (const a of inst?.agents ?? []) logFrom.set(a.name, 0);
          }
        };
        if (d.action === "delete") {
          await down();
          slot.exists = false;
          slot.sandbox = undefined;
          step.instances.push({ instance: address, action: "destroyed", detail: null });
          continue;
        }
        if (!inst) continue;
        const args = instanceArguments(real.plan, inst);
        if (d.action === "create" || d.action === "replace") {
          await down();
          slot.exists = true;
          slot.sandbox = undefined;
          slot.payload = inst;
          slot.state = args;
          slot.frozen = [];
          if (d.running) await up("fresh");
          const replacing = changed.filter((c) => c.effect !== "update").map((c) => c.path);
          step.instances.push({ instance: address, action: d.action === "create" ? "created" : "replaced", detail: d.action === "replace" ? `${replacing.join(", ")} force${replacing.length === 1 ? "s" : ""} replacement; ${detail}` : null });
          continue;
        }
        // In place: the state takes every change Terraform applies; ignored arguments keep their value.
        for (const c of changed) {
          const v = args.get(c.path);
          if (v) slot.state.set(c.path, v);
          else slot.state.delete(c.path);
        }
        const payloadChanged = changed.some((c) => bootChange(inst, c));
        if (payloadChanged) slot.payload = inst;
        slot.frozen = d.changes.filter((c) => c.ignored && bootChange(inst, c)).map((c) => c.path);
        let action: string = d.action === "update" ? "updated in place" : "unchanged";
        if (!d.running) {
          if (slot.running) {
            await down();
            action = `stopped (${d.by})`;
          } else if (d.action === "none") action = "stays stopped";
        } else if (!slot.running) {
          // A stopped machine starts again on its disk; a pod comes back fresh.
          await up(inst.family === "container" ? "fresh" : "reboot");
          action = d.action === "update" ? "updated in place, started" : "started";
        } else if (d.action === "update" && d.restarts) {
          await down();
          await up(inst.family === "container" ? "fresh" : "reboot");
          action = inst.family === "container" ? "updated in place, pods replaced" : "updated in place (the provider stops and starts it)";
        } else if (s.transition === "stop" && d.running) {
          action = "keeps running";
          warnings.push(`build ${number} (stop): ${address} keeps running while the workspace is stopped: nothing in the template stops it (add aws_ec2_instance_state { state = transition == "start" ? "running" : "stopped" }, desired_status, replicas = start_count, or count = start_count)`);
        } else if (s.transition === "start" && slot.agentsOf !== undefined && slot.agentsOf < number && inst.agents.some((a) => a.count > 0)) {
          action = d.action === "update" ? "updated in place, not restarted" : "kept running";
          detail = `${detail ? `${detail}; ` : ""}nothing restarted it, so the agents it runs are build ${slot.agentsOf}'s`;
        }
        if (ignored.length && !detail?.includes("ignored")) detail = `${detail ? `${detail}; ` : ""}${list(ignored)}`;
        step.instances.push({ instance: address, action, detail });
      }
      if (s.transition === "stop") await admin.completeJob(build.jobId, { status: "succeeded" });

      // 6. Checks.
      const current = new Set(build.agents.map((a) => a.auth_token));
      const stale = issued.filter((t) => !current.has(t.token));
      const refusedOld = await Promise.all(stale.map((t) => manifestStatus(session.coord.url, t.token)));
      const accepted = stale.filter((_, k) => refusedOld[k] !== 401);
      for (const t of accepted) step.failures.push(`the token of agent ${t.agent} from build ${t.build} is still accepted after build ${number} (only the latest build's agents may authenticate)`);
      step.checks.push(`${stale.length - accepted.length} token(s) of earlier builds refused (401)`);
      for (const slot of slots.values()) {
        if (!slot.imds || !slot.cloud) continue;
        const auth = Object.keys(IDENTITY_AUTH_CLOUD).find((k) => IDENTITY_AUTH_CLOUD[k] === slot.cloud) as Exclude<AgentAuthType, "token">;
        const names = build.agents.filter((a) => a.instance_id === slot.instanceId && a.auth === auth);
        const identity = await fetchIdentity(auth, `http://127.0.0.1:${slot.imds.port}`).catch(() => undefined);
        if (!identity) continue;
        if (names.length === 0) {
          const r = await exchange(session.coord.url, auth, identity);
          if (r.status !== 404) step.failures.push(`instance ${slot.address} (${slot.instanceId}) still authenticates after build ${number}, which runs no agent there (HTTP ${r.status})`);
          else step.checks.push(`${slot.address}: its identity finds no agent (404)`);
          continue;
        }
        for (const a of names) {
          const r = await exchange(session.coord.url, auth, identity, a.name);
          if (r.status !== 200 || r.body.session_token !== a.auth_token) step.failures.push(`${slot.address}'s identity with agent_name ${a.name} does not give build ${number}'s agent (HTTP ${r.status}${r.body.message ? `: ${String(r.body.message)}` : ""})`);
        }
        step.checks.push(`${slot.address}: its identity gives build ${number}'s agents (${names.map((a) => a.name).join(", ")})`);
      }

      if (s.transition === "stop") {
        for (const { agent, slot, sandbox } of stoppedAgents) {
          const c = declared.get(agent);
          const stopScripts = (c?.scripts ?? []).filter((x) => x.run_on_stop).map((x) => x.display_name);
          if (c?.shutdown_script) stopScripts.push("Shutdown Script");
          if (stopScripts.length === 0) continue;
          const ran = new Set(readAgentLog(agentLogFile(sandbox, agent), logFrom.get(agent) ?? 0).filter((l) => l.msg === "script finished" && l.stage === "stop").map((l) => String(l.script)));
          const missing = stopScripts.filter((x) => !ran.has(x));
          if (missing.length) step.failures.push(`agent ${agent}'s stop script${missing.length === 1 ? "" : "s"} ${missing.map((x) => `"${x}"`).join(", ")} did not run when ${slot.address} shut down`);
          else step.checks.push(`agent ${agent}: stop scripts ran at shutdown`);
        }
      } else {
        const expected: AgentExpectation[] = real.plan.agents.filter((a) => a.count > 0 && a.instance).map((a) => ({ agent: a, live: slots.get(a.instance!.address), logFrom: logFrom.get(a.name) ?? 0 }));
        const why = (e: AgentExpectation) => {
          const slot = e.live as Slot | undefined;
          if (slot?.problem) return slot.problem;
          if (slot && slot.agentsOf !== undefined && slot.agentsOf < number) return `nothing restarted ${slot.address} in build ${number} (it kept running since build ${slot.agentsOf}), so no agent of build ${number} started there`;
          return undefined;
        };
        const { results, failures } = await session.awaitAgents({ number, id: build.id, workspaceId: workspaceId!, agents: build.agents }, expected, launchedAt, why);
        for (const r of results.filter((x) => x.result !== "ok" && x.result !== "unsupported")) {
          const slot = slots.get(r.instance);
          if (!slot) continue;
          if (slot.agentsOf !== undefined && slot.agentsOf < number) r.reason = `${r.reason}: the agent process of build ${slot.agentsOf} still runs there with its token, and the agent of build ${number} never connects (Coder shows it connecting)`;
          else if (slot.frozen.length && r.http_status === 401) r.reason = `${r.reason}; lifecycle.ignore_changes keeps ${slot.address}'s ${slot.frozen.join(", ")} as it was, with an earlier build's token: stop ignoring it (or use instance-identity auth)`;
          else if (slot.bornIn !== undefined && slot.bornIn < number && slot.payload !== slot.firstBoot) r.reason = `${r.reason}; ${slot.address} was not re-created, so it booted with what cloud-init wrote at its first boot in build ${slot.bornIn} (write_files and runcmd run once per instance; build ${number}'s user data is not what started its agents): re-create the instance at each start (count = data.coder_workspace.me.start_count), or start the agents from a shell part or an enabled systemd unit`;
          const i = failures.findIndex((f) => f.startsWith(`agent ${r.agent} `));
          if (i >= 0) failures[i] = `${failures[i].slice(0, failures[i].indexOf(":") + 1)} ${r.reason}`;
        }
        step.agents = results;
        step.failures.push(...failures);
        for (const r of results.filter((x) => x.result === "ok")) {
          const declared = (configs.get(r.agent)?.scripts ?? []).filter((x) => x.run_on_start).map((x) => x.display_name);
          if (configs.get(r.agent)?.startup_script) declared.push("Startup Script");
          const ran = new Set(r.scripts.map((x) => x.display_name));
          const missing = declared.filter((x) => !ran.has(x));
          if (missing.length) step.failures.push(`agent ${r.agent}: start script${missing.length === 1 ? "" : "s"} ${missing.map((x) => `"${x}"`).join(", ")} did not run in build ${number}`);
        }
        if (results.some((r) => r.result === "ok")) step.checks.push(`${results.filter((r) => r.result === "ok").length} agent(s) of build ${number} ready as themselves, start scripts ran`);
        if (results.some((r) => r.http_status === 409)) step.checks.push("409: an agent was refused as ambiguous");
      }
      progress(step.failures.length ? `${label}: ${step.failures.length} failure(s)` : `${label}: ok`);
      previous = real.plan;
    }

    const failures = steps.flatMap((st) => st.failures.map((f) => `build ${st.build} (${st.step}): ${f}`));
    const last = [...steps].reverse().find((st) => st.transition === "start" && st.agents.length > 0);
    return { scenario: "lifecycle", ok: failures.length === 0 && steps.length === STEPS.length, failures, warnings, agents: last?.agents ?? [], duration_ms: Date.now() - t0, steps };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await session.close();
  }
}

async function manifestStatus(baseUrl: string, token: string): Promise<number> {
  const res = await fetch(new URL("/api/v2/workspaceagents/me/manifest", baseUrl), { headers: { "Coder-Session-Token": token } });
  await res.body?.cancel();
  return res.status;
}

async function exchange(baseUrl: string, auth: Exclude<AgentAuthType, "token">, identity: Record<string, string>, agentName?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(AUTH_ROUTES[auth], baseUrl), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(agentName ? { ...identity, agent_name: agentName } : identity) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
