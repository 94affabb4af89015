/**
 * The evaluation scope of a module for one workspace, as Terraform's plan sees it: variables (with
 * their type constraints), locals, resources and data sources (counted, for_each, configured
 * attributes known, computed ones unknown unless this project models them), local modules followed,
 * coder data sources with the workspace's values. Everything is evaluated lazily and once.
 */
import { join, relative } from "node:path";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { Attr, ModuleConfig, ResourceConfig } from "../template/config.js";
import { TemplateLoadError } from "../template/config.js";
import {
  applyTypeConstraint,
  convert,
  type Expr,
  references,
  DYNAMIC,
  EvalError,
  type EvalScope,
  Evaluator,
  iterate,
  parseTypeConstraint,
  type Range,
  renderTemplateString,
  type Resolved,
  type Step,
  STRING,
  Value,
} from "../template/hcl/index.js";
import { loadModule } from "../template/load.js";
import type { WorkspaceContext } from "./context.js";
import { compare, coderProviderVersion, type ProviderVersion } from "./provider-version.js";

/** A module that was not followed (remote source), reported instead of silently skipped. */
export interface UnfollowedModule {
  address: string;
  source: string;
}

/** What every scope of one plan shares. */
export interface PlanState {
  ctx: WorkspaceContext;
  rootDir: string;
  coderVersion: ProviderVersion;
  unfollowed: UnfollowedModule[];
}

interface InstanceKey {
  countIndex?: number;
  each?: { key: Value; value: Value };
}

const invalidCountAttribute = (name: string, range: Range) =>
  new EvalError("Invalid \"count\" attribute", `The "count" object does not have an attribute named ${JSON.stringify(name)}. The only supported attribute is count.index, which is the index of each instance of a resource block that has the "count" argument set.`, range, true);
const invalidEachAttribute = (name: string, range: Range) =>
  new EvalError("Invalid \"each\" attribute", `The "each" object does not have an attribute named ${JSON.stringify(name)}. The supported attributes are each.key and each.value, the current key and value pair of the "for_each" attribute set.`, range, true);

/** The scope of one module instance. */
export class ModuleScope implements EvalScope {
  readonly evaluator: Evaluator;
  readonly baseDir: string;
  readonly now: Date;
  readonly providers: ReadonlyMap<string, string | undefined>;
  /** Set for `terraform console` semantics (plantimestamp() does not exist there). */
  hiddenFunctions?: ReadonlySet<string>;
  private readonly locals = new Map<string, Value>();
  private readonly localsInProgress = new Set<string>();
  private readonly vars = new Map<string, Value>();
  private readonly resourceValues = new Map<string, Value>();
  private readonly instanceAttrs = new Map<string, Value>();
  private readonly moduleScopes = new Map<string, ModuleScope[] | Map<string, ModuleScope> | Value>();
  private readonly computed = new Map<string, Computed>();
  readonly resourcesByAddress: Map<string, ResourceConfig>;

  constructor(
    readonly config: ModuleConfig,
    readonly state: PlanState,
    /** Module path, e.g. "module.child" ("" for the root). */
    readonly path = "",
    /** Arguments of the module call, evaluated in the caller. */
    private readonly inputs = new Map<string, Value>(),
  ) {
    this.evaluator = new Evaluator(this);
    this.baseDir = state.rootDir;
    this.now = state.ctx.now;
    this.resourcesByAddress = new Map(config.resources.map((r) => [r.address, r]));
    this.providers = new Map(Object.values(config.requiredProviders).map((p) => [p.name, p.source]));
  }

  static root(config: ModuleConfig, ctx: WorkspaceContext): ModuleScope {
    return new ModuleScope(config, { ctx, rootDir: config.dir, coderVersion: coderProviderVersion(config), unfollowed: [] });
  }

  private where(): string {
    return this.path === "" ? "the root module" : this.path;
  }

