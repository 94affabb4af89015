import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCoordinator, type RunningCoordinator } from "../coordinator/index.js";
import { loadOrCreateIdentityKeys, trustFromKeys } from "../identity/index.js";
import { startImds, type RunningImds } from "../imds/server.js";
import { AdminClient } from "../sdk/admin-client.js";
import type { CreatedAgent } from "../sdk/admin.js";
import { loadTemplate } from "../template/load.js";
import type { TemplateModel } from "../template/model.js";
import { renderUserData, templateScope } from "../template/render.js";
import { interpretUserData } from "../template/userdata.js";
import { bootstrapScript } from "./bootstrap.js";
import { planStart, type PlannedInstance } from "./plan.js";
import { createSandbox, writeSandboxFile, type Sandbox } from "./sandbox.js";

export type Scenario = "start" | "prebuild";

export interface AgentResult {
  instance: string;
  instance_id: string;
  agent: string;
  auth: string;
  /** ok | refused | never_started | not_ready | wrong_agent */
  result: "ok" | "refused" | "never_started" | "not_ready" | "wrong_agent";
  /** The agent name the coordinator authenticated it as (from its manifest). */
  authenticated_as: string | null;
  lifecycle: string;
  time_to_ready_ms: number | null;
  http_status: number | null;
  server_message: string | null;
  reinits: number | null;
  log_file: string;
}

export interface ScenarioResult {
  scenario: Scenario;
  ok: boolean;
  failures: string[];
  agents: AgentResult[];
  duration_ms: number;
}

export interface E2eReport {
  template: string;
  ok: boolean;
  scenarios: ScenarioResult[];
  skipped: { agent: string; reason: string }[];
  sandbox: string | null;
}

export interface E2eOptions {
  dir: string;
  scenarios: Scenario[];
  timeoutMs: number;
  keep: boolean;
  progress: (line: string) => void;
}

interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

