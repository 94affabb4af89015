/**
 * Evaluation of HCL expressions and templates with Terraform's semantics: cty values and types,
 * unknown values that propagate (naming the reference that was unknown), and hclsyntax's rules and
 * error messages for operators, conditionals, for expressions, splats, indexes and templates.
 */
import type { Expr, Range, TemplatePart } from "./ast.js";
import { ConversionError, convert, unify } from "./convert.js";
import { EvalError, rangeOf } from "./diagnostics.js";
export { UnknownSignal } from "./diagnostics.js";
import { callFunction, type FunctionTable } from "./functions/index.js";
import { BigFloat, NumberError } from "./number.js";
import { BOOL, DYNAMIC, friendlyName, NUMBER, STRING, type Type } from "./types.js";
import { equals, FALSE, NULL, TRUE, Unknown, Value } from "./value.js";

/** What an expression can refer to. Everything is resolved through `resolve`. */
export interface EvalScope {
  /**
   * The value of a referenceable object, by its address: ["var", "x"], ["local", "x"],
   * ["data", "coder_workspace", "me"], ["aws_instance", "x"], ["module", "m"], ["count", "index"],
   * ["each", "key"], ["path", "module"], ["terraform", "workspace"], ["self"]. Throws an EvalError
   * (static) when the object is not declared. `rest` are the static steps written after the address
   * (attribute names, literal indexes): a scope may resolve some of them itself (to evaluate only
   * the attribute asked for) and says how many it consumed.
   */
  resolve(address: string[], range: Range, rest: Step[]): Value | Resolved;
  /** Directory relative file paths are read from (Terraform's working directory). */
  baseDir: string;
  /** Reads a file's bytes (default: from disk). */
  readFile?(absPath: string): Buffer;
  /** Extra functions (e.g. `type` in the console) beside Terraform's built-ins. */
  functions?: FunctionTable;
  /** Time used by `timestamp()`/`plantimestamp()` (default now). */
  now?: Date;
  /** Nesting depth of templatefile() calls (templates cannot call templatefile again). */
  templateDepth?: number;
  /** Providers of the module's required_providers, by local name, with their source address. */
  providers?: ReadonlyMap<string, string | undefined>;
  /** Built-in functions that do not exist here (plantimestamp in the console). */
  hiddenFunctions?: ReadonlySet<string>;
}

/** A static step after an address: `.name`, or `[key]` (also the legacy `.0`). */
export type Step = { attr: string } | { index: string | number };

/** A value the scope resolved with some of the traversal's following steps already applied. */
export interface Resolved {
  value: Value;
  consumed: number;
}

type Vars = Map<string, Value>;

const range = (e: { pos: Expr["pos"]; end: Expr["end"] }): Range => rangeOf(e.pos, e.end);

/** Roots that are not objects of their own: the next one or two names are part of the address. */
const ADDRESS_DEPTH: Record<string, number> = { var: 2, local: 2, module: 2, data: 3, count: 2, each: 2, path: 2, terraform: 2, self: 1 };

export class Evaluator {
  constructor(readonly scope: EvalScope) {}