  /**
   * Terraform checks every reference of an expression before evaluating it: an undeclared object is
   * an error even in a branch that is never taken, and try() cannot catch it.
   */
  checkReferences(expr: Expr): void {
    for (const ref of references(expr)) {
      const [root, a, b] = ref.parts.map(String);
      const range = ref.range;
      switch (root) {
        case "var":
          if (!this.config.variables[a ?? ""]) this.variable(a ?? "", range);
          break;
        case "local":
          if (!this.config.locals[a ?? ""]) this.local(a ?? "", range);
          break;
        case "module":
          if (a === undefined) throw new EvalError("Invalid reference", 'The "module" object cannot be accessed directly. Instead, access one of its attributes.', range, true);
          if (!this.config.modules[a]) this.resolve(["module", a], range, []);
          break;
        case "data":
          if (a === undefined || b === undefined) throw new EvalError("Invalid reference", 'The "data" object must be followed by two attribute names: the data source type and the resource name.', range, true);
          if (!this.resourcesByAddress.has(`data.${a}.${b}`)) this.resolve(["data", a, b], range, []);
          break;
        case "count":
        case "each":
        case "path":
        case "terraform":
        case "self":
          break;
        default:
          if (a === undefined) throw new EvalError("Invalid reference", "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.", range, true);
          if (!this.resourcesByAddress.has(`${root}.${a}`)) this.resolve([root, a], range, []);
      }
    }
  }

  /** Evaluates an attribute of this module (errors carry the attribute's file). */
  evalAttr(a: Attr, scope: EvalScope = this): Value {
    try {
      this.checkReferences(a.expr);
      return (scope === this ? this.evaluator : new Evaluator(scope)).eval(a.expr);
    } catch (err) {
      if (err instanceof EvalError) err.inFile(a.file);
      throw err;
    }
  }

  resolve(address: string[], range: Range, rest: Step[]): Value | Resolved {
    const [root, a, b] = address;
    switch (root) {
      case "var":
        return this.variable(a, range);
      case "local":
        return this.local(a, range);
      case "path":
        if (a === "module") return Value.string(this.config.relDir);
        if (a === "root") return Value.string(".");
        if (a === "cwd") return Value.string(this.state.rootDir);
        throw new EvalError("Invalid \"path\" attribute", `The "path" object does not have an attribute named ${JSON.stringify(a)}. The supported attributes are path.cwd, the current working directory; path.module, the directory of the current module; and path.root, the directory of the root module.`, range, true);
      case "terraform":
        if (a === "workspace") return Value.string("default");
        if (a === "applying") return Value.bool(false);
        throw new EvalError("Invalid \"terraform\" attribute", `The "terraform" object does not have an attribute named ${JSON.stringify(a)}. The only supported attributes are terraform.workspace, the name of the currently-selected workspace, and terraform.applying, a boolean which is true only during apply.`, range, true);
      case "count":
        if (a !== "index") throw invalidCountAttribute(a, range);
        throw new EvalError("Reference to \"count\" in non-counted context", 'The "count" object can only be used in "module", "resource", and "data" blocks, and only when the "count" argument is set.', range, true);
      case "each":
        if (a !== "key" && a !== "value") throw invalidEachAttribute(a, range);
        throw new EvalError("Reference to \"each\" in context without for_each", 'The "each" object can be used only in "module" or "resource" blocks, and only when the "for_each" argument is set.', range, true);
      case "self":
        throw new EvalError("Invalid \"self\" reference", 'The "self" object is not available in this context. This object can be used only in resource provisioner and connection blocks.', range, true);
      case "module":
        return this.moduleValue(a, range, rest);
      case "data": {
        const r = this.resourcesByAddress.get(`data.${a}.${b}`);
        if (!r) throw new EvalError("Reference to undeclared resource", `A data resource ${JSON.stringify(a)} ${JSON.stringify(b)} has not been declared in ${this.where()}.`, range, true);
        return this.resourceValue(r, rest);
      }
      default: {
        const r = this.resourcesByAddress.get(`${root}.${a}`);
        if (!r) throw new EvalError("Reference to undeclared resource", `A managed resource ${JSON.stringify(root)} ${JSON.stringify(a)} has not been declared in ${this.where()}.`, range, true);
        return this.resourceValue(r, rest);
      }
    }
  }

  // ---- variables and locals -----------------------------------------------------------------------

  variable(name: string, range?: Range): Value {
    const cached = this.vars.get(name);
    if (cached) return cached;
    const v = this.config.variables[name];
    if (!v) {
      throw new EvalError("Reference to undeclared input variable", `An input variable with the name ${JSON.stringify(name)} has not been declared. This variable can be declared with a variable ${JSON.stringify(name)} {} block.`, range, true);
    }
    let value: Value;
    const given = this.path === "" ? this.state.ctx.variables[name] : this.inputs.get(name);
    if (given !== undefined) value = given;
    else if (v.default) value = this.evalAttr(v.default);
    else value = Value.unknown(DYNAMIC, `var.${name} (no default and no value given: use --var ${name}=VALUE)`);
    if (v.type) {
      try {
        const tc = parseTypeConstraint(v.type, this.evaluator);
        value = applyTypeConstraint(value, tc);
      } catch (err) {
        if (err instanceof EvalError) throw err.inFile(v.file);
        throw new EvalError("Invalid value for input variable", `The given value is not suitable for var.${name} declared at ${v.file}:${v.pos.line}: ${(err as Error).message}.`, range).inFile(v.file);
      }
    }
    if (value.isNull && !v.nullable) {
      throw new EvalError("Required variable not set", `Unsupported value for variable ${JSON.stringify(name)}: the variable is not nullable.`, range).inFile(v.file);
    }
    if (v.sensitive) value = value.withSensitive(true);
    this.vars.set(name, value);
    return value;
  }

