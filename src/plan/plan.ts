/**
 * The plan of a template for one workspace: every compute instance (VM or container) with its kind,
 * the agents tied to it as coderd ties them, and its boot payload — user data or container command
 * and environment — rendered, or unknown with the reference that made it so. validate's rules and
 * e2e both read this; nothing else evaluates a template.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Attr, BlockConfig, ModuleConfig, ResourceConfig } from "../template/config.js";
import { type BlockView, blockViews } from "./blocks.js";
import { EvalError, type Expr, formatDiagnostic, references, STRING, convert, Value } from "../template/hcl/index.js";
import { literalString } from "../template/load.js";
import type { WorkspaceContext } from "./context.js";
import { type ProviderVersion } from "./provider-version.js";
import { ModuleScope, type UnfollowedModule } from "./scope.js";

export type Cloud = "aws" | "gcp" | "azure";

/** How each compute resource type starts its agents. */
interface ComputeSpec {
  family: "vm" | "container";
  cloud?: Cloud;
  /** User data attributes in order of precedence: `path` into the resource, base64, always a script, Windows. */
  userData?: { path: string[]; base64?: boolean; script?: boolean; windows?: boolean; container?: boolean; fileResource?: { type: string; content: string[] } }[];
  windows?: boolean;
}

const AWS_USER_DATA = [
  { path: ["user_data"] },
  { path: ["user_data_base64"], base64: true },
  // An instance launched from a launch template boots the template's (base64) user data.
  ...["id", "name"].map((k) => ({ path: ["launch_template", k], base64: true, fileResource: { type: "aws_launch_template", content: ["user_data"] } })),
];
const AZURE_LINUX = [
  { path: ["custom_data"], base64: true },
  { path: ["user_data"], base64: true },
];

export const COMPUTE: Record<string, ComputeSpec> = {
  aws_instance: { family: "vm", cloud: "aws", userData: AWS_USER_DATA },
  aws_spot_instance_request: { family: "vm", cloud: "aws", userData: AWS_USER_DATA },
  google_compute_instance: {
    family: "vm",
    cloud: "gcp",
    userData: [
      { path: ["metadata_startup_script"], script: true },
      { path: ["metadata", "startup-script"], script: true },
      { path: ["metadata", "user-data"] },
      { path: ["metadata", "windows-startup-script-ps1"], windows: true },
      { path: ["metadata", "sysprep-specialize-script-ps1"], windows: true },
      { path: ["metadata", "gce-container-declaration"], container: true },
    ],
  },
  azurerm_linux_virtual_machine: { family: "vm", cloud: "azure", userData: AZURE_LINUX },
  azurerm_windows_virtual_machine: { family: "vm", cloud: "azure", userData: [{ path: ["custom_data"], base64: true, windows: true }, { path: ["user_data"], base64: true, windows: true }], windows: true },
  azurerm_virtual_machine: { family: "vm", cloud: "azure", userData: [{ path: ["os_profile", "custom_data"] }] },
  digitalocean_droplet: { family: "vm", userData: [{ path: ["user_data"] }] },
  hcloud_server: { family: "vm", userData: [{ path: ["user_data"] }] },
  openstack_compute_instance_v2: { family: "vm", userData: [{ path: ["user_data"] }] },
  exoscale_compute_instance: { family: "vm", userData: [{ path: ["user_data"] }] },
  linode_instance: { family: "vm", userData: [{ path: ["metadata", "user_data"], base64: true }] },
  oci_core_instance: { family: "vm", userData: [{ path: ["metadata", "user_data"], base64: true }] },
  scaleway_instance_server: { family: "vm", userData: [{ path: ["user_data", "cloud-init"] }] },
  // bpg/proxmox: cloud-init user data is a snippet file uploaded by proxmox_virtual_environment_file.
  proxmox_virtual_environment_vm: { family: "vm", userData: [{ path: ["initialization", "user_data_file_id"], fileResource: { type: "proxmox_virtual_environment_file", content: ["source_raw", "data"] } }] },
  vsphere_virtual_machine: { family: "vm", userData: [{ path: ["extra_config", "guestinfo.userdata"], base64: true }, { path: ["vapp", "properties", "user-data"], base64: true }] },
  // LXD/Incus system containers boot with cloud-init like a VM.
  incus_instance: { family: "vm", userData: [{ path: ["config", "cloud-init.user-data"] }, { path: ["config", "user.user-data"] }] },
  lxd_instance: { family: "vm", userData: [{ path: ["config", "cloud-init.user-data"] }, { path: ["config", "user.user-data"] }] },
  docker_container: { family: "container" },
  kubernetes_pod: { family: "container" },
  kubernetes_pod_v1: { family: "container" },
  kubernetes_deployment: { family: "container" },
  kubernetes_deployment_v1: { family: "container" },
  kubernetes_stateful_set: { family: "container" },
  kubernetes_stateful_set_v1: { family: "container" },
};

export const IDENTITY_AUTH_CLOUD: Record<string, Cloud> = {
  "aws-instance-identity": "aws",
  "google-instance-identity": "gcp",
  "azure-instance-identity": "azure",
};

/** A value that is either known or names the reference that made it unknown. */
/**
 * A value that is either known or names the reference that made it unknown. `absent`: certainly not
 * there at all (a secret without that key), as opposed to there but not known before apply.
 */
export type Maybe<T> = { known: true; value: T } | { known: false; reason: string; absent?: boolean };