  eval(e: Expr, vars: Vars = new Map()): Value {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "paren":
        return this.eval(e.inner, vars);
      case "template":
        return this.template(e.parts, vars, range(e));
      case "tuple":
        return Value.tuple(e.items.map((x) => this.eval(x, vars)));
      case "object":
        return this.object(e, vars);
      case "variable":
      case "getattr":
      case "index":
        return this.traversal(e, vars);
      case "splat":
        return this.splat(e, vars);
      case "splatItem": {
        const item = vars.get(SPLAT_ITEM);
        if (!item) throw new EvalError("Invalid splat", "A splat item is used outside a splat expression.", range(e));
        return item;
      }
      case "call":
        return callFunction(this, e, vars);
      case "unary":
        return this.unary(e, vars);
      case "binary":
        return this.binary(e, vars);
      case "conditional":
        return this.conditional(e, vars);
      case "for":
        return this.forExpr(e, vars);
    }
  }

  private object(e: Extract<Expr, { kind: "object" }>, vars: Vars): Value {
    const entries: [string, Value][] = [];
    let unknown: string | undefined;
    let sensitiveKey = false;
    for (const item of e.items) {
      const k = this.eval(item.key, vars);
      if (k.isNull) throw new EvalError("Null value as key", "Can't use a null value as a key.", range(item.key));
      let ks: Value;
      try {
        ks = convert(k, STRING);
      } catch (err) {
        throw new EvalError("Incorrect key type", `Can't use this value as a key: ${(err as ConversionError).describe()}.`, range(item.key));
      }
      const v = this.eval(item.value, vars);
      if (!ks.isKnown) {
        unknown ??= (ks.raw as Unknown).reason;
        continue;
      }
      if (ks.sensitive) sensitiveKey = true;
      const key = ks.asString();
      const at = entries.findIndex(([x]) => x === key);
      if (at >= 0) entries.splice(at, 1);
      entries.push([key, v]);
    }
    if (unknown !== undefined) return Value.unknown(DYNAMIC, unknown);
    return Value.object(entries).withSensitive(sensitiveKey);
  }

  /** A traversal from a root name: local (for/splat/template) variables, else the scope's objects. */
  private traversal(e: Expr, vars: Vars): Value {
    const chain: Expr[] = [];
    let root: Expr = e;
    while (root.kind === "getattr" || root.kind === "index") {
      chain.unshift(root);
      root = root.target;
    }
    if (root.kind !== "variable") return this.applyChain(this.eval(root, vars), chain, vars);
    const local = vars.get(root.name);
    if (local) return this.applyChain(local, chain, vars);
    const depth = ADDRESS_DEPTH[root.name] ?? 2;
    const address = [root.name];
    let used = 0;
    while (address.length < depth) {
      const step = chain[used];
      if (!step || step.kind !== "getattr") {
        if (root.name in NAMED_ROOTS) {
          address.push("");
          break;
        }
        throw new EvalError("Invalid reference", invalidReferenceDetail(root.name, address.length), range(step ?? root), true);
      }
      address.push(step.name);
      used++;
    }
    const remaining = chain.slice(used);
    const rest: Step[] = [];
    for (const step of remaining) {
      if (step.kind === "getattr") rest.push({ attr: step.name });
      else if (step.kind === "index" && step.index.kind === "literal" && ["string", "number"].includes(step.index.value.type.kind)) {
        const k = step.index.value;
        rest.push({ index: k.type.kind === "string" ? k.asString() : k.asNumber().isInt() ? Number(k.asNumber().toBigInt()) : k.asNumber().toString() });
      } else break;
    }
    const got = this.scope.resolve(address, rangeOf(root.pos, (chain[used - 1] ?? root).end), rest);
    if (got instanceof Value) return this.applyChain(got, remaining, vars);
    return this.applyChain(got.value, remaining.slice(got.consumed), vars);
  }

  private applyChain(value: Value, chain: Expr[], vars: Vars): Value {
    let v = value;
    for (const link of chain) {
      if (link.kind === "getattr") v = getAttr(v, link.name, range(link));
      else if (link.kind === "index") v = index(v, this.eval((link as Extract<Expr, { kind: "index" }>).index, vars), range(link));
    }
    return v;
  }

  private splat(e: Extract<Expr, { kind: "splat" }>, vars: Vars): Value {
    let source = this.eval(e.target, vars);
    const t = source.type;
    const autoUpgrade = !(t.kind === "tuple" || t.kind === "list" || t.kind === "set");
    if (source.isNull) {
      if (autoUpgrade) return Value.tuple([]);
      throw new EvalError("Splat of null value", "Splat expressions (with the * symbol) cannot be applied to null sequences.", range(e));
    }
    if (!source.isKnown) return Value.unknown(DYNAMIC, (source.raw as Unknown).reason);
    if (autoUpgrade) source = Value.tuple([source]);
    const out: Value[] = [];
    for (const item of source.asArray()) {
      const inner = new Map(vars);
      inner.set(SPLAT_ITEM, item);
      out.push(this.eval(e.each, inner));
    }
    const sens = source.sensitive;
    if (source.type.kind === "list" || source.type.kind === "set") {
      if (out.length === 0) return Value.list([], DYNAMIC).withSensitive(sens);
      const u = unify(
        out.map((v) => v.type),
        false,
      );
      if (u) return Value.list(out.map((v) => convert(v, u)), u).withSensitive(sens);
    }
    return Value.tuple(out).withSensitive(sens);
  }

  private unary(e: Extract<Expr, { kind: "unary" }>, vars: Vars): Value {
    const v = this.eval(e.operand, vars);
    const want = e.op === "!" ? BOOL : NUMBER;
    const x = operand(v, want, "unary", range(e.operand));
    if (!x.isKnown) return Value.unknown(want, (x.raw as Unknown).reason).withSensitive(x.sensitive);
    if (e.op === "!") return Value.bool(!x.asBool()).withSensitive(x.sensitive);
    return Value.number(x.asNumber().neg_()).withSensitive(x.sensitive);
  }

  private binary(e: Extract<Expr, { kind: "binary" }>, vars: Vars): Value {
    const op = e.op;
    if (op === "==" || op === "!=") {
      const a = this.eval(e.left, vars);
      const b = this.eval(e.right, vars);
      const eq = equals(a.unmarkDeep(), b.unmarkDeep());
      const sens = a.isDeepSensitive() || b.isDeepSensitive();
      if (eq === undefined) return Value.unknown(BOOL, a.unknownReason ?? b.unknownReason ?? "").withSensitive(sens);
      return Value.bool(op === "==" ? eq : !eq).withSensitive(sens);
    }
    if (op === "&&" || op === "||") return this.logical(e, vars);
    const a = operand(this.eval(e.left, vars), NUMBER, "left", range(e.left));
    const b = operand(this.eval(e.right, vars), NUMBER, "right", range(e.right));
    const sens = a.sensitive || b.sensitive;
    const isCompare = op === "<" || op === ">" || op === "<=" || op === ">=";
    if (!a.isKnown || !b.isKnown) {
      return Value.unknown(isCompare ? BOOL : NUMBER, (!a.isKnown ? (a.raw as Unknown) : (b.raw as Unknown)).reason).withSensitive(sens);
    }
    const x = a.asNumber();
    const y = b.asNumber();
    try {
      switch (op) {
        case "<":
          return Value.bool(x.cmp(y) < 0).withSensitive(sens);
        case ">":
          return Value.bool(x.cmp(y) > 0).withSensitive(sens);
        case "<=":
          return Value.bool(x.cmp(y) <= 0).withSensitive(sens);
        case ">=":
          return Value.bool(x.cmp(y) >= 0).withSensitive(sens);
        case "+":
          return Value.number(x.add(y)).withSensitive(sens);
        case "-":
          return Value.number(x.sub(y)).withSensitive(sens);
        case "*":
          return Value.number(x.mul(y)).withSensitive(sens);
        case "/":
          return Value.number(x.quo(y)).withSensitive(sens);
        case "%":
          return Value.number(modulo(x, y)).withSensitive(sens);
      }
    } catch (err) {
      if (err instanceof NumberError) throw new EvalError("Operation failed", `Error during operation: ${err.message}.`, range(e));
      throw err;
    }
    throw new EvalError("Invalid operator", `Unknown operator ${op}.`, range(e));
  }

  /** `&&`/`||`: a known left operand that decides the result skips the right one's errors (HCL 2.22+). */
  private logical(e: Extract<Expr, { kind: "binary" }>, vars: Vars): Value {
    const a = operand(this.eval(e.left, vars), BOOL, "left", range(e.left));
    const decided = e.op === "&&" ? FALSE : TRUE;
    if (a.isKnown && a.asBool() === decided.asBool()) {
      return decided.withSensitive(a.sensitive);
    }
    const b = operand(this.eval(e.right, vars), BOOL, "right", range(e.right));
    const sens = a.sensitive || b.sensitive;
    if (b.isKnown && b.asBool() === decided.asBool()) return decided.withSensitive(sens);
    if (!a.isKnown || !b.isKnown) return Value.unknown(BOOL, (!a.isKnown ? (a.raw as Unknown) : (b.raw as Unknown)).reason).withSensitive(sens);
    return Value.bool(e.op === "&&" ? a.asBool() && b.asBool() : a.asBool() || b.asBool()).withSensitive(sens);
  }

  private conditional(e: Extract<Expr, { kind: "conditional" }>, vars: Vars): Value {
    const attempt = (x: Expr): { value: Value; error?: unknown } => {
      try {
        return { value: this.eval(x, vars) };
      } catch (err) {
        if (err instanceof EvalError && !err.isStatic) return { value: Value.unknown(DYNAMIC, ""), error: err };
        throw err;
      }
    };
    const t = attempt(e.then);
    const f = attempt(e.else);
    let resultType: Type | undefined = DYNAMIC;
    const isDynNull = (v: Value) => v.isNull && v.type.kind === "dynamic";
    if (isDynNull(t.value) && !t.error) resultType = f.value.type;
    else if (isDynNull(f.value) && !f.error) resultType = t.value.type;
    else if (t.value.type.kind === "dynamic" || f.value.type.kind === "dynamic") resultType = DYNAMIC;
    else resultType = unify([t.value.type, f.value.type], true);
    if (!resultType) {
      throw new EvalError(
        "Inconsistent conditional result types",
        `The true and false result expressions must have consistent types. ${describeConditionalMismatch(t.value.type, f.value.type)}.`,
        range(e),
      );
    }
    const c = this.eval(e.cond, vars);
    if (c.isNull) throw new EvalError("Null condition", "The condition value is null. Conditions must either be true or false.", range(e.cond));
    if (!c.isKnown) {
      if (t.value.isNull && f.value.isNull && !t.error && !f.error) return Value.nullOf(resultType);
      return Value.unknown(resultType, (c.raw as Unknown).reason);
    }
    let cb: Value;
    try {
      cb = convert(c, BOOL);
    } catch {
      throw new EvalError("Incorrect condition type", "The condition expression must be of type bool.", range(e.cond));
    }
    const chosen = cb.asBool() ? t : f;
    if (chosen.error) throw chosen.error;
    try {
      const out = convert(chosen.value, resultType);
      return cb.sensitive ? out.withSensitive(true) : out;
    } catch (err) {
      throw new EvalError(
        "Inconsistent conditional result types",
        `The ${cb.asBool() ? "true" : "false"} result value has the wrong type: ${(err as ConversionError).describe()}.`,
        range(cb.asBool() ? e.then : e.else),
      );
    }
  }

  private forExpr(e: Extract<Expr, { kind: "for" }>, vars: Vars): Value {
    const coll = this.eval(e.collection, vars);
    if (coll.isNull) throw new EvalError("Iteration over null value", "A null value cannot be used as the collection in a 'for' expression.", range(e.collection));
    const t = coll.type;
    if (!["list", "set", "tuple", "map", "object", "dynamic"].includes(t.kind)) {
      throw new EvalError("Iteration over non-iterable value", `A value of type ${friendlyName(t)} cannot be used as the collection in a 'for' expression.`, range(e.collection));
    }
    if (!coll.isKnown) return Value.unknown(DYNAMIC, (coll.raw as Unknown).reason);
    const sens = coll.sensitive;
    const entries = iterate(coll);
    const items: { k: Value; v: Value }[] = [];
    let unknown: string | undefined;
    for (const [k, v] of entries) {
      const inner = new Map(vars);
      if (e.keyVar) inner.set(e.keyVar, k);
      inner.set(e.valueVar, v);
      if (e.cond) {
        const c = this.eval(e.cond, inner);
        if (c.isNull) throw new EvalError("Condition is null", "The value of the 'if' clause must not be null.", range(e.cond));
        let cb: Value;
        try {
          cb = convert(c, BOOL);
        } catch (err) {
          throw new EvalError("Invalid 'for' condition", `The 'if' clause value is invalid: ${(err as ConversionError).describe()}.`, range(e.cond));
        }
        if (!cb.isKnown) {
          unknown ??= (cb.raw as Unknown).reason;
          continue;
        }
        if (!cb.asBool()) continue;
      }
      if (e.object) {
        const kv = this.eval(e.keyExpr!, inner);
        if (kv.isNull) throw new EvalError("Invalid object key", "Key expression in 'for' expression must not produce a null value.", range(e.keyExpr!));
        let ks: Value;
        try {
          ks = convert(kv, STRING);
        } catch (err) {
          throw new EvalError("Invalid object key", `The key expression produced an invalid result: ${(err as ConversionError).describe()}.`, range(e.keyExpr!));
        }
        const vv = this.eval(e.valueExpr, inner);
        if (!ks.isKnown) {
          unknown ??= (ks.raw as Unknown).reason;
          continue;
        }
        items.push({ k: ks, v: vv });
      } else items.push({ k: NULL, v: this.eval(e.valueExpr, inner) });
    }
    if (unknown !== undefined) return Value.unknown(DYNAMIC, unknown);
    if (!e.object) return Value.tuple(items.map((x) => x.v)).withSensitive(sens);
    const out = new Map<string, Value[]>();
    for (const { k, v } of items) {
      const key = k.asString();
      const prior = out.get(key);
      if (prior && !e.group) {
        throw new EvalError(
          "Duplicate object key",
          `Two different items produced the key ${JSON.stringify(key)} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.`,
          range(e.keyExpr!),
        );
      }
      if (prior) prior.push(v);
      else out.set(key, [v]);
    }
    return Value.object([...out].map(([k, vs]) => [k, e.group ? Value.tuple(vs) : vs[0]])).withSensitive(sens);
  }

  /** A template that is exactly one interpolation yields the value itself, unconverted (HCL rule). */
  template(parts: TemplatePart[], vars: Vars, r?: Range): Value {
    if (parts.length === 1 && parts[0].kind === "interp") return this.eval(parts[0].expr, vars);
    return this.render(parts, vars, r);
  }

  /** Renders template parts to a string value (unknown when any part is unknown). */
  render(parts: TemplatePart[], vars: Vars, r?: Range): Value {
    const state = { out: "", unknown: undefined as string | undefined, prefix: undefined as string | undefined, sensitive: false };
    this.renderInto(parts, vars, state, r);
    // HCL refines an unknown template result: never null, and it starts with the text before the first unknown.
    if (state.unknown !== undefined) return Value.unknown(STRING, state.unknown, { notNull: true, prefix: state.prefix }).withSensitive(state.sensitive);
    return Value.string(state.out).withSensitive(state.sensitive);
  }

  private renderInto(parts: TemplatePart[], vars: Vars, state: { out: string; unknown?: string; prefix?: string; sensitive: boolean }, r?: Range): void {
    for (const part of parts) {
      switch (part.kind) {
        case "text":
          state.out += part.text;
          break;
        case "interp": {
          const v = this.eval(part.expr, vars);
          if (v.isNull) {
            throw new EvalError("Invalid template interpolation value", "The expression result is null. Cannot include a null value in a string template.", range(part.expr));
          }
          let s: Value;
          try {
            s = convert(v, STRING);
          } catch (err) {
            throw new EvalError("Invalid template interpolation value", `Cannot include the given value in a string template: ${(err as ConversionError).describe()}.`, range(part.expr));
          }
          if (s.sensitive) state.sensitive = true;
          if (!s.isKnown) {
            if (state.unknown === undefined) {
              state.unknown = (s.raw as Unknown).reason;
              state.prefix = state.out + ((s.raw as Unknown).prefix ?? "");
            }
          } else state.out += s.asString();
          break;
        }
        case "if": {
          const c = this.eval(part.cond, vars);
          if (c.isNull) throw new EvalError("Null condition", "The condition value is null. Conditions must either be true or false.", range(part.cond));
          let cb: Value;
          try {
            cb = convert(c, BOOL);
          } catch {
            throw new EvalError("Incorrect condition type", "The condition expression must be of type bool.", range(part.cond));
          }
          if (cb.sensitive) state.sensitive = true;
          if (!cb.isKnown) {
            if (state.unknown === undefined) {
              state.unknown = (cb.raw as Unknown).reason;
              state.prefix = state.out;
            }
            break;
          }
          this.renderInto(cb.asBool() ? part.then : part.else, vars, state, r);
          break;
        }
        case "for": {
          const coll = this.eval(part.collection, vars);
          if (coll.isNull) throw new EvalError("Iteration over null value", "A null value cannot be used as the collection in a 'for' directive.", range(part.collection));
          if (!coll.isKnown) {
            if (state.unknown === undefined) {
              state.unknown = (coll.raw as Unknown).reason;
              state.prefix = state.out;
            }
            break;
          }
          if (!["list", "set", "tuple", "map", "object"].includes(coll.type.kind)) {
            throw new EvalError("Iteration over non-iterable value", `A value of type ${friendlyName(coll.type)} cannot be used as the collection in a 'for' directive.`, range(part.collection));
          }
          if (coll.sensitive) state.sensitive = true;
          for (const [k, v] of iterate(coll)) {
            const inner = new Map(vars);
            if (part.keyVar) inner.set(part.keyVar, k);
            inner.set(part.valueVar, v);
            this.renderInto(part.body, inner, state, r);
          }
          break;
        }
      }
    }
  }
}