  local(name: string, range?: Range): Value {
    const cached = this.locals.get(name);
    if (cached) return cached;
    const attr = this.config.locals[name];
    if (!attr) throw new EvalError("Reference to undeclared local value", `A local value with the name ${JSON.stringify(name)} has not been declared.`, range, true);
    if (this.localsInProgress.has(name)) throw new EvalError("Cycle in local values", `local.${name} refers to itself through ${[...this.localsInProgress].map((l) => `local.${l}`).join(", ")}.`, range, true);
    this.localsInProgress.add(name);
    try {
      const v = this.evalAttr(attr);
      this.locals.set(name, v);
      return v;
    } finally {
      this.localsInProgress.delete(name);
    }
  }

  // ---- resources ---------------------------------------------------------------------------------

  /** The resource's value (a tuple for count, an object for for_each), resolving `rest` where it can. */
  resourceValue(r: ResourceConfig, rest: Step[]): Value | Resolved {
    const expansion = this.expansion(r);
    if (expansion.kind === "unknown") return expansion.value;
    if (expansion.kind === "single") return this.instanceValue(r, {}, rest);
    const [first] = rest;
    const key = first && "index" in first ? first.index : undefined;
    if (expansion.kind === "count" && typeof key === "number" && key >= 0 && key < expansion.count) {
      const inner = this.instanceValue(r, { countIndex: key }, rest.slice(1));
      return inner instanceof Value ? { value: inner, consumed: 1 } : { value: inner.value, consumed: 1 + inner.consumed };
    }
    if (expansion.kind === "each" && typeof key === "string" && expansion.keys.has(key)) {
      const inner = this.instanceValue(r, { each: { key: Value.string(key), value: expansion.keys.get(key)! } }, rest.slice(1));
      return inner instanceof Value ? { value: inner, consumed: 1 } : { value: inner.value, consumed: 1 + inner.consumed };
    }
    if (expansion.kind === "each" && first && "attr" in first) {
      // `r.key.attr` on a for_each resource: Terraform's own error.
      throw new EvalError(
        "Missing resource instance key",
        `Because ${r.address} has "for_each" set, its attributes must be accessed on specific instances. For example, to correlate with indices of a referring resource, use: ${r.address}[each.key]`,
      );
    }
    return this.wholeValue(r);
  }

  private wholeValue(r: ResourceConfig): Value {
    const cached = this.resourceValues.get(r.address);
    if (cached) return cached;
    const e = this.expansion(r);
    let v: Value;
    if (e.kind === "unknown") v = e.value;
    else if (e.kind === "single") v = this.instanceObject(r, {});
    else if (e.kind === "count") v = Value.tuple(Array.from({ length: e.count }, (_, i) => this.instanceObject(r, { countIndex: i })));
    else v = Value.object([...e.keys].map(([k, each]) => [k, this.instanceObject(r, { each: { key: Value.string(k), value: each } })]));
    this.resourceValues.set(r.address, v);
    return v;
  }

  private readonly expansions = new Map<string, Expansion>();