export interface ContainerSpec {
  name: string;
  image?: string;
  /** The process the container runs: entrypoint + command (docker) or command + args (kubernetes). */
  argv: Maybe<string[]>;
  env: Record<string, Maybe<string>>;
  user?: string;
  workingDir?: string;
  /** `host` entries (docker) and hostAliases: name → address ("host-gateway" = the host). */
  hosts: Record<string, string>;
  /** Set when the image's entrypoint hands over to a script from the environment (envbuilder, envbox). */
  via?: string;
}

export type BootPayload =
  | { kind: "user-data"; attribute: string; text: string; asScript: boolean; windows: boolean; attr: Attr }
  | { kind: "containers"; containers: ContainerSpec[]; attr?: Attr }
  | { kind: "unknown"; attribute: string; reason: string; attr: Attr }
  | { kind: "error"; attribute: string; message: string; attr?: Attr }
  | { kind: "none" };

/** A file the platform puts into an instance before it boots. */
export interface InstanceFile {
  path: string;
  content: string;
}

export interface PlannedInstance {
  /** e.g. aws_instance.dev or aws_instance.dev[0]. */
  address: string;
  resource: ResourceConfig;
  kind: string;
  family: "vm" | "container";
  cloud?: Cloud;
  readonly windows: boolean;
  agents: PlannedAgent[];
  /**
   * The boot payload, evaluated on first read: the agents' computed attributes (init_script, token)
   * are read from the context only then, so e2e can give them after the coordinator made the agents.
   */
  readonly boot: BootPayload;
  /** Devices the template attaches (paths the OS would show), for wait loops. */
  devices: string[];
  /** Its count.index or each key (to evaluate its other arguments). */
  key: InstanceKey;
  /** Files the platform puts into the instance before it boots (incus/lxd `file` blocks and instance_file resources). */
  readonly files: InstanceFile[];
}

export type InstanceKey = Parameters<ModuleScope["instanceScope"]>[0];

export interface PlannedAgent {
  name: string;
  resource: ResourceConfig;
  /** Instances of the coder_agent resource in this transition (0 = not started). */
  count: number;
  auth: string;
  os: Maybe<string>;
  arch: Maybe<string>;
  instance?: PlannedInstance;
  /** The compute resource the agent is tied to when it is not one we model (e.g. null_resource). */
  tiedTo?: string;
  tie: "coder_agent_instance" | "reference" | "only_compute" | "none";
  /** A registry module this agent's init_script is handed to (its start is in code that is not followed). */
  startedInModule?: UnfollowedModule;
}

export interface PlanProblem {
  message: string;
  file: string;
  line: number;
  /** What failed to evaluate, when known: `docker_container.workspace.entrypoint`, `local.x`. */
  address?: string;
}

export interface Plan {
  dir: string;
  config: ModuleConfig;
  scope: ModuleScope;
  context: WorkspaceContext;
  coderVersion: ProviderVersion;
  agents: PlannedAgent[];
  instances: PlannedInstance[];
  /** Modules that are not followed (remote sources): the root module's calls and any met while evaluating. */
  readonly unfollowedModules: UnfollowedModule[];
  /** Evaluation errors (a missing templatefile variable, a bad count), with where. */
  problems: PlanProblem[];
  /** The names of the template's coder_parameters (their `name`, which --parameter sets). */
  parameters: string[];
}

const known = <T>(value: T): Maybe<T> => ({ known: true, value });
const unknownOf = (reason: string): Maybe<never> => ({ known: false, reason });

function errorProblem(err: unknown, fallback: { file: string; pos: { line: number } }): PlanProblem {
  if (err instanceof EvalError) {
    const d = err.diagnostic;
    return { message: formatDiagnostic({ ...d, file: undefined, range: undefined }), file: d.file ?? fallback.file, line: d.range?.start.line ?? fallback.pos.line };
  }
  throw err;
}