const SPLAT_ITEM = "\u0000splat";

/** Roots whose missing attribute name Terraform reports as a lookup of "" (e.g. `local` alone). */
const NAMED_ROOTS: Record<string, true> = { var: true, local: true, count: true, each: true, path: true, terraform: true };

function invalidReferenceDetail(root: string, have: number): string {
  switch (root) {
    case "var":
      return "The \"var\" object does not support this operation.";
    case "local":
      return "The \"local\" object cannot be accessed directly. Instead, access one of its attributes.";
    case "data":
      return have === 1 ? "The \"data\" object must be followed by two attribute names: the data source type and the resource name." : "The \"data\" object must be followed by two attribute names: the data source type and the resource name.";
    case "module":
      return "The \"module\" object cannot be accessed directly. Instead, access one of its attributes.";
    case "count":
      return "The \"count\" object does not support this operation.";
    case "each":
      return "The \"each\" object does not support this operation.";
    case "path":
      return "The \"path\" object does not support this operation.";
    case "terraform":
      return "The \"terraform\" object does not support this operation.";
    default:
      return "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.";
  }
}

/** Converts an operand for an operator, with hclsyntax's messages. */
function operand(v: Value, want: Type, side: "left" | "right" | "unary", r: Range): Value {
  if (v.isNull) throw new EvalError("Operation failed", "Error during operation: argument must not be null.", r);
  try {
    return convert(v, want);
  } catch (err) {
    throw new EvalError("Invalid operand", `Unsuitable value for ${side} operand: ${(err as ConversionError).describe()}.`, r);
  }
}

