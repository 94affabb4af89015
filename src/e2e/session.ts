/**
 * One scenario's machinery: an in-process coordinator (PGlite in memory), a fake metadata service
 * per cloud instance, and the instances themselves — each booted in its own sandbox as the cloud or
 * the container runtime would (cloud-init's order for user data, the container's command and
 * environment), rebooted or shut down as a build asks — and the check of every agent of a build.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startCoordinator, type RunningCoordinator } from "../coordinator/index.js";
import { type IdentityKeys, trustFromKeys } from "../identity/index.js";
import { startImds, type RunningImds } from "../imds/server.js";
import { type AgentStart, analyzeBoot, deviceWaits, droppedNote, nameFix, startLocation } from "../plan/agent-starts.js";
import { IDENTITY_AUTH_CLOUD, type Maybe, type PlannedAgent, type PlannedInstance } from "../plan/plan.js";
import { AdminClient } from "../sdk/admin-client.js";
import type { CreatedAgent } from "../sdk/admin.js";
import { commandText, interpretUserData, type UserDataPlan } from "../template/userdata.js";
import { shellQuote } from "../machine/shell.js";
import { bootstrapScript } from "./bootstrap.js";
import { InstanceSandbox, NetworkBridge } from "./sandbox.js";
import type { AgentOutcome, AgentResult, E2eOptions } from "./run.js";

export interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

/**
 * The events of an agent's log from byte `from` on (a rebooted instance keeps its earlier lines):
 * e2e's bootstrap runs the agent with `--log-format json`; an agent the template starts itself logs
 * text (`<time> INFO  agent: manifest agent_name=main owner=alice`), read into the same shape.
 */
export function readAgentLog(file: string, from = 0): LogLine[] {
  return existsSync(file) ? agentEvents(readFileSync(file).subarray(from).toString("utf8").split("\n")) : [];
}

/** The events among an agent log's lines (see readAgentLog). */
function agentEvents(lines: string[]): LogLine[] {
  const out: LogLine[] = [];
  for (const l of lines) {
    if (l.startsWith("{")) {
      try {
        out.push(JSON.parse(l) as LogLine);
      } catch {
        // a partial line while the agent is writing
      }
      continue;
    }
    const text = /^\S+Z [A-Z]+ +agent: (.*)$/.exec(l)?.[1];
    if (text === undefined) continue;
    const [msg, ...fields] = text.split(/ (?=[a-z_]+=)/);
    const event: LogLine = { msg };
    for (const f of fields) {
      const value = f.slice(f.indexOf("=") + 1);
      event[f.slice(0, f.indexOf("="))] = /^\d+$/.test(value) ? Number(value) : value;
    }
    out.push(event);
  }
  return out;
}

export const fileSize = (file: string): number => (existsSync(file) ? statSync(file).size : 0);

function tail(file: string, n = 8, from = 0): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file).subarray(from).toString("utf8").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{")).slice(-n);
}

export function instanceIdFor(cloud: string | undefined): string {
  if (cloud === "aws") return `i-0${randomBytes(8).toString("hex")}`;
  if (cloud === "gcp") return String(BigInt("0x" + randomBytes(7).toString("hex")) + 1000000000000000n);
  return randomUUID();
}

/** Lifecycle states after which an agent will not become ready by itself. */
const FINAL_NOT_READY = new Set(["start_error", "start_timeout", "shutting_down", "shutdown_error", "shutdown_timeout", "off"]);
/** States of a shutdown: final only when this agent reported them (a replaced instance's agent, sharing a kept token, reports them too). */
const SHUTDOWN = new Set(["shutting_down", "shutdown_error", "shutdown_timeout", "off"]);

const UBUNTU = 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n';
const BOOT_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/** Where the bootstrap copies an agent's output, inside its instance. */
export const agentLog = (a: string) => `/var/log/provisioner/agent-${a}.log`;

/** The first line of e2e's bootstrap: it marks each agent's init_script in what an instance runs. */
const bootstrapMarker = (agent: string) => `# coder_agent.${agent}.init_script (provisioner e2e`;

/** Where an instance's boot starts each of its agents (read once the init scripts are e2e's bootstraps). */
export type StartsOn = (inst: PlannedInstance) => Map<string, AgentStart[]>;

/** Reads boots with the agents' tokens as `tokenOf` gives them now (a boot may start an agent with its token alone). */
function startsReader(tokenOf: (agent: string) => string): StartsOn {
  const cache = new WeakMap<PlannedInstance, Map<string, AgentStart[]>>();
  return (inst) => {
    let s = cache.get(inst);
    if (!s) {
      s = analyzeBoot(inst.boot, inst.agents.map((a) => a.name), bootstrapMarker, inst.files, tokenOf).starts;
      cache.set(inst, s);
    }
    return s;
  };
}

