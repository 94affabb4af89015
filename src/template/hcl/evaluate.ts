import { readFileSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import type { Expr, TemplatePart } from "./ast.js";
import { callFunction } from "./functions.js";
import { parseExpression, parseTemplate } from "./parser.js";

export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };

export interface EvalScope {
  /** Absolute directory of the module: `path.module`, base of relative paths in file()/templatefile(). */
  moduleDir: string;
  /** var.* values. */
  variables?: Record<string, HclValue>;
  /** local.* as HCL expression sources or parsed expressions (or `{ json }` values of .tf.json files), evaluated lazily and memoised. */
  locals?: Record<string, string | { expr: Expr } | { json: unknown }>;
  /**
   * Every other reference as traversal parts: `coder_agent.main[0].init_script` →
   * ["coder_agent", "main", 0, "init_script"]. The longest static traversal is asked first, then
   * shorter prefixes (the rest is applied to the value returned). Undefined = unknown reference.
   */
  resolve?(ref: (string | number)[]): HclValue | undefined;
  /** Reads a file for file()/templatefile(); default reads from disk. */
  readFile?(absPath: string): string;
}

/** An evaluation failure; `try()` and `can()` catch it. */
export class EvalError extends Error {
  constructor(message: string, readonly line?: number) {
    super(line ? `${message} (line ${line})` : message);
    this.name = "EvalError";
  }
}

type Vars = Map<string, HclValue>;

export class Evaluator {
  private readonly localCache = new Map<string, HclValue>();
  private readonly localsInProgress = new Set<string>();

  constructor(readonly scope: EvalScope) {}

  readFile(path: string): string {
    const abs = isAbsolute(path) ? path : resolvePath(this.scope.moduleDir, path);
    try {
      return this.scope.readFile ? this.scope.readFile(abs) : readFileSync(abs, "utf8");
    } catch (err) {
      throw new EvalError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }

  local(name: string): HclValue {
    if (this.localCache.has(name)) return this.localCache.get(name)!;
    const source = this.scope.locals?.[name];
    if (source === undefined) throw new EvalError(`reference to undeclared local value local.${name}`);
    if (this.localsInProgress.has(name)) throw new EvalError(`local.${name} refers to itself`);
    this.localsInProgress.add(name);
    try {
      const value =
        typeof source === "string" ? this.eval(parseExpression(source), new Map()) : "expr" in source ? this.eval(source.expr, new Map()) : this.json(source.json);
      this.localCache.set(name, value);
      return value;
    } finally {
      this.localsInProgress.delete(name);
    }
  }

  /** Terraform JSON syntax: strings are templates, arrays and objects are evaluated element-wise. */
  json(v: unknown): HclValue {
    if (typeof v === "string") {
      const t = parseTemplate(v);
      return t.kind === "template" ? this.template(t.parts, new Map()) : this.eval(t, new Map());
    }
    if (Array.isArray(v)) return v.map((x) => this.json(x));
    if (v !== null && typeof v === "object") {
      const out: Record<string, HclValue> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.json(x);
      return out;
    }
    return v as HclValue;
  }

  eval(e: Expr, vars: Vars): HclValue {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "paren":
        return this.eval(e.inner, vars);
      case "template":
        return this.template(e.parts, vars);
      case "tuple":
        return e.items.map((x) => this.eval(x, vars));
      case "object": {
        const out: Record<string, HclValue> = {};
        for (const item of e.items) {
          const key = this.eval(item.key, vars);
          if (typeof key !== "string" && typeof key !== "number" && typeof key !== "boolean") {
            throw new EvalError("object keys must be strings", e.pos.line);
          }
          out[String(key)] = this.eval(item.value, vars);
        }
        return out;
      }
      case "variable":
      case "getattr":
      case "index":
        return this.reference(e, vars);
      case "splat": {
        const target = this.eval(e.target, vars);
        if (target === null) return [];
        const list = Array.isArray(target) ? target : [target];
        return list.map((item) => this.evalSplatEach(e.each, item, vars));
      }
      case "splatItem":
        throw new EvalError("splat used outside a splat expression", e.pos.line);
      case "call":
        return callFunction(this, e, vars);
      case "unary": {
        const v = this.eval(e.operand, vars);
        if (e.op === "!") return !toBool(v, e.pos.line);
        return -toNumber(v, e.pos.line);
      }
      case "binary":
        return this.binary(e.op, e.left, e.right, vars, e.pos.line);
      case "conditional":
        return toBool(this.eval(e.cond, vars), e.pos.line) ? this.eval(e.then, vars) : this.eval(e.else, vars);
      case "for":
        return this.forExpr(e, vars);
    }
  }