/** cty's Modulo: a - b × trunc(a / b), with the operands' precision. */
function modulo(a: BigFloat, b: BigFloat): BigFloat {
  if (a.isInf() || b.isInf()) return a.mul(b);
  if (b.isZero()) return a;
  const q = a.quo(b);
  const t = BigFloat.fromBigInt(q.toBigInt(), Math.max(a.prec, b.prec));
  return a.sub(b.mul(t));
}

function describeConditionalMismatch(t: Type, f: Type): string {
  if (t.kind === "object" && f.kind === "object") {
    const onlyT = [...t.attrs.keys()].filter((k) => !f.attrs.has(k));
    const onlyF = [...f.attrs.keys()].filter((k) => !t.attrs.has(k));
    if (onlyT.length + onlyF.length > 0) return "The 'true' value includes object attribute " + JSON.stringify(onlyT[0] ?? onlyF[0]) + ", which is absent in the 'false' value";
    return "The 'true' and 'false' values have object types with different attribute types";
  }
  if (t.kind === "tuple" && f.kind === "tuple") {
    if (t.elems.length !== f.elems.length) return `The 'true' tuple has length ${t.elems.length}, but the 'false' tuple has length ${f.elems.length}`;
  }
  return `The 'true' value is ${friendlyName(t)}, but the 'false' value is ${friendlyName(f)}`;
}