function readAgentLog(file: string): { lines: LogLine[]; text: string } {
  if (!existsSync(file)) return { lines: [], text: "" };
  const text = readFileSync(file, "utf8");
  const lines: LogLine[] = [];
  for (const l of text.split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(l) as LogLine);
    } catch {
      // a partial line while the agent is writing
    }
  }
  return { lines, text };
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_\/.=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Runs one instance's user data, as cloud-init would, in its own process group. */
function runInstance(sandbox: Sandbox, inst: PlannedInstance, text: string, log: (l: string) => void): { child?: ChildProcess; notes: string[] } {
  const notes: string[] = [];
  const plan = interpretUserData(text, inst.model.userDataIsScript);
  if (plan.problems.length > 0) notes.push(...plan.problems.map((p) => `user data: ${p.message}`));
  for (const f of plan.files) writeSandboxFile(sandbox, f.path, f.content, f.permissions);
  if (plan.ignoredKeys.length > 0) log(`  ${inst.address}: cloud-config keys handled by the sandbox only as logs: ${plan.ignoredKeys.join(", ")}`);
  const dir = join(sandbox.dir, "instances", inst.address.replace(/[^A-Za-z0-9_.-]/g, "_"));
  const parts: string[] = [];
  plan.commands.forEach((c, i) => {
    const file = join(dir, `part-${String(i).padStart(2, "0")}.sh`);
    const body = c.argv ? c.argv.map(shellQuote).join(" ") : c.script!;
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, sandbox.remap(body.startsWith("#!") ? body : `#!/bin/sh\n${body}\n`));
    chmodSync(file, 0o755);
    parts.push(file);
  });
  if (parts.length === 0) {
    notes.push("user data runs no command");
    return { notes };
  }
  const runner = join(dir, "run.sh");
  writeFileSync(runner, `#!/bin/sh\n# ${inst.address}: user data commands in cloud-init order\n${parts.map((p) => `"${p}"`).join("\n")}\n`);
  chmodSync(runner, 0o755);
  const out = join(sandbox.logs, `${inst.address.replace(/[^A-Za-z0-9_.-]/g, "_")}.user-data.log`);
  writeFileSync(out, "");
  const fd = openSync(out, "a");
  // detached: its own process group, so teardown can kill everything it started (nohup'd agents too).
  const child = spawn("/bin/sh", [runner], { cwd: join(sandbox.root, "root"), env: sandbox.env(), detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  return { child, notes };
}

function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

async function runScenario(model: TemplateModel, scenario: Scenario, opts: E2eOptions, sandboxDir: string): Promise<ScenarioResult & { skipped: { agent: string; reason: string }[] }> {
  const t0 = Date.now();
  const progress = (l: string) => opts.progress(`[${scenario}] ${l}`);
  const ownerName = scenario === "prebuild" ? "prebuilds" : "e2e-user";
  const workspace = { id: "", name: "e2e", start_count: 1, transition: "start", access_url: "", access_port: 0, is_prebuild: scenario === "prebuild" };
  const owner = { id: "", name: ownerName, full_name: ownerName, email: `${ownerName}@example.com`, groups: [], ssh_public_key: "", session_token: "" };
  const plan = planStart(model, { workspace, owner });
  // Fake-IMDS keys are reused across runs (making RSA keys costs most of a second); they sign only
  // identities for this machine's coordinators.
  const keys = await loadOrCreateIdentityKeys(join(tmpdir(), `provisioner-e2e-keys-${process.getuid?.() ?? "user"}`));
  let coord: RunningCoordinator | undefined;
  const imdses: RunningImds[] = [];
  const children: ChildProcess[] = [];
  const failures: string[] = [];
  const results: AgentResult[] = [];
  try {
    coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", trust: trustFromKeys(keys), adminToken: "e2e-admin", ssePingMs: 5000 });
    progress(`coordinator on ${coord.url}`);
    const admin = new AdminClient(coord.url, coord.adminToken);
    const metadataUrls = new Map<PlannedInstance, string>();
    for (const inst of plan.instances) {
      const imds = await startImds({ cloud: inst.cloud, instanceId: inst.instanceId, keys });
      imdses.push(imds);
      metadataUrls.set(inst, imds.url);
      progress(`${inst.address}: ${inst.cloud} instance ${inst.instanceId}, metadata on ${imds.url}, agents ${inst.agents.map((a) => a.name).join(", ") || "none"}`);
    }
    const created = await admin.createWorkspace({
      name: "e2e",
      ...(scenario === "prebuild" ? { prebuild: true } : { owner: ownerName }),
      resources: plan.instances.map((inst) => ({
        type: inst.model.resource.type,
        name: inst.index === undefined ? inst.model.resource.name : `${inst.model.resource.name}[${inst.index}]`,
        instance_id: inst.instanceId,
        agents: inst.agents.map((a) => ({ name: a.name, auth: a.auth as "token", arch: (a.arch === "arm64" ? "arm64" : "amd64") as "amd64" })),
      })),
    });
    const agentByName = new Map<string, CreatedAgent>(created.agents.map((a) => [a.name, a]));
    workspace.id = created.id;
    workspace.access_url = coord.accessUrl;
    workspace.access_port = Number(new URL(coord.url).port);
    owner.id = created.owner_id;

    const scenarioDir = join(sandboxDir, scenario);
    const users = new Set<string>(["coder", "ubuntu", "ec2-user", "admin", ownerName]);
    const sandbox = createSandbox(scenarioDir, [...users]);
    const logFile = (agent: string) => join(sandbox.logs, `agent-${agent}.log`);
    const launchedAt = Date.now();
    for (const inst of plan.instances) {
      const scope = templateScope(model, {
        workspace,
        owner,
        agent: (name) => {
          const planned = plan.instances.find((i) => i.agents.some((a) => a.name === name));
          const a = planned?.agents.find((x) => x.name === name);
          const createdAgent = agentByName.get(name);
          if (!planned || !a || !createdAgent) return { init_script: "", token: "", id: "" };
          return {
            init_script: bootstrapScript({ agent: name, arch: a.arch === "arm64" ? "arm64" : "amd64", auth: a.auth, accessUrl: coord!.accessUrl, metadataUrl: a.auth === "token" ? undefined : metadataUrls.get(planned), logFile: logFile(name) }),
            token: createdAgent.auth_token,
            id: createdAgent.id,
          };
        },
        attribute: (r, attr, index) => {
          const inst2 = plan.instances.find((i) => i.model.resource === r && (i.index === undefined || i.index === (index ?? 0)));
          if (inst2 && (attr === "id" || attr === "instance_id")) return inst2.instanceId;
          return `${r.type}.${r.name}.${attr}`;
        },
      });
      let text: string | undefined;
      try {
        text = renderUserData(inst.model, scope);
      } catch (err) {
        failures.push(`${inst.address}: cannot render user data: ${(err as Error).message}`);
        continue;
      }
      if (text === undefined) {
        if (inst.agents.length > 0) progress(`${inst.address}: no user data`);
        continue;
      }
      writeFileSync(join(sandbox.logs, `${inst.address.replace(/[^A-Za-z0-9_.-]/g, "_")}.user-data.txt`), text);
      const { child, notes } = runInstance(sandbox, inst, text, progress);
      notes.forEach((n) => progress(`${inst.address}: ${n}`));
      if (child) children.push(child);
      progress(`${inst.address}: user data running`);
    }

    const expected = plan.instances.flatMap((inst) => inst.agents.map((a) => ({ inst, a })));
    const deadline = Date.now() + opts.timeoutMs;
    const readyAt = new Map<string, number>();
    const agentState = async () => {
      const ws = await admin.workspace(created.id);
      return new Map(ws.latest_build.resources.flatMap((r) => r.agents.map((a) => [a.name, a.lifecycle_state] as const)));
    };
    const refused = (name: string) => readAgentLog(logFile(name)).lines.find((l) => l.msg === "authentication refused");
    const childrenDone = () => children.every((c) => c.exitCode !== null || c.signalCode !== null);
    let doneSince: number | undefined;
    for (;;) {
      const states = await agentState();
      for (const { a } of expected) if (states.get(a.name) === "ready" && !readyAt.has(a.name)) readyAt.set(a.name, Date.now() - launchedAt);
      const pending = expected.filter(({ a }) => !readyAt.has(a.name) && !refused(a.name));
      if (pending.length === 0) break;
      // Agents that never started: the user data finished and nothing ran their init script.
      if (childrenDone()) doneSince ??= Date.now();
      const neverStarted = pending.filter(({ a }) => !existsSync(logFile(a.name)));
      if (doneSince && Date.now() - doneSince > 3000 && neverStarted.length === pending.length) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 150));
    }

    const finalStates = await agentState();
    for (const { inst, a } of expected) {
      const { lines } = readAgentLog(logFile(a.name));
      const manifest = lines.find((l) => l.msg === "manifest");
      const refusal = refused(a.name);
      const started = existsSync(logFile(a.name));
      let result: AgentResult["result"] = "ok";
      if (!started) result = "never_started";
      else if (refusal) result = "refused";
      else if (manifest && manifest.agent_name !== a.name) result = "wrong_agent";
      else if (!readyAt.has(a.name)) result = "not_ready";
      results.push({
        instance: inst.address,
        instance_id: inst.instanceId,
        agent: a.name,
        auth: a.auth,
        result,
        authenticated_as: (manifest?.agent_name as string | undefined) ?? null,
        lifecycle: finalStates.get(a.name) ?? "unknown",
        time_to_ready_ms: readyAt.get(a.name) ?? null,
        http_status: refusal ? Number(refusal.status) : null,
        server_message: refusal ? String(refusal.message) : null,
        reinits: null,
        log_file: logFile(a.name),
      });
      if (result === "never_started") failures.push(`agent ${a.name} never started: nothing in the user data of ${inst.address} ran its init_script`);
      else if (result === "refused") failures.push(`agent ${a.name}: authentication refused with HTTP ${refusal!.status}: ${String(refusal!.message)}`);
      else if (result === "wrong_agent") failures.push(`agent ${a.name} authenticated as its sibling "${String(manifest!.agent_name)}" (check its CODER_AGENT_NAME)`);
      else if (result === "not_ready") failures.push(`agent ${a.name} did not reach ready within ${opts.timeoutMs / 1000}s (lifecycle ${finalStates.get(a.name) ?? "unknown"})`);
    }
    const allReadyAsThemselves = failures.length === 0;
    if (allReadyAsThemselves) progress(`all ${expected.length} agents ready as themselves`);

    if (scenario === "prebuild" && allReadyAsThemselves && expected.length > 0) {
      progress("claiming the prebuild for e2e-user");
      const claimed = await admin.claim(created.id, { owner: "e2e-user" });
      const claimDeadline = Date.now() + opts.timeoutMs;
      const reinitsOf = (name: string) => readAgentLog(logFile(name)).lines.filter((l) => l.msg === "reinitializing").length;
      const readyCount = (name: string) => readAgentLog(logFile(name)).lines.filter((l) => l.msg === "agent ready").length;
      for (;;) {
        const states = await agentState();
        const done = expected.every(({ a }) => reinitsOf(a.name) >= 1 && readyCount(a.name) >= 2 && states.get(a.name) === "ready");
        if (done || Date.now() > claimDeadline) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      // Drop and re-open every agent's reinit stream: no second event may come.
      const tokens = new Map(created.agents.map((a) => [a.name, a.auth_token]));
      const second = await Promise.all(expected.map(({ a }) => probeNoReinit(coord!.url, tokens.get(a.name)!, 1000)));
      const states = await agentState();
      expected.forEach(({ a }, i) => {
        const r = results.find((x) => x.agent === a.name)!;
        r.reinits = reinitsOf(a.name);
        r.lifecycle = states.get(a.name) ?? "unknown";
        if (r.reinits !== 1) failures.push(`agent ${a.name} re-initialised ${r.reinits} times after the claim (expected exactly once)`);
        if (readyCount(a.name) < 2 || r.lifecycle !== "ready") failures.push(`agent ${a.name} is not ready again after the claim (lifecycle ${r.lifecycle})`);
        if (!second[i]) failures.push(`agent ${a.name} got a second reinit event after re-opening its stream`);
      });
      const owners = expected.map(({ a }) => readAgentLog(logFile(a.name)).lines.filter((l) => l.msg === "manifest").pop()?.owner);
      if (owners.some((o) => o !== claimed.workspace.owner_name)) failures.push(`after the claim the agents serve owner(s) ${[...new Set(owners)].join(", ")}, not ${claimed.workspace.owner_name}`);
      if (failures.length === 0) progress("every agent re-initialised exactly once and is ready again; no second reinit");
    }
    return { scenario, ok: failures.length === 0, failures, agents: results, duration_ms: Date.now() - t0, skipped: plan.skipped };
  } finally {
    children.forEach(killGroup);
    await new Promise((r) => setTimeout(r, 100));
    children.forEach((c) => {
      if (c.pid) {
        try {
          process.kill(-c.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
    await Promise.all(imdses.map((i) => i.close()));
    await coord?.close();
  }
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

export async function runE2e(opts: E2eOptions): Promise<E2eReport> {
  const model = await loadTemplate(opts.dir);
  const sandboxDir = mkdtempSync(join(tmpdir(), "provisioner-e2e-"));
  const scenarios: ScenarioResult[] = [];
  let skipped: E2eReport["skipped"] = [];
  try {
    for (const s of opts.scenarios) {
      const r = await runScenario(model, s, opts, sandboxDir);
      skipped = r.skipped;
      const { skipped: _ignored, ...result } = r;
      scenarios.push(result);
    }
  } finally {
    if (!opts.keep) rmSync(sandboxDir, { recursive: true, force: true });
  }
  return { template: opts.dir, ok: scenarios.every((s) => s.ok), scenarios, skipped, sandbox: opts.keep ? sandboxDir : null };
}