  private evalSplatEach(each: Expr, item: HclValue, vars: Vars): HclValue {
    if (each.kind === "splatItem") return item;
    if (each.kind === "getattr") return getAttr(this.evalSplatEach(each.target, item, vars), each.name, each.pos.line);
    if (each.kind === "index") return index(this.evalSplatEach(each.target, item, vars), this.eval(each.index, vars), each.pos.line);
    throw new EvalError("invalid splat traversal", each.pos.line);
  }

  private binary(op: string, l: Expr, r: Expr, vars: Vars, line: number): HclValue {
    if (op === "&&") return toBool(this.eval(l, vars), line) && toBool(this.eval(r, vars), line);
    if (op === "||") return toBool(this.eval(l, vars), line) || toBool(this.eval(r, vars), line);
    const a = this.eval(l, vars);
    const b = this.eval(r, vars);
    switch (op) {
      case "==":
        return deepEqual(a, b);
      case "!=":
        return !deepEqual(a, b);
      case "<":
        return toNumber(a, line) < toNumber(b, line);
      case ">":
        return toNumber(a, line) > toNumber(b, line);
      case "<=":
        return toNumber(a, line) <= toNumber(b, line);
      case ">=":
        return toNumber(a, line) >= toNumber(b, line);
      case "+":
        return toNumber(a, line) + toNumber(b, line);
      case "-":
        return toNumber(a, line) - toNumber(b, line);
      case "*":
        return toNumber(a, line) * toNumber(b, line);
      case "/":
        return toNumber(a, line) / toNumber(b, line);
      case "%":
        return toNumber(a, line) % toNumber(b, line);
    }
    throw new EvalError(`unknown operator ${op}`, line);
  }

  private forExpr(e: Extract<Expr, { kind: "for" }>, vars: Vars): HclValue {
    const coll = this.eval(e.collection, vars);
    const entries = iterate(coll, e.pos.line);
    if (!e.object) {
      const out: HclValue[] = [];
      for (const [k, v] of entries) {
        const inner = bind(vars, e.keyVar, k, e.valueVar, v);
        if (e.cond && !toBool(this.eval(e.cond, inner), e.pos.line)) continue;
        out.push(this.eval(e.valueExpr, inner));
      }
      return out;
    }
    const out: Record<string, HclValue> = {};
    for (const [k, v] of entries) {
      const inner = bind(vars, e.keyVar, k, e.valueVar, v);
      if (e.cond && !toBool(this.eval(e.cond, inner), e.pos.line)) continue;
      const key = toStr(this.eval(e.keyExpr!, inner), e.pos.line);
      const value = this.eval(e.valueExpr, inner);
      if (e.group) ((out[key] ??= []) as HclValue[]).push(value);
      else {
        if (key in out) throw new EvalError(`duplicate object key ${JSON.stringify(key)} in for expression; use "..." to group`, e.pos.line);
        out[key] = value;
      }
    }
    return out;
  }

  /** A template made of one interpolation yields the value itself, unconverted (HCL rule). */
  template(parts: TemplatePart[], vars: Vars): HclValue {
    if (parts.length === 1 && parts[0].kind === "interp") return this.eval(parts[0].expr, vars);
    return this.renderParts(parts, vars);
  }

  renderParts(parts: TemplatePart[], vars: Vars): string {
    let out = "";
    for (const part of parts) {
      switch (part.kind) {
        case "text":
          out += part.text;
          break;
        case "interp": {
          const v = this.eval(part.expr, vars);
          out += interpolate(v, part.expr.pos.line);
          break;
        }
        case "if":
          out += this.renderParts(toBool(this.eval(part.cond, vars), part.cond.pos.line) ? part.then : part.else, vars);
          break;
        case "for":
          for (const [k, v] of iterate(this.eval(part.collection, vars), part.collection.pos.line)) {
            out += this.renderParts(part.body, bind(vars, part.keyVar, k, part.valueVar, v));
          }
          break;
      }
    }
    return out;
  }