/** Elements with their keys: sequences by index, maps and objects by key in cty order. */
export function iterate(coll: Value): [Value, Value][] {
  if (Array.isArray(coll.raw)) {
    if (coll.type.kind === "set") return coll.raw.map((v) => [v, v]);
    return coll.raw.map((v, i) => [Value.int(i), v]);
  }
  if (coll.raw instanceof Map) return [...coll.raw].map(([k, v]) => [Value.string(k), v]);
  return [];
}

/** hcl.GetAttr: `v.name` on objects and maps. */
export function getAttr(v: Value, name: string, r?: Range): Value {
  if (v.isNull) throw new EvalError("Attempt to get attribute from null value", "This value is null, so it does not have any attributes.", r);
  const t = v.type;
  const mark = (x: Value) => (v.sensitive ? x.withSensitive(true) : x);
  switch (t.kind) {
    case "object":
      if (!t.attrs.has(name) && v.open && v.isKnown) return mark(Value.unknown(DYNAMIC, `${v.open}.${name}`));
      if (!t.attrs.has(name)) throw new EvalError("Unsupported attribute", `This object does not have an attribute named ${JSON.stringify(name)}.`, r);
      if (!v.isKnown) return mark(Value.unknown(t.attrs.get(name)!, (v.raw as Unknown).reason));
      return mark(v.asMap().get(name)!);
    case "map": {
      if (!v.isKnown) return mark(Value.unknown(t.elem, (v.raw as Unknown).reason));
      const out = v.asMap().get(name);
      if (!out) throw new EvalError("Missing map element", `This map does not have an element with the key ${JSON.stringify(name)}.`, r);
      return mark(out);
    }
    case "dynamic":
      return Value.unknown(DYNAMIC, v.unknownReason ?? "");
    case "list":
      if (t.elem.kind === "object") {
        throw new EvalError(
          "Unsupported attribute",
          t.elem.attrs.has(name)
            ? `Can't access attributes on a list of objects. Did you mean to access attribute ${JSON.stringify(name)} for a specific element of the list, or across all elements of the list?`
            : "Can't access attributes on a list of objects. Did you mean to access an attribute for a specific element of the list, or across all elements of the list?",
          r,
        );
      }
      break;
    case "set":
      if (t.elem.kind === "object") {
        throw new EvalError("Unsupported attribute", "Can't access attributes on a set of objects. Did you mean to access an attribute across all elements of the set?", r);
      }
      break;
    case "string":
    case "number":
    case "bool":
      throw new EvalError("Unsupported attribute", `Can't access attributes on a primitive-typed value (${t.kind}).`, r);
  }
  throw new EvalError("Unsupported attribute", "This value does not have any attributes.", r);
}