/** Why an agent cannot run here at all, or undefined. */
export function unsupported(agent: PlannedAgent, startsOn?: StartsOn): string | undefined {
  const inst = agent.instance;
  const m = agent.startedInModule;
  const starts = inst && startsOn?.(inst).get(agent.name);
  const inContainer = starts?.length && starts.every((s) => s.container) ? starts[0] : undefined;
  if (agent.os.known && agent.os.value !== "linux") return `its os is ${agent.os.value}: e2e runs Linux agents only (validate checks it statically)`;
  if (inst?.windows) return `${inst.address} boots Windows (${inst.boot.kind === "user-data" ? inst.boot.attribute : "image"}): e2e runs Linux agents only`;
  if (m && (!inst || inst.boot.kind === "unknown")) return `its init_script is handed to ${m.address} (${m.source}), a registry module e2e does not follow${inst ? `: ${inst.address}'s boot comes from it` : ""}`;
  if (!inst && agent.tiedTo) return `it is tied to ${agent.tiedTo}, a resource e2e cannot boot`;
  if (inContainer) return `its init_script runs in a container that ${inst!.address} starts itself (\`${inContainer.container}\`, ${inContainer.origin}): e2e has no container engine inside an instance`;
  return undefined;
}

/** Why an instance-identity agent can never authenticate on its compute (another cloud, or none). */
function identityMismatch(agent: PlannedAgent): string | undefined {
  const cloud = IDENTITY_AUTH_CLOUD[agent.auth];
  const inst = agent.instance;
  if (!cloud || !inst || inst.cloud === cloud) return undefined;
  return `its auth is ${agent.auth}, but ${inst.address} (${inst.kind}) has no ${cloud.toUpperCase()} instance identity to prove: the agent cannot authenticate`;
}

