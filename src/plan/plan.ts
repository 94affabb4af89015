/**
 * The plan of a template for one workspace: every compute instance (VM or container) with its kind,
 * the agents tied to it as coderd ties them, and its boot payload — user data or container command
 * and environment — rendered, or unknown with the reference that made it so. validate's rules and
 * e2e both read this; nothing else evaluates a template.
 */
import { gunzipSync } from "node:zlib";
import type { Attr, ModuleConfig, ResourceConfig } from "../template/config.js";
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
  userData?: { path: string[]; base64?: boolean; script?: boolean; windows?: boolean; container?: boolean }[];
  windows?: boolean;
}

const AWS_USER_DATA = [
  { path: ["user_data"] },
  { path: ["user_data_base64"], base64: true },
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
export type Maybe<T> = { known: true; value: T } | { known: false; reason: string };

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
}

export type BootPayload =
  | { kind: "user-data"; attribute: string; text: string; asScript: boolean; windows: boolean; attr: Attr }
  | { kind: "containers"; containers: ContainerSpec[]; attr?: Attr }
  | { kind: "unknown"; attribute: string; reason: string; attr: Attr }
  | { kind: "error"; attribute: string; message: string; attr: Attr }
  | { kind: "none" };

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
}

export interface PlanProblem {
  message: string;
  file: string;
  line: number;
}

export interface Plan {
  dir: string;
  config: ModuleConfig;
  scope: ModuleScope;
  context: WorkspaceContext;
  coderVersion: ProviderVersion;
  agents: PlannedAgent[];
  instances: PlannedInstance[];
  unfollowedModules: UnfollowedModule[];
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
      });
    }
  }

  tieAgents(config, scope, agents, agentByName, instances);
  return {
    dir: config.dir,
    config,
    scope,
    context,
    coderVersion: scope.state.coderVersion,
    agents,
    instances,
    unfollowedModules: scope.state.unfollowed,
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
    const attr = attributeAt(r, u.path);
    if (!attr) continue;
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
  let failed: { attr: Attr; message: string } | undefined;
  const evalOr = (a: Attr | undefined): Value | undefined => {
    if (!a) return undefined;
    try {
      return scope.evalAttr(a, iscope);
    } catch (err) {
      const p = errorProblem(err, a);
      problems.push(p);
      failed ??= { attr: a, message: p.message };
      return Value.unknown(STRING, `${r.address}.${a.name} (could not be evaluated)`);
    }
  };
  const orError = (boot: BootPayload): BootPayload => (failed ? { kind: "error", attribute: failed.attr.name, message: failed.message, attr: failed.attr } : boot);
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
    for (const b of r.blocks.filter((x) => x.type === "host")) {
      const h = str(evalOr(b.attrs.host));
      const ip = str(evalOr(b.attrs.ip));
      if (h) hosts[h] = ip ?? "";
    }
    return orError({
      kind: "containers",
      containers: [{ name: r.name, image: str(evalOr(r.attrs.image)), argv, env, user: str(evalOr(r.attrs.user)), workingDir: str(evalOr(r.attrs.working_dir)), hosts }],
      attr: r.attrs.entrypoint ?? r.attrs.command,
    });
  }
  // Kubernetes: spec { container {…} } (pod) or spec { template { spec { container {…} } } }.
  const specBlock = r.blocks.find((b) => b.type === "spec");
  const podSpec = specBlock?.blocks.find((b) => b.type === "template")?.blocks.find((b) => b.type === "spec") ?? specBlock;
  const containers: ContainerSpec[] = [];
  let commandAttr: Attr | undefined;
  for (const c of podSpec?.blocks.filter((b) => b.type === "container") ?? []) {
    commandAttr ??= c.attrs.command ?? c.attrs.args;
    const command = strings(evalOr(c.attrs.command));
    const args = strings(evalOr(c.attrs.args));
    const argv: Maybe<string[]> = !command.known ? command : !args.known ? args : known([...command.value, ...args.value]);
    const env: Record<string, Maybe<string>> = {};
    for (const e of c.blocks.filter((b) => b.type === "env")) {
      const name = str(evalOr(e.attrs.name));
      if (!name) continue;
      if (e.attrs.value) {
        const v = evalOr(e.attrs.value);
        env[name] = v && !v.isKnown ? unknownOf(v.unknownReason ?? name) : known(str(v) ?? "");
        continue;
      }
      const ref = e.blocks.find((b) => b.type === "value_from")?.blocks.find((b) => b.type === "secret_key_ref");
      if (ref) env[name] = secretValue(scope, iscope, ref.attrs.name, ref.attrs.key, problems);
    }
    const sc = c.blocks.find((b) => b.type === "security_context");
    const podSc = podSpec?.blocks.find((b) => b.type === "security_context");
    const runAs = str(evalOr(sc?.attrs.run_as_user)) ?? str(evalOr(podSc?.attrs.run_as_user));
    const hosts: Record<string, string> = {};
    for (const ha of podSpec?.blocks.filter((b) => b.type === "host_aliases") ?? []) {
      const ip = str(evalOr(ha.attrs.ip)) ?? "";
      const names = strings(evalOr(ha.attrs.hostnames));
      if (names.known) for (const n of names.value) hosts[n] = ip;
    }
    containers.push({ name: str(evalOr(c.attrs.name)) ?? "container", image: str(evalOr(c.attrs.image)), argv, env, user: runAs, workingDir: str(evalOr(c.attrs.working_dir)), hosts });
  }
  return orError({ kind: "containers", containers, attr: commandAttr });
}