  /** How many instances a resource has: count, for_each keys, or one. */
  expansion(r: ResourceConfig): Expansion {
    const cached = this.expansions.get(r.address);
    if (cached) return cached;
    let e: Expansion;
    if (r.count) {
      const c = this.evalAttr(r.count);
      if (!c.isKnown) e = { kind: "unknown", value: Value.unknown(DYNAMIC, c.unknownReason ?? `count of ${r.address}`) };
      else {
        if (c.isNull) throw new EvalError("Invalid count argument", 'The given "count" argument value is null. An integer is required.').inFile(r.count.file);
        let n: Value;
        try {
          n = convert(c, { kind: "number" });
        } catch {
          throw new EvalError("Invalid count argument", `The given "count" argument value is unsuitable: number required.`).inFile(r.count.file);
        }
        const num = n.asNumber();
        if (!num.isInt() || num.sign() < 0) throw new EvalError("Invalid count argument", 'The given "count" argument value is unsuitable: must be a whole number, zero or greater.').inFile(r.count.file);
        e = { kind: "count", count: Number(num.toBigInt()) };
      }
    } else if (r.forEach) {
      const fe = this.evalAttr(r.forEach);
      if (!fe.isKnown) e = { kind: "unknown", value: Value.unknown(DYNAMIC, fe.unknownReason ?? `for_each of ${r.address}`) };
      else {
        if (fe.isNull) throw new EvalError("Invalid for_each argument", 'The given "for_each" argument value is null. A map, or set of strings is allowed.').inFile(r.forEach.file);
        const t = fe.type.kind;
        if (t !== "map" && t !== "object" && t !== "set") {
          throw new EvalError("Invalid for_each argument", `The given "for_each" argument value is unsuitable: the "for_each" argument must be a map, or set of strings, and you have provided a value of type ${t}.`).inFile(r.forEach.file);
        }
        const keys = new Map<string, Value>();
        for (const [k, v] of iterate(fe)) {
          if (!k.isKnown) {
            e = { kind: "unknown", value: Value.unknown(DYNAMIC, k.unknownReason ?? `for_each of ${r.address}`) };
            this.expansions.set(r.address, e);
            return e;
          }
          keys.set(convert(k, STRING).asString(), v);
        }
        e = { kind: "each", keys };
      }
    } else e = { kind: "single" };
    this.expansions.set(r.address, e);
    return e;
  }

  /** The scope an instance's arguments are evaluated in: this module plus count.index / each. */
  instanceScope(key: InstanceKey): EvalScope {
    if (key.countIndex === undefined && !key.each) return this;
    const parent = this;
    return {
      baseDir: this.baseDir,
      now: this.now,
      providers: this.providers,
      hiddenFunctions: this.hiddenFunctions,
      resolve(address, range, rest) {
        if (address[0] === "count" && key.countIndex !== undefined) {
          if (address[1] === "index") return Value.int(key.countIndex);
          throw invalidCountAttribute(address[1], range);
        }
        if (address[0] === "each" && key.each) {
          if (address[1] === "key") return key.each.key;
          if (address[1] === "value") return key.each.value;
          throw invalidEachAttribute(address[1], range);
        }
        return parent.resolve(address, range, rest);
      },
    };
  }

  private instanceAddress(r: ResourceConfig, key: InstanceKey): string {
    if (key.countIndex !== undefined) return `${r.address}[${key.countIndex}]`;
    if (key.each) return `${r.address}[${JSON.stringify(key.each.key.asString())}]`;
    return r.address;
  }

  /** One instance: the attribute `rest[0]` alone when it is asked for, else the whole object. */
  private instanceValue(r: ResourceConfig, key: InstanceKey, rest: Step[]): Value | Resolved {
    const [first] = rest;
    if (first && "attr" in first) {
      const v = this.instanceAttribute(r, key, first.attr);
      if (v) return { value: v, consumed: 1 };
    }
    return this.instanceObject(r, key);
  }

  /** A single attribute of an instance, evaluated alone (undefined: let the whole object decide). */
  instanceAttribute(r: ResourceConfig, key: InstanceKey, name: string): Value | undefined {
    const addr = this.instanceAddress(r, key);
    const cacheKey = `${addr}#${name}`;
    const cached = this.instanceAttrs.get(cacheKey);
    if (cached) return cached;
    const computed = this.computedOf(r, key);
    let v: Value | undefined;
    if (computed.values.has(name)) v = computed.values.get(name)!;
    else if (r.attrs[name]) v = this.evalAttr(r.attrs[name], this.instanceScope(key));
    else if (r.blocks.some((b) => b.type === name)) v = this.blockValues(r, key, name);
    else if (!computed.closed) v = (this.state.ctx.phase === "apply" && appliedValue(addr, name)) || Value.unknown(DYNAMIC, `${addr}.${name}`);
    if (v) this.instanceAttrs.set(cacheKey, v);
    return v;
  }

  private blockValues(r: ResourceConfig, key: InstanceKey, type: string): Value {
    const scope = this.instanceScope(key);
    return Value.tuple(
      r.blocks
        .filter((b) => b.type === type)
        .map((b) =>
          Value.object(
            Object.entries(b.attrs).map(([n, a]) => [n, this.evalAttr(a, scope)]),
          ),
        ),
    );
  }