/** The report row of an agent e2e does not run: not runnable on this host, or tied to nothing (a failure). */
export function notRunRow(a: PlannedAgent, startsOn?: StartsOn): AgentResult {
  const why = unsupported(a, startsOn);
  const reason = why ?? "it is tied to no compute resource: nothing in the template runs its init_script, so it never connects";
  return {
    instance: a.instance?.address ?? a.tiedTo ?? "-",
    kind: a.instance?.kind ?? a.tiedTo?.split(".")[0] ?? "-",
    instance_id: null,
    agent: a.name,
    auth: a.auth,
    result: why ? "unsupported" : "never_started",
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

/**
 * A compute instance as the cloud (or the container runtime) holds it across builds: its identity,
 * its sandbox (its disk), and the plan instance whose boot payload its Terraform state has.
 */
export interface LiveInstance {
  address: string;
  kind: string;
  cloud?: PlannedInstance["cloud"];
  instanceId: string | null;
  /** Where its metadata service answers inside the instance (stable across replacements: init scripts name it). */
  metadataPort?: number;
  /** The metadata service of the current instance ID, on the host. */
  imds?: { port: number; instanceId: string };
  sandbox?: InstanceSandbox;
  /** The instance whose boot payload (user data, container spec) the state holds. */
  payload: PlannedInstance;
  /** The payload its disk was first booted with: cloud-init wrote its files and runcmd then, once. */
  firstBoot?: PlannedInstance;
  /** Replacements so far (each gets a sandbox of its own). */
  generation: number;
  /** Why it could not boot (its payload unknown before apply, no command, …). */
  problem?: string;
  /** Devices its boot waits for that the template does not attach (they never appear). */
  waits?: string[];
}

/** The shell script that boots a VM as cloud-init does at its first boot (bootcmd, then scripts-user in name order). */
function cloudInitBoot(ud: UserDataPlan): string {
  const lines = ["#!/bin/sh", "# provisioner e2e: cloud-init's first boot of this instance"];
  for (const c of ud.commands.filter((x) => x.stage === "bootcmd")) lines.push(`echo ${shellQuote(`== ${c.origin}`)}`, c.argv ? c.argv.map(shellQuote).join(" ") : `/bin/sh -c ${shellQuote(c.script!)}`);
  if (ud.commands.some((x) => x.stage !== "bootcmd")) lines.push("echo '== scripts-user'", SCRIPTS_USER);
  lines.push("echo '== scripts-user done'");
  return lines.join("\n") + "\n";
}

const SCRIPTS_USER = 'for s in /var/lib/cloud/instance/scripts/*; do [ -x "$s" ] && { echo "== $s"; "$s"; echo "== $s exited $?"; }; done';

/**
 * A later boot of the same instance, as cloud-init and systemd do it: /run and /tmp are empty,
 * bootcmd runs again (from the current user data); write_files and runcmd do not (once per instance);
 * shell parts of the current user data are rewritten and, only with `cloud_final_modules:
 * [scripts-user, always]`, the scripts run again; enabled systemd units start. A startup script that
 * the cloud runs at every boot (GCE's startup-script) runs again, as it is now.
 */
function rebootScript(current: UserDataPlan, everyBoot: boolean): string {
  // /run is empty after a reboot (tmpfs). /tmp is left alone: the network bridge is mounted under it.
  const lines = ["#!/bin/sh", "# provisioner e2e: a later boot of this instance", "rm -rf /run/provisioner 2>/dev/null"];
  for (const c of current.commands.filter((x) => x.stage === "bootcmd")) lines.push(`echo ${shellQuote(`== ${c.origin}`)}`, c.argv ? c.argv.map(shellQuote).join(" ") : `/bin/sh -c ${shellQuote(c.script!)}`);
  lines.push('for u in /etc/systemd/system/multi-user.target.wants/*; do [ -e "$u" ] && { echo "== systemd starts ${u##*/}"; systemctl start "${u##*/}"; }; done');
  if (everyBoot || current.scriptsUserAlways) lines.push("echo '== scripts-user'", SCRIPTS_USER);
  else lines.push("echo '== scripts-user: already ran for this instance (cloud-init runs user data scripts once per instance)'");
  lines.push("echo '== scripts-user done'");
  return lines.join("\n") + "\n";
}

export interface BuildRef {
  number: number;
  id: string;
  workspaceId: string;
  agents: CreatedAgent[];
}

export interface AgentExpectation {
  agent: PlannedAgent;
  live?: LiveInstance;
  /** Where its log was when the build started (its earlier lines belong to earlier builds). */
  logFrom: number;
}

export class Session {
  readonly bridge: NetworkBridge;
  readonly sandboxes: InstanceSandbox[] = [];
  private readonly imdses: RunningImds[] = [];
  coord!: RunningCoordinator;
  admin!: AdminClient;
  port = 0;
  /** The access URL says "localhost", as a local Coder's does: templates that rewrite it for containers are exercised. */
  accessUrl = "";
  /** Each agent's token in the build being checked (a boot may start an agent with its token alone). */
  tokenOf: (agent: string) => string = () => "";
  /** Where each instance's boot starts its agents, read with the current tokens. */
  readonly startsOn: StartsOn = (inst) => this.starts(inst);
  private readonly starts = startsReader((agent) => this.tokenOf(agent));

  constructor(
    readonly dir: string,
    readonly opts: E2eOptions,
    private readonly keys: IdentityKeys,
    readonly notes: string[],
    readonly progress: (line: string) => void,
  ) {
    this.bridge = new NetworkBridge(join(dir, "net"));
  }

  async open(): Promise<void> {
    this.coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", trust: trustFromKeys(this.keys), adminToken: "e2e-admin-token-0123456789", ssePingMs: 5000 });
    this.port = Number(new URL(this.coord.url).port);
    this.accessUrl = `http://localhost:${this.port}/`;
    this.admin = new AdminClient(this.coord.url, this.coord.adminToken);
    this.progress(`coordinator on ${this.coord.url}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.sandboxes.map((s) => s.stop()));
    await this.bridge.close();
    await Promise.all(this.imdses.map((i) => i.close()));
    await this.coord?.close();
  }

  /** A metadata service signing this instance's identity (cloud VMs with identity agents); a new one when the instance ID changed. */
  async metadataFor(live: LiveInstance, agents: PlannedAgent[]): Promise<void> {
    if (!live.cloud || !live.instanceId || !agents.some((a) => a.auth !== "token")) return;
    if (live.imds?.instanceId === live.instanceId) return;
    const imds = await startImds({ cloud: live.cloud, instanceId: live.instanceId, keys: this.keys });
    this.imdses.push(imds);
    live.imds = { port: Number(new URL(imds.url).port), instanceId: live.instanceId };
    live.metadataPort ??= live.imds.port;
  }

  /** The init_script e2e gives an agent: the coderd bootstrap, pointed at this coordinator and its instance's metadata service. */
  bootstrap(a: PlannedAgent, live: LiveInstance | undefined, revision = 1): string {
    return bootstrapScript({ agent: a.name, arch: a.arch.known && a.arch.value === "arm64" ? "arm64" : "amd64", auth: a.auth, accessUrl: this.accessUrl, metadataUrl: live?.metadataPort ? `http://127.0.0.1:${live.metadataPort}` : undefined, logFile: agentLog(a.name), revision, fuzz: this.opts.fuzzBootstrap });
  }

  /**
   * Boots an instance: `fresh` on a new disk (a created or replaced instance, a new pod), `reboot`
   * on its disk as it is (a stopped VM started again, a VM the provider stopped to update it).
   * Returns why it cannot boot, or undefined.
   */
  async boot(live: LiveInstance, mode: "fresh" | "reboot", ownerName: string): Promise<string | undefined> {
    const inst = live.payload;
    const runnableHere = inst.agents.filter((a) => a.count > 0 && !unsupported(a, this.startsOn));
    if (runnableHere.length === 0) return undefined;
    const boot = inst.boot;
    if (boot.kind === "unknown") return `its ${boot.attribute} is not known before apply: ${boot.reason} is known only after apply`;
    if (boot.kind === "error") return `its ${boot.attribute} cannot be evaluated (${(boot.attr ?? inst.resource).file}:${(boot.attr ?? inst.resource).pos.line}): ${boot.message}`;
    if (boot.kind === "none") return `${inst.address} has no user data or command that could start an agent`;
    const forwards = [this.port, ...(live.imds && live.metadataPort ? [{ port: live.imds.port, listen: live.metadataPort }] : [])];
    if (mode === "reboot" && live.sandbox && boot.kind === "user-data") {
      const ud = interpretUserData(boot.text, boot.asScript);
      // Shell parts (and GCE's startup-script) are written again from the user data as it is now.
      for (const c of ud.commands.filter((x) => x.stage === "part")) live.sandbox.writeFile(`/var/lib/cloud/instance/scripts/${c.file}`, c.script!, "0755");
      // Files the provider puts on the instance (incus/lxd `*_instance_file`, often with count =
      // start_count) are put there again by this build, with this build's values (a new token).
      for (const f of inst.files) live.sandbox.writeFile(f.path, f.content);
      await live.sandbox.start(rebootScript(ud, boot.asScript), BOOT_ENV, forwards, inst.devices);
      this.progress(`${inst.address}: rebooted (agents ${runnableHere.map((a) => a.name).join(", ")})`);
      return undefined;
    }
    live.generation++;
    const sbox = new InstanceSandbox(join(this.dir, "instances", `${inst.address.replace(/[^A-Za-z0-9_.-]/g, "_")}${live.generation > 1 ? `-${live.generation}` : ""}`), this.bridge);
    if (boot.kind === "user-data") {
      const ud = interpretUserData(boot.text, boot.asScript);
      ud.problems.forEach((p) => this.notes.push(`${inst.address}: user data: ${p.message}`));
      const defaultUser = ud.users === undefined || ud.users.includes("default");
      // The image's default user, and the workspace owner's account (OS Login and Coder images provide it).
      const accounts = [
        ...(defaultUser ? [{ name: "ubuntu", uid: 1000, home: "/home/ubuntu", shell: "/bin/bash", groups: ["sudo", "adm"] }] : []),
        { name: ownerName, uid: 1001, home: `/home/${ownerName}`, shell: "/bin/bash", groups: ["sudo"] },
      ];
      sbox.prepare({ users: accounts, devices: inst.devices, hosts: [], hostname: inst.address.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 60), osRelease: UBUNTU });
      applyCloudConfigAccounts(sbox, ud);
      // Files the provider puts on the instance itself (incus/lxd `file` blocks, …).
      for (const f of inst.files) sbox.writeFile(f.path, f.content);
      const missing = deviceWaits(ud).filter((w) => !inst.devices.includes(w.device));
      live.waits = missing.length ? [...new Set(missing.map((w) => w.device))] : undefined;
      for (const f of ud.files.filter((x) => !x.defer)) sbox.writeFile(f.path, f.content, f.permissions, f.append);
      for (const f of ud.files.filter((x) => x.defer)) sbox.writeFile(f.path, f.content, f.permissions, f.append);
      // cloud-init writes runcmd as one script, and each shell part as a script of its own.
      const runcmd = ud.commands.filter((c) => c.stage === "runcmd");
      if (runcmd.length) sbox.writeFile("/var/lib/cloud/instance/scripts/runcmd", `#!/bin/sh\n${runcmd.map(commandText).join("\n")}\n`, "0755");
      for (const c of ud.commands.filter((x) => x.stage === "part")) sbox.writeFile(`/var/lib/cloud/instance/scripts/${c.file}`, c.script!, "0755");
      if (ud.ignoredKeys.length) this.progress(`${inst.address}: cloud-config keys only logged: ${ud.ignoredKeys.join(", ")}`);
      this.sandboxes.push(sbox);
      live.sandbox = sbox;
      live.firstBoot = inst;
      await sbox.start(cloudInitBoot(ud), BOOT_ENV, forwards, inst.devices);
    } else {
      const c = boot.containers.find((x) => x.argv.known && runnableHere.some((a) => x.argv.known && x.argv.value.join(" ").includes(bootstrapMarker(a.name)))) ?? boot.containers[0];
      if (!c) return `${inst.address} declares no container`;
      if (!c.argv.known) return `the command of container ${c.name} is not known before apply: ${c.argv.reason}`;
      const absent = Object.entries(c.env).filter(([, v]) => !v.known && v.absent);
      if (absent.length) return `its container ${c.name} never starts: ${absent.map(([k, v]) => `${k}: ${describeMaybe(v)}`).join("; ")}`;
      for (const [k, v] of Object.entries(c.env).filter(([, x]) => !x.known)) this.notes.push(`${inst.address}: env ${k} of container ${c.name} is not known before apply (${describeMaybe(v)})`);
      const user = c.user ?? "root";
      const users = [{ name: "coder", uid: 1000, home: "/home/coder", shell: "/bin/bash", groups: ["sudo"] }];
      const runAs = users.find((u) => u.name === user || String(u.uid) === user) ?? (user === "root" || user === "0" ? undefined : { name: user, uid: Number(user) || 1001, home: `/home/${user}`, shell: "/bin/sh", groups: [] });
      if (runAs && !users.includes(runAs)) users.push(runAs);
      sbox.prepare({ users, devices: [], hosts: Object.keys(c.hosts), hostname: c.name, osRelease: UBUNTU });
      const env: Record<string, string> = { PATH: BOOT_ENV.PATH, HOSTNAME: c.name, HOME: runAs?.home ?? "/root" };
      for (const [k, v] of Object.entries(c.env)) if (v.known) env[k] = v.value;
      if (runAs) Object.assign(env, { USER: runAs.name });
      if (c.via) this.notes.push(`${inst.address}: ${c.via}: e2e runs that hand-over in the container (the image's own work before it is not run)`);
      // The container's process; when it ends the container has stopped (the marker tells the wait loop).
      const script = ["#!/bin/sh", `# provisioner e2e: container ${c.name} (${c.image ?? "image"})`, `cd ${shellQuote(c.workingDir ?? runAs?.home ?? "/")} 2>/dev/null || cd /`, `/usr/bin/env -i ${Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${c.argv.value.map(shellQuote).join(" ")}`, 'echo "== the container\'s process exited $?"', ""].join("\n");
      this.sandboxes.push(sbox);
      live.sandbox = sbox;
      await sbox.start(script, { PATH: env.PATH }, forwards, []);
    }
    this.progress(`${inst.address}: booted (${inst.kind}, agents ${runnableHere.map((a) => a.name).join(", ")})`);
    return undefined;
  }

  /** The agent's log on the host, when its instance has a sandbox (see agentLogFile). */
  logOf(e: AgentExpectation): string | undefined {
    return e.live?.sandbox && agentLogFile(e.live.sandbox, e.agent.name);
  }

  /** Waits until every expected agent of `build` is ready (or cannot be), then reports each. */
  async awaitAgents(build: BuildRef, expected: AgentExpectation[], launchedAt: number, bootProblem: (e: AgentExpectation) => string | undefined): Promise<{ results: AgentResult[]; failures: string[] }> {
    const { admin, opts } = this;
    const failures: string[] = [];
    const results: AgentResult[] = [];
    // What an agent's log says since the build started: read once per look, every check below reads it.
    const look = (e: AgentExpectation) => {
      const file = this.logOf(e);
      const text = file && existsSync(file) ? readFileSync(file).subarray(e.logFrom).toString("utf8") : "";
      const raw = text.split("\n");
      const events = agentEvents(raw);
      return {
        written: text.length > 0,
        events,
        refusal: events.find((l) => l.msg === "authentication refused"),
        manifest: events.filter((l) => l.msg === "manifest").pop(),
        // The agent CLI printed a fatal error and exited (no token, a bad URL, …).
        fatal: raw.find((l) => l.startsWith("provisioner: ")),
        // The bootstrap (--fuzz-bootstrap) found itself split or altered on the way and stopped.
        stoppedBootstrap: raw.find((l) => l.startsWith("provisioner bootstrap: ")),
      };
    };
    type Look = ReturnType<typeof look>;
    // Authenticated as another agent: final, it will not become itself.
    const asSibling = (e: AgentExpectation, l: Look) => l.manifest !== undefined && l.manifest.agent_name !== e.agent.name;
    const final = (l: Look, state: string | undefined) => !!state && FINAL_NOT_READY.has(state) && (!SHUTDOWN.has(state) || l.events.some((x) => x.msg === "lifecycle" && x.state === state));
    const states = async () => {
      const ws = await admin.workspace(build.workspaceId);
      return new Map(ws.latest_build.resources.flatMap((r) => r.agents.map((x) => [x.name, x.lifecycle_state] as const)));
    };
    const deadline = Date.now() + opts.timeoutMs;
    const readyAt = new Map<string, number>();
    const active = expected.filter((e) => !unsupported(e.agent, this.startsOn) && e.live?.sandbox?.running);
    let quietSince: number | undefined;
    while (!opts.signal?.aborted) {
      const s = await states();
      for (const { agent } of active) if (s.get(agent.name) === "ready" && !readyAt.has(agent.name)) readyAt.set(agent.name, Date.now() - launchedAt);
      const looks = new Map(active.filter((e) => !readyAt.has(e.agent.name)).map((e) => [e, look(e)]));
      // start_error and start_timeout are final: a startup script failed or ran past its timeout.
      const pending = [...looks].filter(([e, l]) => !l.refusal && !l.fatal && !l.stoppedBootstrap && !asSibling(e, l) && !final(l, s.get(e.agent.name))).map(([e]) => e);
      if (pending.length === 0 || Date.now() > deadline) break;
      // Agents whose init script never ran: the boot finished long ago and nothing wrote their log.
      // (An agent the boot started itself, without its init_script, shows in the coordinator only.)
      const neverStarted = pending.filter((e) => !looks.get(e)!.written && (s.get(e.agent.name) ?? "created") === "created");
      const bootsDone = pending.every((e) => /scripts-user done|exited/.test(tail(e.live!.sandbox!.hostPath("/var/log/provisioner/boot.log"), 200).join("\n")));
      // …or every one waits in a loop for a device the template does not attach (it never appears).
      const stuck = pending.every((e) => e.live?.waits?.length);
      if (neverStarted.length === pending.length && (bootsDone || stuck)) quietSince ??= Date.now();
      else quietSince = undefined;
      if (quietSince && Date.now() - quietSince > 4000) break;
      await new Promise((r) => setTimeout(r, 150));
    }

    const finalStates = await states();
    const timings = await admin.buildTimings(build.id).catch(() => undefined);
    const appStatuses = await admin.appStatuses(build.workspaceId).catch(() => []);
    const scriptsOf = (name: string) =>
      (timings?.agent_script_timings ?? [])
        .filter((t) => t.workspace_agent_name === name)
        .map((t) => ({ display_name: t.display_name, status: t.status, exit_code: t.exit_code, duration_ms: Date.parse(t.ended_at) - Date.parse(t.started_at) }));
    const appsOf = (name: string) => appStatuses.filter((x) => x.agent_name === name).map((x) => ({ slug: x.app.slug, state: x.app.statuses[0]?.state ?? null, message: x.app.statuses[0]?.message ?? null }));
    const idOf = new Map(build.agents.map((a) => [a.name, a.id]));
    for (const e of expected) {
      const { agent: a } = e;
      const inst = a.instance!;
      const base = { instance: inst.address, kind: inst.kind, instance_id: e.live?.instanceId ?? null, agent: a.name, auth: a.auth, authenticated_as: null, lifecycle: finalStates.get(a.name) ?? "unknown", time_to_ready_ms: null, http_status: null, server_message: null, reinits: null, log_file: null, scripts: scriptsOf(a.name), apps: appsOf(a.name) };
      const why = unsupported(a, this.startsOn);
      if (why) {
        results.push({ ...base, result: "unsupported", reason: why });
        continue;
      }
      const mismatch = identityMismatch(a);
      if (mismatch) {
        results.push({ ...base, result: "refused", reason: mismatch });
        failures.push(`agent ${a.name} cannot authenticate: ${mismatch}`);
        continue;
      }
      const sbox = e.live?.sandbox;
      if (!sbox || !sbox.running) {
        const reason = bootProblem(e) ?? "its instance did not boot";
        results.push({ ...base, result: "never_started", reason });
        failures.push(`agent ${a.name} never started: ${reason}`);
        continue;
      }
      const logFile = this.logOf(e)!;
      const l = look(e);
      const { manifest, refusal } = l;
      let result: AgentOutcome = "ok";
      let reason: string | null = null;
      const seenByCoordinator = readyAt.has(a.name) || (finalStates.get(a.name) ?? "created") !== "created";
      if (!l.written && !seenByCoordinator) {
        result = "never_started";
        reason = bootProblem(e) ?? neverStartedReason(sbox, inst, e.live?.waits ?? []);
      } else if (l.stoppedBootstrap && !seenByCoordinator) {
        result = "never_started";
        reason = `its init_script stopped itself: ${l.stoppedBootstrap.slice("provisioner bootstrap: ".length)}`;
      } else if (refusal) {
        result = "refused";
        // A rebooted machine ran the files and runcmd of its first boot: that is where the agent was started.
        reason = `authentication refused with HTTP ${refusal.status}: ${String(refusal.message)}${refusal.status === 409 || refusal.status === 404 ? whereStarted(e.live!.firstBoot ?? e.live!.payload, a, opts.dir, this.startsOn) : ""}`;
      } else if (l.fatal && !readyAt.has(a.name)) {
        result = "not_ready";
        reason = `the agent exited: ${l.fatal.slice("provisioner: ".length)}${tail(logFile, 2, e.logFrom).length ? ` (${tail(logFile, 2, e.logFrom).join(" | ")})` : ""}`;
      } else if (manifest && manifest.agent_name !== a.name) {
        result = "wrong_agent";
        reason = `it authenticated as its sibling "${String(manifest.agent_name)}"${whereStarted(e.live!.payload, a, opts.dir, this.startsOn) || " (check its CODER_AGENT_NAME)"}`;
      } else if (manifest && idOf.has(a.name) && manifest.agent_id !== idOf.get(a.name)) {
        result = "wrong_agent";
        reason = `it authenticated as the agent "${a.name}" of an earlier build (${String(manifest.agent_id)}), not build ${build.number}'s`;
      } else if (!readyAt.has(a.name) && final(l, finalStates.get(a.name))) {
        const failing = base.scripts.filter((x) => x.status !== "ok");
        const explained = finalStates.get(a.name) === "start_error" && idOf.has(a.name) ? await this.startErrorExplained(build.id, idOf.get(a.name)!, a.name) : undefined;
        if (explained) {
          // The agent started as itself; its script failed only for want of what a real machine has.
          this.notes.push(`agent ${a.name}: ${explained}; the agent itself started and authenticated`);
        } else {
          result = "not_ready";
          reason = `its lifecycle ended ${finalStates.get(a.name)}${failing.length ? `: ${failing.map((x) => `script "${x.display_name}" ${x.status === "timed_out" ? "timed out" : x.status === "exit_failure" ? `exited ${x.exit_code}` : x.status}`).join(", ")}` : ""}`;
        }
      } else if (!readyAt.has(a.name)) {
        result = "not_ready";
        reason = `it did not reach ready within ${opts.timeoutMs / 1000}s (lifecycle ${finalStates.get(a.name) ?? "unknown"})${tail(logFile, 3, e.logFrom).length ? `; its log ends: ${tail(logFile, 3, e.logFrom).join(" | ")}` : ""}`;
      }
      if (result !== "ok" && opts.fuzzBootstrap) reason += "; --fuzz-bootstrap gave it a bootstrap holding ' \" $ ` %{ — a template that pastes the init script into a quoted string breaks on it (validate: coder/init-script-quoting)";
      results.push({
        ...base,
        result,
        reason,
        // A lifecycle report comes with the agent's own token: the coordinator saw it as itself.
        authenticated_as: (manifest?.agent_name as string | undefined) ?? (seenByCoordinator ? a.name : null),
        time_to_ready_ms: readyAt.get(a.name) ?? null,
        http_status: refusal ? Number(refusal.status) : null,
        server_message: refusal ? String(refusal.message) : null,
        log_file: logFile,
      });
      if (result !== "ok") failures.push(`agent ${a.name} ${result === "never_started" ? "never started" : result === "refused" ? "was refused" : result === "wrong_agent" ? "authenticated as another agent" : "was not ready"}: ${reason}`);
    }
    return { results, failures };
  }

  /**
   * Why an agent's start_error in a build is only the sandbox's doing, or undefined: each failed start
   * script printed the sandbox's refusal of a download (no network outside loopback), or exited 127 on
   * a command this machine lacks (the image's own tools: code-server, a language runtime).
   */
  async startErrorExplained(buildId: string, agentId: string, agent: string): Promise<string | undefined> {
    const timings = await this.admin.buildTimings(buildId).catch(() => undefined);
    const failing = (timings?.agent_script_timings ?? []).filter((t) => t.workspace_agent_name === agent && t.status !== "ok");
    if (failing.length === 0 || failing.some((x) => x.status !== "exit_failure")) return undefined;
    const logs = (await this.admin.agentLogsText(agentId).catch(() => "")).split("\n");
    const reasons: string[] = [];
    for (const x of failing) {
      const lines = logs.filter((l) => l.includes(`[agent.${agent}|${x.display_name}]`));
      const offline = lines.map((l) => /no network outside loopback \(([^)]+)\)/.exec(l)?.[1]).find(Boolean);
      const missing = x.exit_code === 127 ? lines.map((l) => /(?:^|: )([^\s:]+): (?:command )?not found/.exec(l.replace(/^.*\] /, ""))?.[1]).find(Boolean) : undefined;
      if (offline) reasons.push(`script "${x.display_name}" exited ${x.exit_code} after a download the sandbox cannot make (${offline}: no network beyond loopback)`);
      else if (missing) reasons.push(`script "${x.display_name}" exited 127: \`${missing}\` is not on this machine (the image provides it)`);
      else return undefined;
    }
    return reasons.join("; ");
  }
}

