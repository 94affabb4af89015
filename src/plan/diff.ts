/**
 * What Terraform would do to each compute instance between two plans of one workspace — a prebuild
 * and its claim, or two consecutive builds: every argument of the instance is evaluated in both plans
 * and compared, changes under `lifecycle { ignore_changes }` are dropped, and each remaining change is
 * classified with the provider's own rule (REPLACEMENT): it forces replacement (a new machine or
 * container) or it is updated in place (and whether that restarts the running machine).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Attr, BlockConfig, ModuleConfig } from "../template/config.js";
import { convert, EvalError, STRING, type Value } from "../template/hcl/index.js";
import { workspaceContext, type ContextOptions, type WorkspaceContext } from "./context.js";
import { type Plan, type PlannedInstance, planTemplate } from "./plan.js";

/** An argument's value in one plan: known (as canonical text), or known only after apply. */
export type ArgumentValue = { known: true; text: string; sensitive: boolean } | { known: false; reason: string };

/**
 * How a provider applies a changed argument of a compute resource. `forceNew` lists the top-level
 * arguments whose change replaces the resource ("*": all but `inPlace`); `forceNewPaths` nested ones
 * (block indexes dropped); `forceNewWhen` arguments that replace it only when a flag argument is true.
 */
interface ProviderBehaviour {
  forceNew: string[] | "*";
  inPlace?: string[];
  forceNewPaths?: string[][];
  forceNewWhen?: Record<string, { flag: string; default: boolean }>;
  /** In-place changes of these stop and start the machine (the new value is there after a reboot). */
  restartOn?: string[];
  /** In-place changes under these replace the pods (a rollout: new containers from the new spec). */
  rolloutOn?: string[];
}

const K8S_META: string[][] = [
  ["metadata", "name"],
  ["metadata", "namespace"],
];