  private computedOf(r: ResourceConfig, key: InstanceKey): Computed {
    const addr = this.instanceAddress(r, key);
    let c = this.computed.get(addr);
    if (!c) {
      c = computedAttributes(r, this, key);
      this.computed.set(addr, c);
    }
    return c;
  }

  /** The whole object of one instance. */
  instanceObject(r: ResourceConfig, key: InstanceKey): Value {
    const addr = this.instanceAddress(r, key);
    const entries = new Map<string, Value>();
    for (const name of Object.keys(r.attrs)) entries.set(name, this.instanceAttribute(r, key, name)!);
    for (const type of new Set(r.blocks.map((b) => b.type))) entries.set(type, this.blockValues(r, key, type));
    const computed = this.computedOf(r, key);
    for (const [k, v] of computed.values) entries.set(k, v);
    if (computed.closed) {
      for (const k of computed.optional) if (!entries.has(k)) entries.set(k, Value.nullOf(DYNAMIC));
      return Value.object(entries);
    }
    return Value.openObject(entries, addr);
  }

  // ---- modules -----------------------------------------------------------------------------------

  private moduleValue(name: string, range: Range, rest: Step[]): Value | Resolved {
    const call = this.config.modules[name];
    if (!call) throw new EvalError("Reference to undeclared module", `No module call named ${JSON.stringify(name)} is declared in ${this.where()}.`, range, true);
    const instances = this.moduleInstances(name);
    if (instances instanceof Value) return instances;
    const outputs = (m: ModuleScope, r: Step[]): Value | Resolved => {
      const [out] = r;
      if (out && "attr" in out && m.config.outputs[out.attr]) return { value: m.output(out.attr), consumed: 1 };
      return m.outputsObject();
    };
    const [first] = rest;
    const key = first && "index" in first ? first.index : undefined;
    if (Array.isArray(instances)) {
      const i = key;
      if (typeof i === "number" && instances[i]) {
        const inner = outputs(instances[i], rest.slice(1));
        return inner instanceof Value ? { value: inner, consumed: 1 } : { value: inner.value, consumed: 1 + inner.consumed };
      }
      if (!call.count) return outputs(instances[0], rest);
      return Value.tuple(instances.map((m) => m.outputsObject()));
    }
    if (typeof key === "string" && instances.has(key)) {
      const inner = outputs(instances.get(key)!, rest.slice(1));
      return inner instanceof Value ? { value: inner, consumed: 1 } : { value: inner.value, consumed: 1 + inner.consumed };
    }
    return Value.object([...instances].map(([key, m]) => [key, m.outputsObject()]));
  }

  /** The instances of a module call (local sources only; others are unknown and reported). */
  moduleInstances(name: string): ModuleScope[] | Map<string, ModuleScope> | Value {
    const cached = this.moduleScopes.get(name);
    if (cached) return cached;
    const call = this.config.modules[name];
    const address = this.path ? `${this.path}.module.${name}` : `module.${name}`;
    let result: ModuleScope[] | Map<string, ModuleScope> | Value;
    if (!/^\.\.?\//.test(call.source)) {
      this.state.unfollowed.push({ address, source: call.source });
      result = Value.unknown(DYNAMIC, `${address} (module source ${JSON.stringify(call.source)} is not followed: only local modules are)`);
    } else {
      const dir = join(this.config.dir, call.source);
      let child: ModuleConfig;
      try {
        child = loadModule(dir, this.state.rootDir);
      } catch (err) {
        if (err instanceof TemplateLoadError) throw new EvalError("Module not loaded", `${address}: ${err.message}`).inFile(call.file);
        throw err;
      }
      const make = (key: InstanceKey, suffix: string) => {
        const scope = this.instanceScope(key);
        const inputs = new Map(Object.entries(call.attrs).map(([n, a]) => [n, this.evalAttr(a, scope)]));
        for (const n of inputs.keys()) {
          if (!child.variables[n]) throw new EvalError("Unsupported argument", `An argument named ${JSON.stringify(n)} is not expected here.`).inFile(call.file);
        }
        return new ModuleScope(child, this.state, address + suffix, inputs);
      };
      const fake: ResourceConfig = { mode: "managed", type: "module", name, address, file: call.file, pos: call.pos, attrs: {}, blocks: [], count: call.count, forEach: call.forEach };
      const e = this.expansion(fake);
      if (e.kind === "unknown") result = e.value;
      else if (e.kind === "single") result = [make({}, "")];
      else if (e.kind === "count") result = Array.from({ length: e.count }, (_, i) => make({ countIndex: i }, `[${i}]`));
      else result = new Map([...e.keys].map(([k, v]) => [k, make({ each: { key: Value.string(k), value: v } }, `[${JSON.stringify(k)}]`)]));
    }
    this.moduleScopes.set(name, result);
    return result;
  }