function describeMaybe(m: Maybe<unknown>): string {
  return m.known ? "" : m.reason;
}

/**
 * The line that started an agent under the wrong name, read with the machine's rules from the boot
 * that ran (its bootstrap's first comment names the agent): " — started by `…` at main.tf:42: …; fix: …".
 */
function whereStarted(inst: PlannedInstance, a: PlannedAgent, dir: string, startsOn: StartsOn): string {
  const starts = startsOn(inst).get(a.name) ?? [];
  const wrong = starts.find((st) => st.name !== a.name) ?? starts[0];
  if (!wrong) return "";
  const at = startLocation(inst, wrong, dir);
  return ` — started by \`${wrong.command}\` at ${at.file}:${at.line} (${wrong.origin})${droppedNote(wrong, "CODER_AGENT_NAME")}; fix: ${nameFix(a.name, wrong)}`;
}

/**
 * An agent's log on the host: where e2e's bootstrap writes it, or — for an agent the boot starts
 * itself from a systemd unit, without its init_script — the log of the one unit whose agent
 * authenticated as this agent.
 */
export function agentLogFile(sbox: InstanceSandbox, name: string): string {
  const own = sbox.hostPath(agentLog(name));
  return existsSync(own) ? own : (unitLogOf(sbox, name) ?? own);
}