/** Per compute type, from the providers' schemas (ForceNew) and update functions. */
export const REPLACEMENT: Record<string, ProviderBehaviour> = {
  // hashicorp/aws internal/service/ec2/ec2_instance.go: user_data(_base64) updates in place (the
  // provider stops the instance, modifies the attribute, starts it) unless user_data_replace_on_change.
  aws_instance: {
    forceNew: ["ami", "availability_zone", "subnet_id", "key_name", "placement_group", "private_ip", "tenancy", "host_id", "ebs_block_device", "ephemeral_block_device", "network_interface", "security_groups", "associate_public_ip_address", "cpu_core_count", "cpu_threads_per_core", "cpu_options", "launch_template", "ipv6_address_count", "ipv6_addresses", "instance_initiated_shutdown_behavior", "hibernation"],
    forceNewWhen: { user_data: { flag: "user_data_replace_on_change", default: false }, user_data_base64: { flag: "user_data_replace_on_change", default: false } },
    restartOn: ["user_data", "user_data_base64", "instance_type"],
  },
  // hashicorp/aws ec2_spot_instance_request.go: every argument of a spot request is ForceNew except tags.
  aws_spot_instance_request: { forceNew: "*", inPlace: ["tags", "tags_all"] },
  // hashicorp/google compute/resource_compute_instance.go: metadata (startup-script included) updates
  // in place without a reboot; metadata_startup_script is ForceNew.
  google_compute_instance: {
    forceNew: ["name", "zone", "project", "metadata_startup_script", "boot_disk", "scratch_disk", "hostname", "can_ip_forward", "description", "network_interface", "reservation_affinity", "guest_accelerator"],
    restartOn: ["machine_type", "service_account", "min_cpu_platform"],
  },
  // hashicorp/azurerm compute/linux_virtual_machine_resource.go: custom_data is ForceNew, user_data is not.
  azurerm_linux_virtual_machine: {
    forceNew: ["name", "location", "resource_group_name", "admin_username", "admin_password", "admin_ssh_key", "computer_name", "custom_data", "source_image_reference", "source_image_id", "os_disk", "zone", "availability_set_id", "platform_fault_domain", "disable_password_authentication", "virtual_machine_scale_set_id"],
    restartOn: ["size"],
  },
  azurerm_windows_virtual_machine: {
    forceNew: ["name", "location", "resource_group_name", "admin_username", "admin_password", "computer_name", "custom_data", "source_image_reference", "source_image_id", "os_disk", "zone", "availability_set_id", "platform_fault_domain", "virtual_machine_scale_set_id"],
    restartOn: ["size"],
  },
  // hashicorp/azurerm compute/virtual_machine_resource.go (legacy): os_profile (custom_data) is ForceNew.
  azurerm_virtual_machine: { forceNew: ["name", "location", "resource_group_name", "os_profile", "storage_image_reference", "storage_os_disk", "zones", "availability_set_id"], restartOn: ["vm_size"] },
  // digitalocean/digitalocean droplet, hetznercloud/hcloud server, openstack compute_instance_v2: user_data is ForceNew.
  digitalocean_droplet: { forceNew: ["user_data", "image", "region", "ssh_keys", "ipv6", "vpc_uuid"], restartOn: ["size"] },
  hcloud_server: { forceNew: ["user_data", "location", "datacenter", "ssh_keys"], restartOn: ["server_type"] },
  openstack_compute_instance_v2: { forceNew: ["user_data", "image_id", "image_name", "availability_zone", "key_pair", "config_drive", "network"], restartOn: ["flavor_id", "flavor_name"] },
  // kreuzwerker/docker resource_docker_container.go: the update function changes only these; every
  // other argument is ForceNew.
  docker_container: { forceNew: "*", inPlace: ["restart", "max_retry_count", "cpu_shares", "cpu_set", "memory", "memory_swap"] },
  // hashicorp/kubernetes: a Deployment/StatefulSet is updated in place (its pod template change rolls
  // the pods); metadata name/namespace and immutable selectors are ForceNew. A Pod's spec is ForceNew.
  kubernetes_deployment: { forceNew: [], forceNewPaths: [...K8S_META, ["spec", "selector"]], rolloutOn: ["spec"] },
  kubernetes_deployment_v1: { forceNew: [], forceNewPaths: [...K8S_META, ["spec", "selector"]], rolloutOn: ["spec"] },
  kubernetes_stateful_set: { forceNew: [], forceNewPaths: [...K8S_META, ["spec", "selector"], ["spec", "service_name"], ["spec", "volume_claim_template"], ["spec", "pod_management_policy"]], rolloutOn: ["spec"] },
  kubernetes_stateful_set_v1: { forceNew: [], forceNewPaths: [...K8S_META, ["spec", "selector"], ["spec", "service_name"], ["spec", "volume_claim_template"], ["spec", "pod_management_policy"]], rolloutOn: ["spec"] },
  kubernetes_pod: { forceNew: ["spec"], forceNewPaths: K8S_META },
  kubernetes_pod_v1: { forceNew: ["spec"], forceNewPaths: K8S_META },
};

export type ChangeEffect = "replace" | "update" | "unknown";

export interface ArgumentChange {
  /** Terraform's path of the argument: `user_data`, `tags["Name"]`, `metadata[0].name`. */
  path: string;
  before: ArgumentValue;
  after: ArgumentValue;
  effect: ChangeEffect;
  /** Dropped by the resource's lifecycle.ignore_changes (Terraform keeps the old value). */
  ignored: boolean;
  /** An in-place change that restarts the machine or replaces its pods. */
  restarts: boolean;
}

export interface InstanceChange {
  address: string;
  kind: string;
  /** Terraform's action for the instance (ignored changes excluded). */
  action: "create" | "delete" | "replace" | "update" | "none";
  /** The instance in each plan (absent where it does not exist). */
  before?: PlannedInstance;
  after?: PlannedInstance;
  changes: ArgumentChange[];
  /** Whether an in-place update restarts the running machine (or rolls its pods). */
  restarts: boolean;
}

const META_ARGUMENTS = new Set(["depends_on", "provider", "count", "for_each"]);