  private presets?: Record<string, string>;

  /**
   * The parameters of the workspace preset the workspace is created from: the one marked
   * `default = true` (Coder preselects it), or for a prebuild the one with `prebuilds` (its pool is
   * built with them). Explicit --parameter values win; a preset that cannot be evaluated sets nothing.
   */
  presetParameters(): Record<string, string> {
    if (this.presets) return this.presets;
    this.presets = {};
    if (this.path !== "") return this.presets;
    // Read in a scope of its own: a preset naming `data.coder_parameter.x.name` must not fix x's value here.
    const probe = new ModuleScope(this.config, this.state, this.path);
    probe.presets = {};
    this.presets = probe.choosePreset();
    return this.presets;
  }

  private choosePreset(): Record<string, string> {
    const out: Record<string, string> = {};
    const presets = this.config.resources.filter((r) => r.mode === "data" && r.type === "coder_workspace_preset");
    const bool = (a: Attr | undefined) => {
      try {
        const v = a ? this.evalAttr(a) : undefined;
        return !!v && v.isKnown && !v.isNull && v.type.kind === "bool" && v.asBool();
      } catch {
        return false;
      }
    };
    const chosen = this.state.ctx.workspace.isPrebuild ? presets.find((r) => r.blocks.some((b) => b.type === "prebuilds")) : presets.find((r) => bool(r.attrs.default));
    if (!chosen?.attrs.parameters) return out;
    try {
      const v = this.evalAttr(chosen.attrs.parameters);
      if (v.isWhollyKnown() && !v.isNull) for (const [k, x] of v.asMap()) if (!x.isNull) out[k] = convert(x, STRING).asString();
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
    }
    return out;
  }

  output(name: string): Value {
    const o = this.config.outputs[name];
    if (!o?.value) return Value.nullOf(DYNAMIC);
    return this.evalAttr(o.value);
  }

  outputsObject(): Value {
    return Value.object(Object.keys(this.config.outputs).map((n) => [n, this.output(n)]));
  }
}

export type Expansion =
  | { kind: "single" }
  | { kind: "count"; count: number }
  | { kind: "each"; keys: Map<string, Value> }
  | { kind: "unknown"; value: Value };

/** Computed attributes this project knows, and whether the type's attribute set is closed. */
interface Computed {
  values: Map<string, Value>;
  closed: boolean;
  /** Optional attributes of a closed schema (null when not configured). */
  optional: string[];
}

const str = (s: string) => Value.string(s);

/**
 * What apply gives an attribute only the provider computes (an id, an address, a generated
 * password): e2e renders user data as apply would, so `/dev/disk/by-id/scsi-0HC_Volume_${hcloud_volume.x.id}`
 * becomes a concrete path. Deterministic per address, so every reference to it agrees.
 */
function appliedValue(address: string, attr: string): Value | undefined {
  // Only attributes that are strings in every provider (ids, addresses, names, secrets); the shape of
  // anything else (a list of disks, a nested block) is not known here, so it stays unknown.
  if (!/(^|_)(id|arn|urn|ip|ipv4_address|ipv6_address|ip_address|address|fingerprint|result|name|hostname|self_link|dns|endpoint|password|token|key)$/.test(attr)) return undefined;
  const h = createHash("sha256").update(`${address}.${attr}`).digest();
  if (/(^|_)(ip|ipv4_address|ip_address|private_ip|public_ip|address)$/.test(attr)) return str(`10.${h[0]}.${h[1]}.${(h[2] % 250) + 2}`);
  if (attr === "ipv6_address") return str(`fd00::${h.readUInt16BE(0).toString(16)}`);
  // Numeric ids fit every provider's id format closely enough (hcloud, DigitalOcean and Linode use numbers).
  if (attr === "id" || attr.endsWith("_id")) return str(String(10_000_000 + (h.readUInt32BE(0) % 90_000_000)));
  return str(`${attr}-${h.toString("hex").slice(0, 12)}`);
}