/** The log of the systemd unit that ran agent `name` and no other (its manifests name only it). */
function unitLogOf(sbox: InstanceSandbox, name: string): string | undefined {
  const dir = sbox.hostPath("/var/log/provisioner/units");
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const names = new Set(readAgentLog(join(dir, f)).filter((l) => l.msg === "manifest").map((l) => l.agent_name));
    if (names.size === 1 && names.has(name)) return join(dir, f);
  }
  return undefined;
}

/** Why an agent's init script never ran: the boot's last lines, units that failed, device waits. */
function neverStartedReason(sbox: InstanceSandbox, inst: PlannedInstance, waits: string[]): string {
  const parts: string[] = [`nothing in the boot of ${inst.address} ran its init_script`];
  if (waits.length) parts.push(`its boot waits for ${waits.join(", ")}, which the template does not attach to ${inst.address}`);
  const boot = tail(sbox.hostPath("/var/log/provisioner/boot.log"), 6);
  if (boot.length) parts.push(`the boot printed: ${boot.join(" | ")}`);
  if (boot.some((l) => l.includes("already ran for this instance"))) parts.push("cloud-init runs user data scripts once per instance, and this is a later boot of it: re-create the instance at each start (count = data.coder_workspace.me.start_count), run the scripts at every boot (cloud-config cloud_final_modules: [[scripts-user, always]]), or start the agent from an enabled systemd unit");
  const shims = existsSync(sbox.hostPath("/var/log/provisioner/shims.log")) ? readFileSync(sbox.hostPath("/var/log/provisioner/shims.log"), "utf8").split("\n").filter((l) => /does not exist|missing|no network|not found/.test(l)) : [];
  const units = sbox.hostPath("/var/log/provisioner/units");
  for (const f of existsSync(units) ? readdirSync(units) : []) {
    const lines = tail(join(units, f), 3);
    if (lines.length) parts.push(`${f.replace(/\.log$/, "")} printed: ${lines.join(" | ")}`);
  }
  if (shims.length) parts.push(shims.map((l) => l.replace(/^\S+ /, "")).slice(-3).join(" | "));
  return parts.join("; ");
}

function applyCloudConfigAccounts(sbox: InstanceSandbox, ud: UserDataPlan): void {
  if (!ud.accounts) return;
  for (const g of ud.accounts.groups) sbox.accounts().addGroup(g);
  for (const u of ud.accounts.users) sbox.accounts().addUser(u.name, { home: u.home, shell: u.shell, groups: u.groups, createHome: !u.noCreateHome, system: u.system });
}