  /** Resolves a traversal: local scope variables, var.*, local.*, path.*, then the scope's resolver. */
  private reference(e: Expr, vars: Vars): HclValue {
    const chain: Expr[] = [];
    let root: Expr = e;
    while (root.kind === "getattr" || root.kind === "index") {
      chain.unshift(root);
      root = root.target;
    }
    if (root.kind !== "variable") {
      // e.g. (expr).attr or func()[0]
      return this.applyChain(this.eval(root, vars), chain, vars);
    }
    const name = root.name;
    if (vars.has(name)) return this.applyChain(vars.get(name)!, chain, vars);
    if (name === "var" || name === "local" || name === "path") {
      const first = chain[0];
      if (!first || first.kind !== "getattr") throw new EvalError(`${name} must be followed by an attribute name`, root.pos.line);
      let base: HclValue;
      if (name === "var") {
        const vs = this.scope.variables ?? {};
        if (!(first.name in vs)) throw new EvalError(`reference to undeclared input variable var.${first.name}`, first.pos.line);
        base = vs[first.name];
      } else if (name === "local") base = this.local(first.name);
      else if (first.name === "module" || first.name === "root" || first.name === "cwd") base = this.scope.moduleDir;
      else throw new EvalError(`unknown path attribute path.${first.name}`, first.pos.line);
      return this.applyChain(base, chain.slice(1), vars);
    }
    // Static parts of the traversal, as far as they go.
    const parts: (string | number)[] = [name];
    let staticLen = 0;
    for (const link of chain) {
      if (link.kind === "getattr") parts.push(link.name);
      else if (link.kind === "index" && link.index.kind === "literal" && (typeof link.index.value === "number" || typeof link.index.value === "string")) {
        parts.push(link.index.value);
      } else break;
      staticLen++;
    }
    if (this.scope.resolve) {
      for (let n = staticLen; n >= 0; n--) {
        const value = this.scope.resolve(parts.slice(0, n + 1));
        if (value !== undefined) return this.applyChain(value, chain.slice(n), vars);
      }
    }
    throw new EvalError(`unknown reference ${formatRef(parts)}`, root.pos.line);
  }

  private applyChain(value: HclValue, chain: Expr[], vars: Vars): HclValue {
    let v = value;
    for (const link of chain) {
      if (link.kind === "getattr") v = getAttr(v, link.name, link.pos.line);
      else if (link.kind === "index") v = index(v, this.eval(link.index, vars), link.pos.line);
    }
    return v;
  }
}

function formatRef(parts: (string | number)[]): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function bind(vars: Vars, keyVar: string | undefined, k: HclValue, valueVar: string, v: HclValue): Vars {
  const inner = new Map(vars);
  if (keyVar) inner.set(keyVar, k);
  inner.set(valueVar, v);
  return inner;
}

/** Lists iterate by index, maps by key in lexical order (Terraform's order). */
export function iterate(coll: HclValue, line?: number): [HclValue, HclValue][] {
  if (Array.isArray(coll)) return coll.map((v, i) => [i, v]);
  if (coll !== null && typeof coll === "object") return Object.keys(coll).sort().map((k) => [k, coll[k]]);
  throw new EvalError(`cannot iterate over ${typeName(coll)}`, line);
}

export function typeName(v: HclValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  return typeof v === "object" ? "object" : typeof v;
}

function getAttr(v: HclValue, name: string, line: number): HclValue {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    if (name in v) return v[name];
    throw new EvalError(`object has no attribute ${JSON.stringify(name)}`, line);
  }
  throw new EvalError(`cannot read attribute ${JSON.stringify(name)} of ${typeName(v)}`, line);
}

function index(v: HclValue, key: HclValue, line: number): HclValue {
  if (Array.isArray(v)) {
    const n = toNumber(key, line);
    if (!Number.isInteger(n) || n < 0 || n >= v.length) throw new EvalError(`index ${n} out of range for list of ${v.length}`, line);
    return v[n];
  }
  if (v !== null && typeof v === "object") {
    const k = toStr(key, line);
    if (k in v) return v[k];
    throw new EvalError(`key ${JSON.stringify(k)} not found`, line);
  }
  throw new EvalError(`cannot index ${typeName(v)}`, line);
}

export function deepEqual(a: HclValue, b: HclValue): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (typeof a === "object" && typeof b === "object" && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
  }
  return false;
}

export function toBool(v: HclValue, line?: number): boolean {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new EvalError(`a bool is required, got ${typeName(v)}`, line);
}

export function toNumber(v: HclValue, line?: number): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  throw new EvalError(`a number is required, got ${typeName(v)}${typeof v === "string" ? ` ${JSON.stringify(v)}` : ""}`, line);
}

export function toStr(v: HclValue, line?: number): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null) throw new EvalError("a string is required, got null", line);
  throw new EvalError(`a string is required, got ${typeName(v)}`, line);
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toFixed(0) : String(n);
}

function interpolate(v: HclValue, line: number): string {
  if (v === null) throw new EvalError("invalid template interpolation value: the expression result is null", line);
  if (typeof v === "object") throw new EvalError(`invalid template interpolation value: cannot include a ${typeName(v)} in a string`, line);
  return toStr(v, line);
}

export function evaluateExpression(source: string, scope: EvalScope): HclValue {
  return new Evaluator(scope).eval(parseExpression(source), new Map());
}

export function evaluateTemplate(template: string, scope: EvalScope, vars: Record<string, HclValue> = {}): string {
  const e = parseTemplate(template);
  if (e.kind !== "template") throw new EvalError("not a template");
  return new Evaluator(scope).renderParts(e.parts, new Map(Object.entries(vars)));
}

/** Terraform JSON syntax: strings are templates, arrays and objects are evaluated element-wise. */
export function evaluateJsonExpression(value: unknown, scope: EvalScope): HclValue {
  return new Evaluator(scope).json(value);
}