/** A `value_from.secret_key_ref` resolved against the template's kubernetes_secret resources. */
function secretValue(scope: ModuleScope, iscope: ReturnType<ModuleScope["instanceScope"]>, nameAttr: Attr | undefined, keyAttr: Attr | undefined, problems: PlanProblem[]): Maybe<string> {
  try {
    const name = nameAttr ? scope.evalAttr(nameAttr, iscope) : undefined;
    const key = keyAttr ? scope.evalAttr(keyAttr, iscope) : undefined;
    if (!name?.isKnown || !key?.isKnown) return unknownOf("secret_key_ref name or key");
    for (const r of scope.config.resources.filter((x) => x.type === "kubernetes_secret" || x.type === "kubernetes_secret_v1")) {
      const meta = r.blocks.find((b) => b.type === "metadata");
      const secretName = meta?.attrs.name ? scope.evalAttr(meta.attrs.name) : undefined;
      if (!secretName?.isKnown || secretName.asString() !== name.asString()) continue;
      const data = r.attrs.data ?? r.attrs.string_data;
      if (!data) continue;
      const d = scope.evalAttr(data);
      if (!d.isKnown) return unknownOf(d.unknownReason ?? r.address);
      const v = d.asMap().get(key.asString());
      if (!v) return unknownOf(`${r.address}.data has no key ${JSON.stringify(key.asString())}`);
      if (!v.isKnown) return unknownOf(v.unknownReason ?? r.address);
      return known(convert(v, STRING).asString());
    }
    return unknownOf(`kubernetes secret ${JSON.stringify(name.asString())} (not a resource of this template)`);
  } catch (err) {
    problems.push(errorProblem(err, nameAttr ?? { file: scope.config.files[0] ?? "", pos: { line: 1 } }));
    return unknownOf("secret_key_ref could not be evaluated");
  }
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
function agentDistances(config: ModuleConfig, scope: ModuleScope, start: Expr[]): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<string>();
  let frontier = start;
  for (let depth = 1; frontier.length > 0 && depth < 32; depth++) {
    const next: Expr[] = [];
    for (const e of frontier) {
      for (const ref of references(e)) {
        const [root, a, b] = ref.parts.map(String);
        if (root === "coder_agent" && a) {
          if (!out.has(a)) out.set(a, depth);
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
  // Every non-coder resource that depends on an agent is a candidate; the closest one holds it.
  const best = new Map<string, { distance: number; resource: ResourceConfig }>();
  for (const r of config.resources.filter((x) => x.mode === "managed" && !x.type.startsWith("coder_"))) {
    for (const [name, distance] of agentDistances(config, scope, resourceExprs(r))) {
      const prior = best.get(name);
      if (!prior || distance < prior.distance || (distance === prior.distance && COMPUTE[r.type] && !COMPUTE[prior.resource.type])) best.set(name, { distance, resource: r });
    }
  }
  for (const [name, { resource }] of best) {
    const agent = agentByName.get(name);
    if (!agent) continue;
    const instance = firstInstance.get(resource);
    if (instance) tie(agent, instance, "reference");
    else if (agent.tie === "none" && !COMPUTE[resource.type]) agent.tiedTo = resource.address;
  }
  const computes = [...firstInstance.values()];
  if (computes.length === 1) for (const a of agents) if (!a.tiedTo) tie(a, computes[0], "only_compute");
}