/** Plans a template (root module config) for a workspace context. */
export function planTemplate(config: ModuleConfig, context: WorkspaceContext): Plan {
  const scope = ModuleScope.root(config, context);
  const problems: PlanProblem[] = [];
  const guard = <T>(where: { file: string; pos: { line: number } }, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      problems.push(errorProblem(err, where));
      return fallback;
    }
  };

  const agents: PlannedAgent[] = config.resources
    .filter((r) => r.mode === "managed" && r.type === "coder_agent")
    .map((r) => {
      const e = guard(r, () => scope.expansion(r), { kind: "single" } as const);
      let count = 1;
      if (e.kind === "count") count = e.count;
      else if (e.kind === "each") count = e.keys.size;
      else if (e.kind === "unknown") count = 1;
      const attr = (name: string, def?: string): Maybe<string> => {
        if (!r.attrs[name]) return def === undefined ? unknownOf(`${r.address}.${name} is not set`) : known(def);
        return guard(
          r.attrs[name],
          () => {
            const v = scope.evalAttr(r.attrs[name], scope.instanceScope(e.kind === "count" ? { countIndex: 0 } : {}));
            if (!v.isKnown) return unknownOf(v.unknownReason ?? `${r.address}.${name}`);
            return v.isNull ? (def === undefined ? unknownOf(`${r.address}.${name} is null`) : known(def)) : known(convert(v, STRING).asString());
          },
          unknownOf(`${r.address}.${name} could not be evaluated`),
        );
      };
      const auth = attr("auth", "token");
      return { name: r.name, resource: r, count, auth: auth.known ? auth.value : "token", os: attr("os"), arch: attr("arch"), tie: "none" as const };
    });
  const agentByName = new Map(agents.map((a) => [a.name, a]));

  // Compute instances, one per count/for_each instance.
  const instances: PlannedInstance[] = [];
  for (const r of config.resources.filter((x) => x.mode === "managed" && COMPUTE[x.type])) {
    const spec = COMPUTE[r.type];
    const e = guard(r, () => scope.expansion(r), { kind: "single" } as const);
    const keys: { address: string; key: Parameters<ModuleScope["instanceScope"]>[0] }[] = [];
    if (e.kind === "count") for (let i = 0; i < e.count; i++) keys.push({ address: `${r.address}[${i}]`, key: { countIndex: i } });
    else if (e.kind === "each") for (const [k, v] of e.keys) keys.push({ address: `${r.address}[${JSON.stringify(k)}]`, key: { each: { key: Value.string(k), value: v } } });
    else keys.push({ address: r.address, key: {} });
    for (const { address, key } of keys) {
      let boot: BootPayload | undefined;
      let files: InstanceFile[] | undefined;
      const bootOf = () => (boot ??= spec.family === "container" ? containerBoot(scope, r, key, problems) : vmBoot(scope, r, key, spec, problems));
      const gceContainer = !!r.attrs.metadata && attributeAt(r, ["metadata", "gce-container-declaration"]) !== undefined;
      instances.push({
        address,
        resource: r,
        kind: r.type,
        family: gceContainer ? "container" : spec.family,
        cloud: spec.cloud,
        get windows() {
          const b = bootOf();
          return !!spec.windows || (b.kind === "user-data" && b.windows);
        },
        agents: [],
        get boot() {
          return bootOf();
        },
        devices: attachedDevices(config, scope, r),
        key,
        get files() {
          return (files ??= instanceFiles(config, scope, r, key, problems));
        },
      });
    }
  }

  tieAgents(config, scope, agents, agentByName, instances);
  // Registry (remote) modules are not followed: every one is named, and an agent whose init_script
  // is handed to one is started by that module, whatever else the plan can read.
  const unfollowed = new Map<string, UnfollowedModule>();
  for (const m of Object.values(config.modules).filter((x) => !/^\.\.?\//.test(x.source))) {
    const address = `module.${m.name}`;
    unfollowed.set(address, { address, source: m.source });
    const handed = agentDistances(config, scope, Object.values(m.attrs).map((a) => a.expr), (parts) => parts.includes("init_script"));
    for (const name of handed.keys()) {
      const a = agentByName.get(name);
      if (a && !a.startedInModule) a.startedInModule = { address, source: m.source };
    }
  }
  for (const m of scope.state.unfollowed) if (!unfollowed.has(m.address)) unfollowed.set(m.address, m);
  return {
    dir: config.dir,
    config,
    scope,
    context,
    coderVersion: scope.state.coderVersion,
    agents,
    instances,
    get unfollowedModules() {
      for (const m of scope.state.unfollowed) if (!unfollowed.has(m.address)) unfollowed.set(m.address, m);
      return [...unfollowed.values()];
    },
    problems,
    parameters: parameterNames(config, scope),
  };
}

function parameterNames(config: ModuleConfig, scope: ModuleScope): string[] {
  return config.resources
    .filter((r) => r.mode === "data" && r.type === "coder_parameter")
    .map((r) => {
      try {
        const v = r.attrs.name ? scope.evalAttr(r.attrs.name) : undefined;
        return v?.isKnown && v.type.kind === "string" ? v.asString() : r.name;
      } catch {
        return r.name;
      }
    });
}

/** --parameter names the template does not declare (coder create refuses them). */
export function undeclaredParameters(plan: Plan, given: Record<string, string>): string | undefined {
  const extra = Object.keys(given).filter((n) => !plan.parameters.includes(n));
  if (extra.length === 0) return undefined;
  return `the template has no coder_parameter named ${extra.map((n) => JSON.stringify(n)).join(", ")} (${plan.parameters.length ? `its parameters: ${plan.parameters.join(", ")}` : "it declares none"})`;
}

/**
 * Everything Terraform's plan evaluates, and what fails there: the plan's own problems, every local,
 * every argument of every resource instance (nested blocks too) and every output. A template with
 * one of these does not plan: no workspace is ever built from it.
 */
export function evaluationProblems(plan: Plan): PlanProblem[] {
  const out = new Map<string, PlanProblem>();
  const add = (p: PlanProblem) => {
    const key = `${p.file}:${p.line}:${p.message}`;
    if (!out.get(key)?.address) out.set(key, p);
  };
  plan.problems.forEach(add);
  const scope = plan.scope;
  const attempt = (where: { file: string; pos: { line: number } }, fn: () => unknown, address?: string) => {
    try {
      fn();
    } catch (err) {
      add({ ...errorProblem(err, where), address });
    }
  };
  for (const [name, attr] of Object.entries(plan.config.locals)) attempt(attr, () => scope.local(name), `local.${name}`);
  for (const r of plan.config.resources) {
    attempt(r, () => {
      const e = scope.expansion(r);
      const keys: Parameters<ModuleScope["instanceScope"]>[0][] =
        e.kind === "single" ? [{}] : e.kind === "count" ? Array.from({ length: Math.min(e.count, 4) }, (_, i) => ({ countIndex: i })) : e.kind === "each" ? [...e.keys].slice(0, 4).map(([k, v]) => ({ each: { key: Value.string(k), value: v } })) : [];
      for (const key of keys) {
        const iscope = scope.instanceScope(key);
        const walk = (b: { attrs: Record<string, Attr>; blocks: BlockConfig[] }, path: string) => {
          for (const a of Object.values(b.attrs)) attempt(a, () => scope.evalAttr(a, iscope), `${path}.${a.name}`);
          for (const nested of b.blocks.filter((x) => x.type !== "dynamic")) walk(nested, `${path}.${nested.type}`);
        };
        walk(r, r.address);
      }
    });
  }
  for (const o of Object.values(plan.config.outputs)) if (o.value) attempt(o.value, () => scope.evalAttr(o.value!), `output.${o.name}`);
  return [...out.values()];
}

