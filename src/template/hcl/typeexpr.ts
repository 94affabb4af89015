/**
 * Terraform type constraints (`variable { type = … }`): string, number, bool, any, list(T), set(T),
 * map(T), tuple([…]), object({…}) with optional(T[, default]); and applying one to a value as
 * Terraform does (defaults for optional attributes, then conversion).
 */
import type { Expr } from "./ast.js";
import { convert } from "./convert.js";
import { EvalError, rangeOf } from "./diagnostics.js";
import type { Evaluator } from "./evaluate.js";
import { BOOL, DYNAMIC, listOf, mapOf, NUMBER, objectOf, setOf, STRING, tupleOf, type Type } from "./types.js";
import { Value } from "./value.js";

/** A type constraint and the defaults of its optional attributes (nested where they are). */
export interface TypeConstraint {
  type: Type;
  defaults?: Defaults;
}

/** Defaults for optional object attributes, and defaults nested inside attributes or elements. */
export interface Defaults {
  values: Map<string, Value>;
  children: Map<string, Defaults>;
}

const bad = (e: Expr, detail: string): never => {
  throw new EvalError("Invalid type specification", detail, rangeOf(e.pos, e.end));
};

export function parseTypeConstraint(e: Expr, ev: Evaluator): TypeConstraint {
  if (e.kind === "variable") {
    switch (e.name) {
      case "string":
        return { type: STRING };
      case "number":
        return { type: NUMBER };
      case "bool":
        return { type: BOOL };
      case "any":
        return { type: DYNAMIC };
      case "list":
      case "set":
      case "map":
        return bad(e, `The ${e.name} type constructor requires one argument specifying the element type.`);
      default:
        return bad(e, `The keyword ${JSON.stringify(e.name)} is not a valid type specification.`);
    }
  }
  if (e.kind !== "call") return bad(e, "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).");
  const arg = e.args[0];
  switch (e.name) {
    case "list":
    case "set":
    case "map": {
      if (e.args.length !== 1) bad(e, `The ${e.name} type constructor requires one argument specifying the element type.`);
      const inner = parseTypeConstraint(arg, ev);
      const type = e.name === "list" ? listOf(inner.type) : e.name === "set" ? setOf(inner.type) : mapOf(inner.type);
      return { type, defaults: inner.defaults ? { values: new Map(), children: new Map([["*", inner.defaults]]) } : undefined };
    }
    case "tuple": {
      if (e.args.length !== 1 || arg.kind !== "tuple") return bad(e, "The tuple type constructor requires one argument specifying the element types as a list.");
      const elems = arg.items.map((x) => parseTypeConstraint(x, ev));
      const children = new Map<string, Defaults>();
      elems.forEach((x, i) => x.defaults && children.set(String(i), x.defaults));
      return { type: tupleOf(elems.map((x) => x.type)), defaults: children.size ? { values: new Map(), children } : undefined };
    }
    case "object": {
      if (e.args.length !== 1 || arg.kind !== "object") return bad(e, "The object type constructor requires one argument specifying the attribute types as a map.");
      const attrs: [string, Type][] = [];
      const optional = new Set<string>();
      const values = new Map<string, Value>();
      const children = new Map<string, Defaults>();
      for (const item of arg.items) {
        const key = item.keyIsIdent && item.key.kind === "literal" ? item.key.value.asString() : convert(ev.eval(item.key), STRING).asString();
        let valueExpr = item.value;
        if (valueExpr.kind === "call" && valueExpr.name === "optional") {
          if (valueExpr.args.length < 1 || valueExpr.args.length > 2) bad(valueExpr, "Optional attribute modifier requires the attribute type as its first argument and an optional default value as its second.");
          optional.add(key);
          const inner = parseTypeConstraint(valueExpr.args[0], ev);
          if (valueExpr.args[1]) values.set(key, convert(ev.eval(valueExpr.args[1]), inner.type));
          if (inner.defaults) children.set(key, inner.defaults);
          attrs.push([key, inner.type]);
          continue;
        }
        const inner = parseTypeConstraint(valueExpr, ev);
        if (inner.defaults) children.set(key, inner.defaults);
        attrs.push([key, inner.type]);
      }
      return { type: objectOf(attrs, optional), defaults: values.size || children.size ? { values, children } : undefined };
    }
    default:
      return bad(e, `Keyword ${JSON.stringify(e.name)} is not a valid type constructor.`);
  }
}

/** Fills in defaults of optional attributes (Terraform applies them before converting). */
function applyDefaults(v: Value, d: Defaults | undefined): Value {
  if (!d || v.isNull || !v.isKnown) return v;
  if (v.raw instanceof Map) {
    const m = new Map(v.asMap());
    for (const [k, dv] of d.values) if (!m.has(k) || m.get(k)!.isNull) m.set(k, dv);
    for (const [k, child] of d.children) {
      if (k === "*") for (const [mk, mv] of m) m.set(mk, applyDefaults(mv, child));
      else if (m.has(k)) m.set(k, applyDefaults(m.get(k)!, child));
    }
    return v.type.kind === "map" && d.values.size === 0 ? Value.map(m) : Value.object(m);
  }
  if (Array.isArray(v.raw)) {
    const star = d.children.get("*");
    const items = v.asArray().map((x, i) => applyDefaults(x, star ?? d.children.get(String(i))));
    return Value.tuple(items);
  }
  return v;
}

/** A value given for a variable with this constraint, as Terraform stores it. */
export function applyTypeConstraint(v: Value, c: TypeConstraint): Value {
  return convert(applyDefaults(v, c.defaults), c.type);
}