const NOT_AN_ELEMENT = "The given key does not identify an element in this collection value";

/** hcl.Index: `v[key]` on sequences, maps and objects. */
export function index(v: Value, key: Value, r?: Range): Value {
  if (v.isNull) throw new EvalError("Attempt to index null value", "This value is null, so it does not have any indices.", r);
  if (key.isNull) throw new EvalError("Invalid index", "Can't use a null value as an indexing key.", r);
  const t = v.type;
  if (t.kind === "dynamic" || key.type.kind === "dynamic") return Value.unknown(DYNAMIC, v.unknownReason ?? key.unknownReason ?? "");
  const mark = (x: Value) => (v.sensitive || key.sensitive ? x.withSensitive(true) : x);
  if (t.kind === "list" || t.kind === "tuple" || t.kind === "map") {
    let k: Value;
    try {
      k = convert(key, t.kind === "map" ? STRING : NUMBER);
    } catch (err) {
      throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}: ${(err as ConversionError).describe()}.`, r);
    }
    const elemType = t.kind === "tuple" ? DYNAMIC : t.elem;
    const reason = !v.isKnown ? (v.raw as Unknown).reason : !k.isKnown ? (k.raw as Unknown).reason : undefined;
    if (reason !== undefined) return mark(Value.unknown(elemType, reason));
    if (t.kind === "map") {
      const out = v.asMap().get(k.asString());
      if (!out) throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}.`, r);
      return mark(out);
    }
    const n = k.asNumber();
    const arr = v.asArray();
    if (!n.isInt()) throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}: indexing a sequence requires a whole number, but the given index has a fractional part.`, r);
    const i = n.toBigInt();
    if (i < 0n) throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}: a negative number is not a valid index for a sequence.`, r);
    if (i >= BigInt(arr.length)) {
      throw new EvalError(
        "Invalid index",
        arr.length === 0 ? `${NOT_AN_ELEMENT}: the collection has no elements.` : `${NOT_AN_ELEMENT}: the given index is greater than or equal to the length of the collection.`,
        r,
      );
    }
    return mark(arr[Number(i)]);
  }
  if (t.kind === "object") {
    let k: Value;
    try {
      k = convert(key, STRING);
    } catch (err) {
      throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}: ${(err as ConversionError).describe()}.`, r);
    }
    if (!v.isKnown || !k.isKnown) return mark(Value.unknown(DYNAMIC, v.unknownReason ?? k.unknownReason ?? ""));
    const out = v.asMap().get(k.asString());
    if (!out && v.open) return mark(Value.unknown(DYNAMIC, `${v.open}.${k.asString()}`));
    if (!out) {
      const hint = key.type.kind === "number" ? " An object only supports looking up attributes by name, not by numeric index." : "";
      throw new EvalError("Invalid index", `${NOT_AN_ELEMENT}.${hint}`, r);
    }
    return mark(out);
  }
  if (t.kind === "set") {
    throw new EvalError(
      "Invalid index",
      "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.",
      r,
    );
  }
  throw new EvalError("Invalid index", "This value does not have any indices.", r);
}