/** Follows a path like ["metadata", "user-data"] or ["os_profile", "custom_data"] into the resource. */
function attributeAt(r: ResourceConfig, path: string[]): Attr | undefined {
  const [head, ...rest] = path;
  if (rest.length === 0) return r.attrs[head];
  const attr = r.attrs[head];
  if (attr && attr.expr.kind === "object") {
    const item = attr.expr.items.find((i) => literalString(i.key) === rest[0]);
    const base = attr.expr.pos.offset;
    if (item) return { ...attr, name: `${head}.${rest[0]}`, expr: item.value, pos: item.value.pos, source: attr.source.slice(item.value.pos.offset - base, item.value.end.offset - base) };
  }
  const block = r.blocks.find((b) => b.type === head);
  return block?.attrs[rest[0]];
}

function vmBoot(scope: ModuleScope, r: ResourceConfig, key: Parameters<ModuleScope["instanceScope"]>[0], spec: ComputeSpec, problems: PlanProblem[]): BootPayload {
  for (const u of spec.userData ?? []) {
    let attr = attributeAt(r, u.path);
    if (!attr) continue;
    if (u.fileResource) {
      // The attribute names a file resource of the template: its content is the user data.
      const { type, content } = u.fileResource;
      const ref = references(attr.expr).find((x) => x.parts[0] === type);
      const file = ref ? scope.resourcesByAddress.get(`${type}.${String(ref.parts[1])}`) : undefined;
      const data = file && attributeAt(file, content);
      if (!data) continue;
      attr = data;
    }
    const attribute = u.path.join(".");
    let v: Value;
    try {
      v = scope.evalAttr(attr, scope.instanceScope(key));
    } catch (err) {
      const p = errorProblem(err, attr);
      problems.push(p);
      return { kind: "error", attribute, message: p.message, attr };
    }
    if (!v.isKnown) return { kind: "unknown", attribute, reason: v.unknownReason ?? attribute, attr };
    if (v.isNull) continue;
    let text: string;
    try {
      text = convert(v, STRING).asString();
    } catch {
      return { kind: "error", attribute, message: `${attribute} is not a string`, attr };
    }
    if (u.base64) text = Buffer.from(text, "base64").toString("utf8");
    text = maybeGunzip(text);
    if (u.container) return { kind: "containers", containers: gceContainers(text), attr };
    return { kind: "user-data", attribute, text, asScript: !!u.script, windows: !!u.windows || /^\s*<(powershell|script)>/i.test(text), attr };
  }
  return { kind: "none" };
}

/** cloud-init reads gzip-compressed user data (and base64 of it, from cloudinit_config). */
function maybeGunzip(text: string): string {
  const raw = Buffer.from(text, "latin1");
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw).toString("utf8");
    } catch {
      return text;
    }
  }
  if (/^H4sI[A-Za-z0-9+/=\s]+$/.test(text.trim())) {
    try {
      return gunzipSync(Buffer.from(text, "base64")).toString("utf8");
    } catch {
      return text;
    }
  }
  return text;
}