/** Terraform path segments of `a.b["c"][0]` → ["a", "b", "c", "0"]. */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  for (const m of path.matchAll(/([^.[\]"]+)|\["([^"]*)"\]|\[(\d+)\]/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const isIndex = (s: string) => /^\d+$/.test(s);

/** Canonical text of a wholly known value (keys sorted, numbers exact). */
function canonical(v: Value): string {
  if (v.isNull) return "null";
  switch (v.type.kind) {
    case "string":
      return JSON.stringify(v.asString());
    case "number":
      return v.asNumber().toString();
    case "bool":
      return String(v.asBool());
  }
  if (Array.isArray(v.raw)) return `[${v.raw.map(canonical).join(",")}]`;
  if (v.raw instanceof Map) return `{${[...v.raw].map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  return JSON.stringify(String(v.raw));
}

function argumentValue(v: Value): ArgumentValue {
  if (!v.isWhollyKnown()) return { known: false, reason: v.unknownReason ?? "a value known only after apply" };
  return { known: true, text: canonical(v.unmarkDeep()), sensitive: v.isDeepSensitive() };
}

/** Every argument of a compute instance in a plan: maps flattened one level, blocks by index. */
export function instanceArguments(plan: Plan, inst: PlannedInstance): Map<string, ArgumentValue> {
  const scope = plan.scope;
  const iscope = scope.instanceScope(inst.key);
  const out = new Map<string, ArgumentValue>();
  const put = (path: string, a: Attr) => {
    let v: Value;
    try {
      v = scope.evalAttr(a, iscope);
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      out.set(path, { known: false, reason: `it cannot be evaluated: ${err.message}` });
      return;
    }
    const kind = v.type.kind;
    if ((kind === "map" || kind === "object") && v.isKnown && !v.isNull && v.raw instanceof Map) {
      for (const [k, x] of v.asMap()) out.set(`${path}[${JSON.stringify(k)}]`, argumentValue(x));
      if (v.asMap().size === 0) out.set(path, argumentValue(v));
    } else out.set(path, argumentValue(v));
  };
  const walk = (prefix: string, attrs: Record<string, Attr>, blocks: BlockConfig[]) => {
    for (const [name, a] of Object.entries(attrs)) if (!(prefix === "" && META_ARGUMENTS.has(name))) put(prefix + name, a);
    const seen = new Map<string, number>();
    for (const b of blocks) {
      const i = seen.get(b.type) ?? 0;
      seen.set(b.type, i + 1);
      walk(`${prefix}${b.type}[${i}].`, b.attrs, b.blocks);
    }
  };
  walk("", inst.resource.attrs, inst.resource.blocks);
  return out;
}

const sameValue = (a: ArgumentValue | undefined, b: ArgumentValue | undefined): boolean => {
  if (!a || !b) return !a && !b;
  if (!a.known || !b.known) return true; // not known before apply: no difference Terraform can show now
  return a.text === b.text;
};

/** Whether `ignore_changes` covers the argument at `path`. */
export function ignoredBy(ignore: string[] | "all" | undefined, path: string): boolean {
  if (!ignore) return false;
  if (ignore === "all") return true;
  const segs = pathSegments(path);
  return ignore.some((entry) => {
    const e = pathSegments(entry);
    return e.length > 0 && e.length <= segs.length && e.every((s, i) => s === segs[i]);
  });
}

function effectOf(kind: string, path: string, after: Plan, inst: PlannedInstance): { effect: ChangeEffect; restarts: boolean } {
  const spec = REPLACEMENT[kind];
  if (!spec) return { effect: "unknown", restarts: false };
  const segs = pathSegments(path);
  const top = segs[0];
  const named = segs.filter((s) => !isIndex(s));
  const restarts = !!spec.restartOn?.includes(top) || !!spec.rolloutOn?.includes(top);
  const when = spec.forceNewWhen?.[top];
  if (when) {
    const flagAttr = inst.resource.attrs[when.flag];
    let flag = when.default;
    if (flagAttr) {
      try {
        const v = after.scope.evalAttr(flagAttr, after.scope.instanceScope(inst.key));
        if (v.isKnown && !v.isNull) flag = convert(v, { kind: "bool" }).asBool();
      } catch {
        // an error is the evaluation rule's finding; keep the provider's default
      }
    }
    return flag ? { effect: "replace", restarts: false } : { effect: "update", restarts };
  }
  if (spec.forceNewPaths?.some((p) => p.every((s, i) => named[i] === s))) return { effect: "replace", restarts: false };
  if (spec.forceNew === "*") return spec.inPlace?.includes(top) ? { effect: "update", restarts } : { effect: "replace", restarts: false };
  return spec.forceNew.includes(top) ? { effect: "replace", restarts: false } : { effect: "update", restarts };
}

/** What Terraform does to every compute instance going from plan `before` to plan `after`. */
export function diffPlans(before: Plan, after: Plan): InstanceChange[] {
  const byAddress = (p: Plan) => new Map(p.instances.map((i) => [i.address, i]));
  const b = byAddress(before);
  const a = byAddress(after);
  const out: InstanceChange[] = [];
  for (const address of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(address);
    const y = a.get(address);
    if (!y) {
      out.push({ address, kind: x!.kind, action: "delete", before: x, changes: [], restarts: false });
      continue;
    }
    if (!x) {
      out.push({ address, kind: y.kind, action: "create", after: y, changes: [], restarts: false });
      continue;
    }
    const changes = diffArguments(instanceArguments(before, x), after, y);
    out.push({ address, kind: y.kind, ...actionOf(changes), before: x, after: y, changes });
  }
  return out;
}

/** The changes from arguments as Terraform's state has them to the instance as `after` plans it. */
export function diffArguments(state: Map<string, ArgumentValue>, after: Plan, inst: PlannedInstance): ArgumentChange[] {
  const planned = instanceArguments(after, inst);
  const changes: ArgumentChange[] = [];
  const missing: ArgumentValue = { known: true, text: "null", sensitive: false };
  for (const path of new Set([...state.keys(), ...planned.keys()])) {
    const p = state.get(path);
    const q = planned.get(path);
    if (sameValue(p, q)) continue;
    const { effect, restarts } = effectOf(inst.kind, path, after, inst);
    changes.push({ path, before: p ?? missing, after: q ?? missing, effect, ignored: ignoredBy(inst.resource.ignoreChanges, path), restarts });
  }
  return changes;
}

/** Terraform's action for an instance with these changes (ignored ones excluded). */
export function actionOf(changes: ArgumentChange[]): { action: "replace" | "update" | "none"; restarts: boolean } {
  const live = changes.filter((c) => !c.ignored);
  const action = live.length === 0 ? "none" : live.some((c) => c.effect === "replace") ? "replace" : "update";
  return { action, restarts: action === "update" && live.some((c) => c.restarts) };
}

/**
 * Whether a build leaves the instance running, and what stops it: an `aws_ec2_instance_state` of it
 * whose state is "stopped", `desired_status` TERMINATED or SUSPENDED (GCE), `replicas = 0`
 * (Kubernetes), `start = false` (Docker). Without any, the machine keeps running.
 */
/** Per compute kind: the argument that powers the instance off, and the values that do. */
const POWER_SWITCHES: Record<string, { attr: string; off: string[] }> = {
  incus_instance: { attr: "running", off: ["false"] },
  lxd_instance: { attr: "running", off: ["false"] },
  proxmox_virtual_environment_vm: { attr: "started", off: ["false"] },
  linode_instance: { attr: "booted", off: ["false"] },
  oci_core_instance: { attr: "state", off: ["STOPPED"] },
  openstack_compute_instance_v2: { attr: "power_state", off: ["shutoff", "shelved", "shelved_offloaded"] },
  exoscale_compute_instance: { attr: "state", off: ["stopped"] },
  scaleway_instance_server: { attr: "state", off: ["stopped", "standby"] },
};

export function powerOf(plan: Plan, inst: PlannedInstance): { running: boolean; by?: string } {
  const scope = plan.scope;
  const str = (a: Attr | undefined, key = inst.key): string | undefined => {
    if (!a) return undefined;
    try {
      const v = scope.evalAttr(a, scope.instanceScope(key));
      return v.isKnown && !v.isNull ? convert(v, STRING).asString() : undefined;
    } catch {
      return undefined;
    }
  };
  for (const r of plan.config.resources.filter((x) => x.type === "aws_ec2_instance_state" && x.attrs.instance_id?.source.includes(inst.resource.address))) {
    let count = 1;
    try {
      const e = scope.expansion(r);
      count = e.kind === "count" ? e.count : e.kind === "each" ? e.keys.size : 1;
    } catch {
      // an evaluation error is validate's finding
    }
    if (count > 0 && str(r.attrs.state, {}) === "stopped") return { running: false, by: `${r.address}.state = "stopped"` };
  }
  const status = str(inst.resource.attrs.desired_status);
  if (status === "TERMINATED" || status === "SUSPENDED") return { running: false, by: `${inst.address}.desired_status = "${status}"` };
  const spec = inst.resource.blocks.find((b) => b.type === "spec");
  if (spec && str(spec.attrs.replicas) === "0") return { running: false, by: `${inst.address}.spec.replicas = 0` };
  if (str(inst.resource.attrs.start) === "false") return { running: false, by: `${inst.address}.start = false` };
  const power = POWER_SWITCHES[inst.kind];
  const v = power && str(inst.resource.attrs[power.attr]);
  if (power && v !== undefined && power.off.includes(v)) return { running: false, by: `${inst.address}.${power.attr} = ${v === "false" ? v : `"${v}"`}` };
  return { running: true };
}

/** The two values of a change in a few words: the first line where they differ. */
export function describeChange(c: ArgumentChange): string {
  const show = (v: ArgumentValue) => (!v.known ? `(known after apply: ${v.reason})` : v.sensitive ? "(sensitive value)" : v.text);
  if (!c.before.known || !c.after.known || c.before.sensitive || c.after.sensitive) return `${show(c.before)} → ${show(c.after)}`;
  const text = (v: { text: string }) => {
    try {
      const parsed: unknown = JSON.parse(v.text);
      return typeof parsed === "string" ? parsed : v.text;
    } catch {
      return v.text;
    }
  };
  const x = text(c.before).split("\n");
  const y = text(c.after).split("\n");
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const clip = (s: string | undefined) => {
    if (s === undefined) return "(nothing)";
    const t = s.trim();
    return JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t);
  };
  return `${x.length > 1 || y.length > 1 ? `line ${i + 1}: ` : ""}${clip(x[i])} → ${clip(y[i])}`;
}

/** The smallest `lifecycle { ignore_changes }` that keeps the instance: the replacing paths, merged with what it ignores now. */
export function ignoreChangesFix(change: InstanceChange): string | undefined {
  const inst = change.after ?? change.before!;
  const replacing = change.changes.filter((c) => !c.ignored && c.effect !== "update").map((c) => c.path);
  if (replacing.length === 0) return undefined;
  const existing = Array.isArray(inst.resource.ignoreChanges) ? inst.resource.ignoreChanges : [];
  const paths = [...new Set([...existing, ...replacing])];
  return `lifecycle { ignore_changes = [${paths.join(", ")}] }`;
}

/** A generated prebuilt workspace name, as coderd gives them before a claim renames the workspace. */
const prebuildName = () => `prebuild-${randomBytes(3).toString("hex")}`;

/**
 * The template planned twice for one workspace: as an unclaimed prebuild (owned by the prebuilds
 * system user, `is_prebuild = true`) and as its claim build (a real owner, the name they chose,
 * `is_prebuild_claim = true`). Workspace and template IDs, the agents' IDs and tokens, and the time
 * are the same in both — a claim keeps them.
 */
export function prebuildPlans(config: ModuleConfig, opts: Pick<ContextOptions, "parameters" | "variables" | "agent" | "accessUrl"> & { owner?: ContextOptions["owner"]; workspaceName?: string } = {}): { prebuild: Plan; claim: Plan } {
  const agents = new Map<string, { id: string; token: string; initScript: string }>();
  const agent: WorkspaceContext["agent"] =
    opts.agent ??
    ((name) => {
      let a = agents.get(name);
      if (!a) agents.set(name, (a = { id: randomUUID(), token: randomUUID(), initScript: `#!/bin/sh\n# coder agent ${name}\n` }));
      return a;
    });
  const now = new Date();
  const shared = { parameters: opts.parameters, variables: opts.variables, agent, accessUrl: opts.accessUrl, now, workspace: { id: randomUUID(), templateId: randomUUID() } };
  const prebuild = planTemplate(config, workspaceContext({ ...shared, prebuild: "prebuild", workspaceName: prebuildName() }));
  const claim = planTemplate(config, workspaceContext({ ...shared, prebuild: "claim", workspaceName: opts.workspaceName ?? "dev", owner: opts.owner }));
  return { prebuild, claim };
}


/** A finding about a claim, where its argument is written. */
export interface ClaimFinding {
  file: string;
  line: number;
  severity: "error" | "warning";
  message: string;
  hint: string;
  /** The change it is about (absent for a created or destroyed instance). */
  change?: { instance: string; argument: string; effect: ChangeEffect; description: string };
}

/** The line of the argument a change path starts with (its attribute or block), else the resource's. */
function argumentLine(inst: PlannedInstance, path: string): { file: string; line: number } {
  const top = pathSegments(path)[0];
  const r = inst.resource;
  const line = r.attrs[top]?.pos.line ?? r.blocks.find((b) => b.type === top)?.pos.line ?? r.pos.line;
  return { file: r.file, line };
}

/**
 * What a prebuild → claim diff means for the owner: replacements (errors: the prebuild is thrown
 * away), changes of unknown effect and in-place changes that restart the machine (warnings), and
 * compute created or destroyed by the claim. Shared by validate and e2e.
 */
export function claimFindings(changes: InstanceChange[]): ClaimFinding[] {
  const out: ClaimFinding[] = [];
  for (const ch of changes) {
    const inst = ch.after ?? ch.before!;
    if (ch.action === "create" || ch.action === "delete") {
      if (inst.agents.length === 0 && ch.action === "create") continue;
      out.push({ file: inst.resource.file, line: inst.resource.pos.line, severity: "warning", message: `${ch.address} exists only ${ch.action === "create" ? "after" : "before"} the claim: claiming ${ch.action === "create" ? "creates" : "destroys"} it (its count or for_each depends on the owner or is_prebuild)`, hint: "derive count and for_each from data.coder_workspace.me.start_count only" });
      continue;
    }
    const fix = ignoreChangesFix(ch);
    for (const c of ch.changes.filter((x) => !x.ignored)) {
      const loc = argumentLine(inst, c.path);
      const description = describeChange(c);
      const change = { instance: ch.address, argument: c.path, effect: c.effect, description };
      if (c.effect === "replace") {
        out.push({ ...loc, severity: "error", change, message: `${ch.address}: ${c.path} changes on claim (${description}); forces replacement: the prebuilt ${ch.kind} is destroyed and a new one built for the owner, so the prebuild saves nothing`, hint: `add ${fix} to ${ch.address} (its value is then the prebuild's until the next build that re-creates it), or derive ${c.path} from data.coder_workspace.me.id instead of the owner or workspace name` });
      } else if (c.effect === "unknown") {
        out.push({ ...loc, severity: "warning", change, message: `${ch.address}: ${c.path} changes on claim (${description}); provisioner does not know whether ${ch.kind} replaces the resource for it`, hint: `check the provider's documentation; to be safe add lifecycle { ignore_changes = [${c.path}] }` });
      } else if (c.restarts) {
        out.push({ ...loc, severity: "warning", change, message: `${ch.address}: ${c.path} changes on claim (${description}), updated in place: the provider ${ch.kind.startsWith("kubernetes_") ? "replaces its pods" : "stops and starts the machine"} while the owner waits`, hint: `add lifecycle { ignore_changes = [${c.path}] } if the prebuilt value is good enough` });
      }
    }
  }
  return out;
}