function computedAttributes(r: ResourceConfig, scope: ModuleScope, key: InstanceKey): Computed {
  const ctx = scope.state.ctx;
  const open = (values: [string, Value][] = []): Computed => ({ values: new Map(values), closed: false, optional: [] });
  const closed = (values: [string, Value][], optional: string[] = []): Computed => ({ values: new Map(values), closed: true, optional });
  if (r.mode === "managed") {
    switch (r.type) {
      case "coder_agent": {
        const a = ctx.agent(r.name);
        return open([
          ["id", str(a.id)],
          ["token", str(a.token).withSensitive(true)],
          ["init_script", str(a.initScript)],
        ]);
      }
      case "terraform_data":
        return closed([["id", Value.unknown(STRING, `${r.address}.id`, { notNull: true })], ["output", Value.unknown(DYNAMIC, `${r.address}.output`)]], ["input", "triggers_replace"]);
      default:
        return open();
    }
  }
  const v = scope.state.coderVersion.version;
  const w = ctx.workspace;
  const o = ctx.owner;
  switch (r.type) {
    case "coder_workspace": {
      const values: [string, Value][] = [
        ["id", str(w.id)],
        ["name", str(w.name)],
        ["start_count", Value.int(ctx.transition === "start" ? 1 : 0)],
        ["transition", str(ctx.transition)],
        ["access_url", str(w.accessUrl)],
        ["access_port", Value.int(w.accessPort)],
        ["template_id", str(w.templateId)],
        ["template_name", str(w.templateName)],
        ["template_version", str(w.templateVersion)],
      ];
      if (compare(v, [2, 0, 0]) < 0) {
        values.push(
          ["owner", str(o.name)],
          ["owner_id", str(o.id)],
          ["owner_name", str(o.fullName)],
          ["owner_email", str(o.email)],
          ["owner_session_token", str(o.sessionToken)],
          ["owner_oidc_access_token", str(o.oidcAccessToken)],
          ["owner_groups", Value.list(o.groups.map(str), STRING)],
        );
      } else {
        values.push(["is_prebuild", Value.bool(w.isPrebuild)], ["is_prebuild_claim", Value.bool(w.isPrebuildClaim)], ["prebuild_count", Value.int(w.isPrebuild ? 1 : 0)]);
      }
      return closed(values);
    }
    case "coder_workspace_owner":
      return closed([
        ["id", str(o.id)],
        ["name", str(o.name)],
        ["full_name", str(o.fullName)],
        ["email", str(o.email)],
        ["ssh_public_key", str(o.sshPublicKey)],
        ["ssh_private_key", str(o.sshPrivateKey).withSensitive(true)],
        ["groups", Value.list(o.groups.map(str), STRING)],
        ["session_token", str(o.sessionToken).withSensitive(true)],
        ["oidc_access_token", str(o.oidcAccessToken).withSensitive(true)],
        ["login_type", str(o.loginType)],
        ["rbac_roles", Value.list(o.rbacRoles.map((x) => Value.object([["name", str(x.name)], ["org_id", str(x.org_id)]])))],
      ]);
    case "coder_provisioner":
      return closed([
        ["id", str("provisioner")],
        ["os", str(ctx.provisioner.os)],
        ["arch", str(ctx.provisioner.arch)],
      ]);
    case "coder_parameter": {
      const name = r.attrs.name ? scope.evalAttr(r.attrs.name, scope.instanceScope(key)) : str(r.name);
      const pname = name.isKnown && name.type.kind === "string" ? name.asString() : r.name;
      let value: Value;
      const given = ctx.parameters[pname] ?? scope.presetParameters()[pname];
      if (given !== undefined) value = str(given);
      else if (r.attrs.default) {
        const d = scope.evalAttr(r.attrs.default, scope.instanceScope(key));
        value = d.isNull ? str("") : d.isKnown ? convert(d, STRING) : d;
      } else value = Value.unknown(STRING, `${r.address}.value (parameter ${JSON.stringify(pname)} has no default and no preset sets it: give it with --parameter ${pname}=VALUE)`);
      return closed(
        [
          ["id", str(`parameter-${pname}`)],
          ["value", value],
          ["optional", Value.bool(!!r.attrs.default)],
        ],
        ["name", "display_name", "description", "type", "mutable", "ephemeral", "default", "icon", "option", "validation", "order", "form_type", "styling"],
      );
    }
    case "cloudinit_config":
    case "template_cloudinit_config":
      return open([["rendered", cloudinitRendered(r, scope, key)]]);
    case "template_file":
      return open([["rendered", templateFileRendered(r, scope, key)]]);
    case "coder_external_auth":
    case "coder_git_auth":
      return open([
        ["id", str(r.name)],
        ["access_token", str(`provisioner-external-auth-token-${r.name}`).withSensitive(true)],
      ]);
    default:
      return open();
  }
}