/** The container of a `gce-container-declaration` (spec.containers[0]). */
function gceContainers(yamlText: string): ContainerSpec[] {
  const cmd = /command:\s*\n((?:\s*-\s*.+\n?)+)/.exec(yamlText);
  const args = /args:\s*\n((?:\s*-\s*.+\n?)+)/.exec(yamlText);
  const list = (m: RegExpExecArray | null) => (m ? m[1].split("\n").map((l) => l.replace(/^\s*-\s*/, "").replace(/^["']|["']$/g, "")).filter((l) => l !== "") : []);
  const env: Record<string, Maybe<string>> = {};
  for (const m of yamlText.matchAll(/-\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\n\s*value:\s*"?([^"\n]*)"?/g)) env[m[1]] = known(m[2]);
  return [{ name: "gce-container", argv: known([...list(cmd), ...list(args)]), env, hosts: {} }];
}

/** Values of a container resource: docker_container or a kubernetes workload's containers. */
function containerBoot(scope: ModuleScope, r: ResourceConfig, key: Parameters<ModuleScope["instanceScope"]>[0], problems: PlanProblem[]): BootPayload {
  const iscope = scope.instanceScope(key);
  // The first attribute that does not evaluate: the boot is then an error, as Terraform's plan fails.
  let failed: { attribute: string; attr?: Attr; message: string } | undefined;
  const guarded = (where: Attr | ResourceConfig, fn: () => Value | undefined, what: string): Value | undefined => {
    try {
      return fn();
    } catch (err) {
      const p = errorProblem(err, where);
      problems.push(p);
      failed ??= { attribute: what, attr: "expr" in where ? where : undefined, message: p.message };
      return Value.unknown(STRING, `${r.address}.${what} (could not be evaluated)`);
    }
  };
  const orError = (boot: BootPayload): BootPayload => (failed ? { kind: "error", ...failed } : boot);
  const evalOr = (a: Attr | undefined): Value | undefined => (a ? guarded(a, () => scope.evalAttr(a, iscope), a.name) : undefined);
  const strings = (v: Value | undefined): Maybe<string[]> => {
    if (!v || v.isNull) return known([]);
    if (!v.isWhollyKnown()) return unknownOf(v.unknownReason ?? r.address);
    return known(v.asArray().map((x) => (x.isNull ? "" : convert(x, STRING).asString())));
  };
  const str = (v: Value | undefined): string | undefined => (v && v.isKnown && !v.isNull ? convert(v, STRING).asString() : undefined);
  if (r.type === "docker_container") {
    const entrypoint = strings(evalOr(r.attrs.entrypoint));
    const command = strings(evalOr(r.attrs.command));
    const argv: Maybe<string[]> = !entrypoint.known ? entrypoint : !command.known ? command : known([...entrypoint.value, ...command.value]);
    const env: Record<string, Maybe<string>> = {};
    const envVal = evalOr(r.attrs.env);
    if (envVal && !envVal.isNull) {
      if (!envVal.isKnown) env["*"] = unknownOf(envVal.unknownReason ?? `${r.address}.env`);
      else {
        for (const e of envVal.asArray()) {
          if (!e.isKnown) {
            env[`?${Object.keys(env).length}`] = unknownOf(e.unknownReason ?? `${r.address}.env`);
            continue;
          }
          const s = convert(e, STRING).asString();
          const eq = s.indexOf("=");
          if (eq > 0) env[s.slice(0, eq)] = known(s.slice(eq + 1));
        }
      }
    }
    const hosts: Record<string, string> = {};
    for (const b of blockViews(scope, iscope, r, "host")) {
      const h = str(guarded(r, () => b.value("host"), "host"));
      const ip = str(guarded(r, () => b.value("ip"), "host"));
      if (h) hosts[h] = ip ?? "";
    }
    const spec: ContainerSpec = { name: r.name, image: str(evalOr(r.attrs.image)), argv, env, user: str(evalOr(r.attrs.user)), workingDir: str(evalOr(r.attrs.working_dir)), hosts };
    return orError({ kind: "containers", containers: [imageHandOver(spec)], attr: r.attrs.entrypoint ?? r.attrs.command });
  }
  // Kubernetes: spec { container {…} } (pod) or spec { template { spec { container {…} } } }.
  const specBlock = r.blocks.find((b) => b.type === "spec");
  const podSpec = specBlock?.blocks.find((b) => b.type === "template")?.blocks.find((b) => b.type === "spec") ?? specBlock;
  if (!podSpec) return { kind: "containers", containers: [] };
  const views = (parent: { blocks: BlockConfig[] }, type: string) => {
    try {
      return blockViews(scope, iscope, parent, type);
    } catch (err) {
      problems.push(errorProblem(err, r));
      return [];
    }
  };
  const podSc = views(podSpec, "security_context")[0];
  const podRunAs = str(guarded(r, () => podSc?.value("run_as_user"), "security_context"));
  const hosts: Record<string, string> = {};
  for (const ha of views(podSpec, "host_aliases")) {
    const ip = str(guarded(r, () => ha.value("ip"), "host_aliases")) ?? "";
    const names = strings(guarded(r, () => ha.value("hostnames"), "host_aliases"));
    if (names.known) for (const n of names.value) hosts[n] = ip;
  }
  const containers: ContainerSpec[] = [];
  let commandAttr: Attr | undefined;
  for (const c of views(podSpec, "container")) {
    commandAttr ??= c.attr("command") ?? c.attr("args");
    const val = (name: string) => guarded(c.attr(name) ?? r, () => c.value(name), `container.${name}`);
    const command = strings(val("command"));
    const args = strings(val("args"));
    const argv: Maybe<string[]> = !command.known ? command : !args.known ? args : known([...command.value, ...args.value]);
    const env: Record<string, Maybe<string>> = {};
    for (const e of c.blocks("env")) {
      const name = str(guarded(r, () => e.value("name"), "env.name"));
      if (!name) continue;
      if (e.has("value")) {
        const v = guarded(r, () => e.value("value"), `env ${name}`);
        env[name] = v && !v.isKnown ? unknownOf(v.unknownReason ?? name) : known(str(v) ?? "");
        continue;
      }
      const ref = e.blocks("value_from")[0]?.blocks("secret_key_ref")[0];
      if (ref) env[name] = secretValue(scope, () => ref.value("name"), () => ref.value("key"), problems, r);
      // value_from.field_ref / resource_field_ref: known to the pod only (not the agent's variables).
    }
    for (const from of c.blocks("env_from")) envFrom(scope, from, env, problems, r);
    const sc = c.blocks("security_context")[0];
    const runAs = str(guarded(r, () => sc?.value("run_as_user"), "security_context")) ?? podRunAs;
    const spec: ContainerSpec = { name: str(val("name")) ?? "container", image: str(val("image")), argv, env, user: runAs, workingDir: str(val("working_dir")), hosts };
    containers.push(imageHandOver(spec));
  }
  return orError({ kind: "containers", containers, attr: commandAttr });
}

/**
 * Images whose own entrypoint hands the container over to a script from its environment: envbuilder
 * builds the devcontainer, then runs ENVBUILDER_INIT_SCRIPT with ENVBUILDER_INIT_COMMAND (default
 * /bin/sh -c) and the container's environment; envbox starts an inner container from
 * CODER_INNER_IMAGE and runs CODER_BOOTSTRAP_SCRIPT in it as CODER_INNER_USERNAME, passing the agent's
 * token and URL (and CODER_INNER_ENVS) on. The container is planned as that hand-over: the build and
 * the inner container are the image's business, the init script's start is the template's.
 */
function imageHandOver(c: ContainerSpec): ContainerSpec {
  const image = c.image ?? "";
  const argv = c.argv.known ? c.argv.value : undefined;
  const envText = (k: string) => (c.env[k]?.known ? (c.env[k] as { value: string }).value : undefined);
  if ("ENVBUILDER_INIT_SCRIPT" in c.env && argv?.length === 0 && (/envbuilder/.test(image) || image === "")) {
    const script = c.env.ENVBUILDER_INIT_SCRIPT;
    const command = envText("ENVBUILDER_INIT_COMMAND") ?? "/bin/sh";
    const args = envText("ENVBUILDER_INIT_ARGS");
    const env = Object.fromEntries(Object.entries(c.env).filter(([k]) => !k.startsWith("ENVBUILDER_")));
    const handed: Maybe<string[]> = !script.known ? script : known([command, ...(args !== undefined ? args.split(/\s+/).filter(Boolean) : ["-c", script.value])]);
    return { ...c, argv: handed, env, via: "envbuilder runs ENVBUILDER_INIT_SCRIPT once the devcontainer is built" };
  }
  if ("CODER_BOOTSTRAP_SCRIPT" in c.env && (/envbox/.test(image) || (argv?.[0] ?? "").endsWith("envbox"))) {
    const script = c.env.CODER_BOOTSTRAP_SCRIPT;
    const env: Record<string, Maybe<string>> = {};
    for (const k of ["CODER_AGENT_TOKEN", "CODER_AGENT_URL", "CODER_AGENT_SUBSYSTEM"]) if (c.env[k]) env[k] = c.env[k];
    for (const name of (envText("CODER_INNER_ENVS") ?? "").split(",").map((x) => x.trim()).filter(Boolean)) if (c.env[name]) env[name] = c.env[name];
    return {
      ...c,
      image: envText("CODER_INNER_IMAGE") ?? c.image,
      argv: !script.known ? script : known(["/bin/sh", "-c", script.value]),
      env,
      user: envText("CODER_INNER_USERNAME") ?? "root",
      via: "envbox runs CODER_BOOTSTRAP_SCRIPT in its inner container",
    };
  }
  return c;
}

/** The data of the template's kubernetes_secret (or config map) named `name`: undefined when the template has none. */
function kubernetesData(scope: ModuleScope, name: string, types: string[]): { data: Map<string, Value>; address: string } | { unknown: string } | undefined {
  for (const r of scope.config.resources.filter((x) => types.includes(x.type))) {
    const meta = r.blocks.find((b) => b.type === "metadata");
    const objectName = meta?.attrs.name ? scope.evalAttr(meta.attrs.name) : undefined;
    if (!objectName?.isKnown || objectName.asString() !== name) continue;
    const data = r.attrs.data ?? r.attrs.string_data;
    if (!data) return { data: new Map(), address: r.address };
    const d = scope.evalAttr(data);
    if (!d.isKnown) return { unknown: d.unknownReason ?? r.address };
    return { data: d.isNull ? new Map() : d.asMap(), address: r.address };
  }
  return undefined;
}

const SECRETS = ["kubernetes_secret", "kubernetes_secret_v1"];
const CONFIG_MAPS = ["kubernetes_config_map", "kubernetes_config_map_v1"];

/** A `value_from.secret_key_ref` resolved against the template's kubernetes_secret resources. */
function secretValue(scope: ModuleScope, nameOf: () => Value | undefined, keyOf: () => Value | undefined, problems: PlanProblem[], at: ResourceConfig): Maybe<string> {
  try {
    const name = nameOf();
    const key = keyOf();
    if (!name?.isKnown || !key?.isKnown) return unknownOf("secret_key_ref name or key");
    const found = kubernetesData(scope, name.asString(), SECRETS);
    if (!found) return unknownOf(`kubernetes secret ${JSON.stringify(name.asString())} (not a resource of this template)`);
    if ("unknown" in found) return unknownOf(found.unknown);
    const v = found.data.get(key.asString());
    // Kubernetes refuses to start the container (CreateContainerConfigError): the variable is absent.
    if (!v) return { known: false, absent: true, reason: `${found.address} has no key ${JSON.stringify(key.asString())} (keys: ${[...found.data.keys()].join(", ")}): Kubernetes does not start the container` };
    if (!v.isKnown) return unknownOf(v.unknownReason ?? found.address);
    return known(convert(v, STRING).asString());
  } catch (err) {
    problems.push(errorProblem(err, at));
    return unknownOf("secret_key_ref could not be evaluated");
  }
}

/** `env_from { secret_ref | config_map_ref }`: every key of the object becomes a variable (with `prefix`). */
function envFrom(scope: ModuleScope, from: BlockView, env: Record<string, Maybe<string>>, problems: PlanProblem[], at: ResourceConfig): void {
  try {
    const prefixVal = from.value("prefix");
    const prefix = prefixVal?.isKnown && !prefixVal.isNull ? convert(prefixVal, STRING).asString() : "";
    for (const [block, types] of [["secret_ref", SECRETS], ["config_map_ref", CONFIG_MAPS]] as const) {
      for (const ref of from.blocks(block)) {
        const name = ref.value("name");
        const found = name?.isKnown && !name.isNull ? kubernetesData(scope, convert(name, STRING).asString(), [...types]) : undefined;
        // Not known here (or not in this template): any variable may come from it.
        if (!found || "unknown" in found) {
          env[`?${Object.keys(env).length}`] = unknownOf(found && "unknown" in found ? found.unknown : `${block} ${name?.isKnown ? convert(name, STRING).asString() : "(unknown name)"}`);
          continue;
        }
        // An explicit `env` of the container wins over env_from.
        for (const [k, v] of found.data) if (!(prefix + k in env)) env[prefix + k] = v.isKnown ? known(v.isNull ? "" : convert(v, STRING).asString()) : unknownOf(v.unknownReason ?? found.address);
      }
    }
  } catch (err) {
    problems.push(errorProblem(err, at));
  }
}

/**
 * Files Incus/LXD write into an instance before starting it: the instance's `file` blocks and
 * `incus_instance_file`/`lxd_instance_file` resources naming it (content, or a local source_path).
 */
function instanceFiles(config: ModuleConfig, scope: ModuleScope, vm: ResourceConfig, key: Parameters<ModuleScope["instanceScope"]>[0], problems: PlanProblem[]): InstanceFile[] {
  if (!/^(incus|lxd)_instance$/.test(vm.type)) return [];
  const out: InstanceFile[] = [];
  const read = (at: { file: string; pos: { line: number } }, content: () => Value | undefined, source: () => Value | undefined, target: () => Value | undefined) => {
    try {
      const t = target();
      if (!t?.isKnown || t.isNull) return;
      const c = content();
      let text: string | undefined;
      if (c && c.isKnown && !c.isNull) text = convert(c, STRING).asString();
      else {
        const src = source();
        if (src?.isKnown && !src.isNull) text = readFileSync(resolve(scope.config.dir, convert(src, STRING).asString()), "utf8");
      }
      if (text !== undefined) out.push({ path: convert(t, STRING).asString(), content: text });
    } catch (err) {
      if (err instanceof EvalError) problems.push(errorProblem(err, at));
      // an unreadable source_path: Terraform's apply fails on it; nothing to put in the instance here
    }
  };
  const iscope = scope.instanceScope(key);
  for (const b of blockViews(scope, iscope, vm, "file")) read(vm, () => b.value("content"), () => b.value("source_path") ?? b.value("source"), () => b.value("target_path") ?? b.value("target_file"));
  for (const r of config.resources.filter((x) => x.mode === "managed" && (x.type === "incus_instance_file" || x.type === "lxd_instance_file"))) {
    const inst = r.attrs.instance ?? r.attrs.instance_name;
    if (!inst || !references(inst.expr).some((ref) => `${ref.parts[0]}.${ref.parts[1]}` === vm.address)) continue;
    const e = scope.expansion(r);
    if (e.kind === "count" && e.count === 0) continue;
    const fscope = scope.instanceScope(e.kind === "count" ? { countIndex: 0 } : {});
    const ev = (a: Attr | undefined) => (a ? scope.evalAttr(a, fscope) : undefined);
    read(r, () => ev(r.attrs.content), () => ev(r.attrs.source_path ?? r.attrs.source), () => ev(r.attrs.target_path ?? r.attrs.target_file));
  }
  return out;
}

/** Device paths the OS shows for disks the template attaches to a VM. */
function attachedDevices(config: ModuleConfig, scope: ModuleScope, vm: ResourceConfig): string[] {
  const refersTo = (a: Attr | undefined) => !!a && references(a.expr).some((ref) => `${ref.parts[0]}.${ref.parts[1]}` === vm.address);
  const lit = (a: Attr | undefined): string | undefined => {
    if (!a) return undefined;
    try {
      const v = scope.evalAttr(a);
      return v.isKnown && !v.isNull ? convert(v, STRING).asString() : undefined;
    } catch {
      return undefined;
    }
  };
  const out: string[] = [];
  for (const r of config.resources) {
    if (r.type === "azurerm_virtual_machine_data_disk_attachment" && refersTo(r.attrs.virtual_machine_id)) {
      const lun = lit(r.attrs.lun);
      if (lun !== undefined) out.push(`/dev/disk/azure/scsi1/lun${lun}`);
    }
    if (r.type === "aws_volume_attachment" && refersTo(r.attrs.instance_id)) {
      const dev = lit(r.attrs.device_name);
      if (dev) out.push(dev, dev.replace(/^\/dev\/(sd|xvd)/, "/dev/xvd"), "/dev/nvme1n1");
    }
  }
  const valueOf = (a: Attr | undefined): Value | undefined => {
    try {
      return a ? scope.evalAttr(a) : undefined;
    } catch {
      return undefined;
    }
  };
  for (const r of config.resources) {
    // Hetzner: a volume shows as /dev/disk/by-id/scsi-0HC_Volume_<volume id>.
    if (r.type === "hcloud_volume_attachment" && refersTo(r.attrs.server_id)) {
      const id = lit(r.attrs.volume_id);
      if (id) out.push(`/dev/disk/by-id/scsi-0HC_Volume_${id}`);
    }
    if (r.type === "google_compute_attached_disk" && refersTo(r.attrs.instance)) {
      const name = lit(r.attrs.device_name);
      if (name) out.push(`/dev/disk/by-id/google-${name}`);
    }
    // DigitalOcean: a volume shows as /dev/disk/by-id/scsi-0DO_Volume_<volume name>.
    if (r.type === "digitalocean_volume_attachment" && refersTo(r.attrs.droplet_id)) {
      const vol = r.attrs.volume_id && references(r.attrs.volume_id.expr).find((x) => x.parts[0] === "digitalocean_volume");
      const res = vol && scope.resourcesByAddress.get(`digitalocean_volume.${String(vol.parts[1])}`);
      const name = res && lit(res.attrs.name);
      if (name) out.push(`/dev/disk/by-id/scsi-0DO_Volume_${name}`);
    }
  }
  if (vm.type === "digitalocean_droplet" && vm.attrs.volume_ids) {
    for (const ref of references(vm.attrs.volume_ids.expr).filter((x) => x.parts[0] === "digitalocean_volume")) {
      const res = scope.resourcesByAddress.get(`digitalocean_volume.${String(ref.parts[1])}`);
      const name = res && lit(res.attrs.name);
      if (name) out.push(`/dev/disk/by-id/scsi-0DO_Volume_${name}`);
    }
  }
  // azurerm_virtual_machine attaches its data disks inline.
  for (const b of vm.blocks.filter((x) => x.type === "storage_data_disk")) {
    const lun = valueOf(b.attrs.lun);
    if (lun?.isKnown && !lun.isNull) out.push(`/dev/disk/azure/scsi1/lun${convert(lun, STRING).asString()}`);
  }
  for (const b of vm.blocks.filter((x) => x.type === "attached_disk")) {
    const name = lit(b.attrs.device_name);
    if (name) out.push(`/dev/disk/by-id/google-${name}`);
  }
  for (const b of vm.blocks.filter((x) => x.type === "ebs_block_device")) {
    const dev = lit(b.attrs.device_name);
    if (dev) out.push(dev, "/dev/nvme1n1");
  }
  return [...new Set(out)];
}

/** The coder_agent names an expression reaches through locals, data sources and other resources, by distance. */
function agentDistances(config: ModuleConfig, scope: ModuleScope, start: Expr[], accept: (parts: string[]) => boolean = () => true): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<string>();
  let frontier = start;
  for (let depth = 1; frontier.length > 0 && depth < 32; depth++) {
    const next: Expr[] = [];
    for (const e of frontier) {
      for (const ref of references(e)) {
        const [root, a, b] = ref.parts.map(String);
        if (root === "coder_agent" && a) {
          if (!out.has(a) && accept(ref.parts.map(String))) out.set(a, depth);
          continue;
        }
        let id: string;
        let exprs: Expr[] = [];
        if (root === "local" && a) {
          id = `local.${a}`;
          if (config.locals[a]) exprs = [config.locals[a].expr];
        } else if (root === "data" && a && b) {
          id = `data.${a}.${b}`;
          const r = scope.resourcesByAddress.get(id);
          if (r) exprs = resourceExprs(r);
        } else if (root !== "var" && root !== "path" && root !== "count" && root !== "each" && root !== "terraform" && root !== "module" && a) {
          id = `${root}.${a}`;
          const r = scope.resourcesByAddress.get(id);
          // Another compute resource is a separate node: do not walk through it.
          if (r && !COMPUTE[r.type] && !r.type.startsWith("coder_")) exprs = resourceExprs(r);
        } else continue;
        if (seen.has(id)) continue;
        seen.add(id);
        next.push(...exprs);
      }
    }
    frontier = next;
  }
  return out;
}

function resourceExprs(r: ResourceConfig): Expr[] {
  const out: Expr[] = Object.values(r.attrs).map((a) => a.expr);
  const walk = (blocks: ResourceConfig["blocks"]) => {
    for (const b of blocks) {
      out.push(...Object.values(b.attrs).map((a) => a.expr));
      walk(b.blocks);
    }
  };
  walk(r.blocks);
  walk(r.provisioners ?? []);
  if (r.count) out.push(r.count.expr);
  if (r.forEach) out.push(r.forEach.expr);
  return out;
}

/** Ties agents to instances as coderd does: coder_agent_instance, then the closest dependent compute, then the only one. */
function tieAgents(config: ModuleConfig, scope: ModuleScope, agents: PlannedAgent[], agentByName: Map<string, PlannedAgent>, instances: PlannedInstance[]): void {
  const firstInstance = new Map<ResourceConfig, PlannedInstance>();
  for (const i of instances) if (!firstInstance.has(i.resource)) firstInstance.set(i.resource, i);
  const tie = (agent: PlannedAgent, instance: PlannedInstance, how: PlannedAgent["tie"]) => {
    if (agent.tie !== "none") return;
    agent.instance = instance;
    agent.tie = how;
    instance.agents.push(agent);
  };
  for (const r of config.resources.filter((x) => x.type === "coder_agent_instance")) {
    const agentRef = r.attrs.agent_id && references(r.attrs.agent_id.expr).find((ref) => ref.parts[0] === "coder_agent");
    const instRef = r.attrs.instance_id && references(r.attrs.instance_id.expr).find((ref) => scope.resourcesByAddress.has(`${ref.parts[0]}.${ref.parts[1]}`));
    const agent = agentRef ? agentByName.get(String(agentRef.parts[1])) : undefined;
    const target = instRef ? scope.resourcesByAddress.get(`${instRef.parts[0]}.${instRef.parts[1]}`) : undefined;
    const instance = target ? firstInstance.get(target) : undefined;
    if (agent && instance) tie(agent, instance, "coder_agent_instance");
  }
  // Every non-coder resource that depends on an agent is a candidate (a resource with no instance in
  // this transition is not: it is not in the state coderd reads); the closest compute runs the agent,
  // else the closest other resource holds it (a null_resource, a nomad_job: not something e2e boots).
  const exists = (r: ResourceConfig) => {
    try {
      const e = scope.expansion(r);
      return !((e.kind === "count" && e.count === 0) || (e.kind === "each" && e.keys.size === 0));
    } catch {
      return true;
    }
  };
  const best = new Map<string, { distance: number; resource: ResourceConfig }>();
  const bestCompute = new Map<string, { distance: number; resource: ResourceConfig }>();
  for (const r of config.resources.filter((x) => x.mode === "managed" && !x.type.startsWith("coder_") && exists(x))) {
    for (const [name, distance] of agentDistances(config, scope, resourceExprs(r))) {
      const table = firstInstance.has(r) ? bestCompute : best;
      const prior = table.get(name);
      if (!prior || distance < prior.distance) table.set(name, { distance, resource: r });
    }
  }
  for (const [name, { resource }] of bestCompute) {
    const agent = agentByName.get(name);
    if (agent) tie(agent, firstInstance.get(resource)!, "reference");
  }
  for (const [name, { resource }] of best) {
    const agent = agentByName.get(name);
    if (agent && agent.tie === "none" && !COMPUTE[resource.type]) agent.tiedTo = resource.address;
  }
  const computes = [...firstInstance.values()];
  if (computes.length === 1) for (const a of agents) if (!a.tiedTo) tie(a, computes[0], "only_compute");
}