/** hashicorp/template's `template_file`: its `template` rendered with `vars` (values as strings). */
function templateFileRendered(r: ResourceConfig, scope: ModuleScope, key: InstanceKey): Value {
  const iscope = scope.instanceScope(key);
  const template = r.attrs.template ? scope.evalAttr(r.attrs.template, iscope) : Value.string("");
  const vars = r.attrs.vars ? scope.evalAttr(r.attrs.vars, iscope) : Value.object([]);
  if (!template.isKnown) return Value.unknown(STRING, template.unknownReason ?? `${r.address}.rendered`);
  if (!vars.isKnown) return Value.unknown(STRING, vars.unknownReason ?? `${r.address}.rendered`);
  const asStrings = Value.object([...(vars.isNull ? [] : vars.asMap())].map(([k, v]) => [k, v.isKnown && !v.isNull ? convert(v, STRING) : v]));
  try {
    return renderTemplateString(iscope, convert(template, STRING).asString(), asStrings, `${r.address}.template`);
  } catch (err) {
    if (err instanceof EvalError) throw err.inFile(r.attrs.template?.file ?? r.file);
    throw err;
  }
}

/**
 * hashicorp/cloudinit's `rendered`: a MIME multipart archive of the parts (Go's mime/multipart, CRLF
 * line ends, headers in key order), gzipped and base64-encoded by default.
 */
function cloudinitRendered(r: ResourceConfig, scope: ModuleScope, key: InstanceKey): Value {
  const iscope = scope.instanceScope(key);
  const val = (a: Attr | undefined) => (a ? scope.evalAttr(a, iscope) : undefined);
  const flag = (name: string, def: boolean) => {
    const v = val(r.attrs[name]);
    return v && v.isKnown && !v.isNull ? convert(v, { kind: "bool" }).asBool() : def;
  };
  const parts: { content: Value; contentType?: Value; filename?: Value; mergeType?: Value }[] = r.blocks
    .filter((b) => b.type === "part")
    .map((b) => ({ content: val(b.attrs.content) ?? Value.string(""), contentType: val(b.attrs.content_type), filename: val(b.attrs.filename), mergeType: val(b.attrs.merge_type) }));
  const listed = val(r.attrs.part);
  if (listed && listed.isKnown && !listed.isNull) {
    for (const p of listed.asArray()) {
      const m = p.isKnown && !p.isNull && p.raw instanceof Map ? p.asMap() : new Map<string, Value>();
      parts.push({ content: m.get("content") ?? Value.string(""), contentType: m.get("content_type"), filename: m.get("filename"), mergeType: m.get("merge_type") });
    }
  }
  const unknown = parts.flatMap((p) => [p.content, p.contentType, p.filename, p.mergeType]).find((v) => v && !v.isKnown);
  if (unknown) return Value.unknown(STRING, unknown.unknownReason ?? `${r.address}.rendered`);
  const text = (v: Value | undefined) => (v && !v.isNull ? convert(v, STRING).asString() : "");
  const boundaryVal = val(r.attrs.boundary);
  const boundary = boundaryVal && boundaryVal.isKnown && !boundaryVal.isNull ? text(boundaryVal) : "MIMEBOUNDARY";
  let out = `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\r\n\r\n`;
  parts.forEach((p, i) => {
    const headers: [string, string][] = [["Content-Type", text(p.contentType) || "text/plain"], ["Mime-Version", "1.0"], ["Content-Transfer-Encoding", "7bit"]];
    if (text(p.filename)) headers.push(["Content-Disposition", `attachment; filename="${text(p.filename)}"`]);
    if (text(p.mergeType)) headers.push(["X-Merge-Type", text(p.mergeType)]);
    headers.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    out += `${i === 0 ? "" : "\r\n"}--${boundary}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${text(p.content)}`;
  });
  out += `\r\n--${boundary}--\r\n`;
  const gzip = flag("gzip", true);
  const b64 = flag("base64_encode", true);
  if (gzip) {
    const z = gzipSync(Buffer.from(out, "utf8"));
    return Value.string(b64 ? z.toString("base64") : z.toString("latin1"));
  }
  return Value.string(b64 ? Buffer.from(out, "utf8").toString("base64") : out);
}

export { relative };
