/**
 * Type conversion and unification as cty's `convert` package does them (Terraform's rules for
 * `tolist`, `tomap`, conditionals, function arguments, `concat`, …).
 */
import { BigFloat } from "./number.js";
import { BOOL, DYNAMIC, friendlyName, hasDynamic, listOf, mapOf, NUMBER, objectOf, setOf, STRING, tupleOf, type Type, typeEquals } from "./types.js";
import { Unknown, Value } from "./value.js";

/** A failed conversion; `path` is where inside the value it failed. */
export class ConversionError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
  }

  /** cty's error text, with the element path as Terraform prints it. */
  describe(): string {
    if (this.path.length === 0) return this.message;
    const p = this.path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");
    return `${p.startsWith(".") ? p.slice(1) : p}: ${this.message}`;
  }
}

const fail = (message: string, path: (string | number)[] = []): never => {
  throw new ConversionError(message, path);
};

/** Whether a conversion from `from` to `to` exists (safe = no string→number/bool parsing). */
export function canConvert(from: Type, to: Type, unsafe: boolean): boolean {
  return conversionExists(from, to, unsafe);
}

function conversionExists(from: Type, to: Type, unsafe: boolean): boolean {
  if (to.kind === "dynamic" || from.kind === "dynamic") return true;
  if (typeEquals(from, to)) return true;
  switch (to.kind) {
    case "string":
      return from.kind === "number" || from.kind === "bool";
    case "number":
    case "bool":
      return unsafe && from.kind === "string";
    case "list":
    case "set":
      if (from.kind === "list" || from.kind === "set") return conversionExists(from.elem, to.elem, unsafe);
      if (from.kind === "tuple") {
        if (to.elem.kind === "dynamic") return from.elems.length === 0 || unify(from.elems, unsafe) !== undefined;
        return from.elems.every((e) => conversionExists(e, to.elem, unsafe));
      }
      return false;
    case "map":
      if (from.kind === "map") return conversionExists(from.elem, to.elem, unsafe);
      if (from.kind === "object") {
        const attrs = [...from.attrs.values()];
        if (to.elem.kind === "dynamic") return attrs.length === 0 || unify(attrs, unsafe) !== undefined;
        return attrs.every((e) => conversionExists(e, to.elem, unsafe));
      }
      return false;
    case "tuple":
      if (from.kind === "tuple") return from.elems.length === to.elems.length && from.elems.every((e, i) => conversionExists(e, to.elems[i], unsafe));
      // A list or set converts to a tuple only once its length is known: cty allows it in unsafe mode.
      if (from.kind === "list" || from.kind === "set") return unsafe && to.elems.every((e) => conversionExists(from.elem, e, unsafe));
      return false;
    case "object":
      if (from.kind === "object") {
        for (const [k, t] of to.attrs) {
          const f = from.attrs.get(k);
          if (f === undefined) {
            if (!to.optional?.has(k)) return false;
          } else if (!conversionExists(f, t, unsafe)) return false;
        }
        // Extra attributes are dropped (cty: shallow object conversions are the same safe or unsafe).
        return true;
      }
      // Whether the keys match the attributes is known only from the value.
      if (from.kind === "map") return [...to.attrs.values()].every((t) => conversionExists(from.elem, t, unsafe));
      return false;
  }
  return false;
}

/** Converts a value to a type as cty's convert.Convert does (unsafe conversions allowed). */
export function convert(v: Value, to: Type, path: (string | number)[] = []): Value {
  if (to.kind === "dynamic") return v;
  if (typeEquals(v.type, to)) return v;
  if (!conversionExists(v.type, to, true)) fail(mismatchMessage(v.type, to), path);
  if (v.raw === null) return new Value(to, null, v.sensitive);
  if (v.raw instanceof Unknown) return new Value(to, v.raw, v.sensitive);
  const out = convertKnown(v, to, path);
  return v.sensitive ? out.withSensitive(true) : out;
}

function convertKnown(v: Value, to: Type, path: (string | number)[]): Value {
  const from = v.type;
  switch (to.kind) {
    case "string":
      if (from.kind === "number") return Value.string(v.asNumber().toString());
      if (from.kind === "bool") return Value.string(v.asBool() ? "true" : "false");
      break;
    case "number":
      if (from.kind === "string") {
        const n = parseNumberString(v.asString());
        if (!n) fail("a number is required", path);
        return Value.number(n!);
      }
      break;
    case "bool":
      if (from.kind === "string") {
        const s = v.asString();
        if (s === "true") return Value.bool(true);
        if (s === "false") return Value.bool(false);
        if (s === "1" || s === "0") fail(`a bool is required; to convert from number, use ${s === "1" ? "true" : "false"}`, path);
        fail("a bool is required", path);
      }
      break;
    case "list":
    case "set": {
      const elems = sequence(v, to.elem, path);
      const elemType = to.elem.kind === "dynamic" ? elems.type : to.elem;
      return to.kind === "list" ? Value.list(elems.values, elemType) : Value.set(elems.values, elemType);
    }
    case "map": {
      const entries = [...v.asMap()];
      let elemType = to.elem;
      if (elemType.kind === "dynamic") {
        const unified = entries.length === 0 ? DYNAMIC : unify(entries.map(([, e]) => e.type), true);
        if (!unified) fail("all map elements must have the same type", path);
        elemType = unified!;
      }
      return Value.map(
        entries.map(([k, e]) => [k, convert(e, elemType, [...path, k])]),
        elemType,
      );
    }
    case "tuple": {
      const elems = v.asArray();
      if (elems.length !== to.elems.length) fail(`tuple required with ${to.elems.length} elements`, path);
      return Value.tuple(elems.map((e, i) => convert(e, to.elems[i], [...path, i])));
    }
    case "object": {
      const m = v.asMap();
      const out: [string, Value][] = [];
      for (const [k, t] of to.attrs) {
        const e = m.get(k);
        if (e === undefined) {
          if (to.optional?.has(k)) out.push([k, Value.nullOf(t)]);
          else fail(`attribute ${JSON.stringify(k)} is required`, path);
        } else out.push([k, convert(e, t, [...path, k])]);
      }
      if (from.kind === "map") for (const k of m.keys()) if (!to.attrs.has(k)) fail(`unexpected attribute ${JSON.stringify(k)}`, path);
      return new Value(objectOf(out.map(([k, e]) => [k, e.type])), new Map(out));
    }
  }
  return fail(mismatchMessage(from, to), path);
}

/** Elements of a sequence converted to one element type (unified when `elem` is dynamic). */
function sequence(v: Value, elem: Type, path: (string | number)[]): { values: Value[]; type: Type } {
  const elems = v.asArray();
  let t = elem;
  if (t.kind === "dynamic") {
    if (v.type.kind === "list" || v.type.kind === "set") t = v.type.elem;
    else if (elems.length > 0) {
      const unified = unify(elems.map((e) => e.type), true);
      if (!unified) fail("all list elements must have the same type", path);
      t = unified!;
    }
  }
  return { values: elems.map((e, i) => convert(e, t, [...path, i])), type: t };
}

/** cty's ParseNumberVal for string → number conversions (leading/trailing spaces are not allowed). */
export function parseNumberString(s: string): BigFloat | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return BigFloat.parse(s);
}

/** cty's error text for a type mismatch (convert.MismatchMessage). */
export function mismatchMessage(got: Type, want: Type): string {
  switch (want.kind) {
    case "string":
    case "number":
    case "bool":
      return `${want.kind} required`;
    case "list":
    case "set":
    case "map":
      return `${friendlyName(want)} required`;
    case "tuple":
      return `tuple required`;
    case "object": {
      if (got.kind === "object") {
        const missing = [...want.attrs.keys()].filter((k) => !got.attrs.has(k) && !want.optional?.has(k));
        if (missing.length === 1) return `attribute ${JSON.stringify(missing[0])} is required`;
        if (missing.length > 1) return `attributes ${missing.map((m) => JSON.stringify(m)).join(", ").replace(/, ([^,]*)$/, " and $1")} are required`;
      }
      return "object required";
    }
    default:
      return `${friendlyName(want)} required`;
  }
}

// ---- unification ---------------------------------------------------------------------------------

/** cty's convert.Unify / UnifyUnsafe: a type every given type converts to, or undefined. */
export function unify(types: Type[], unsafe: boolean): Type | undefined {
  if (types.length === 0) return undefined;
  let mapCt = 0,
    listCt = 0,
    setCt = 0,
    objectCt = 0,
    tupleCt = 0,
    dynamicCt = 0;
  for (const t of types) {
    if (t.kind === "map") mapCt++;
    else if (t.kind === "list") listCt++;
    else if (t.kind === "set") setCt++;
    else if (t.kind === "object") objectCt++;
    else if (t.kind === "tuple") tupleCt++;
    else if (t.kind === "dynamic") dynamicCt++;
  }
  const n = types.length;
  if (mapCt > 0 && mapCt + dynamicCt === n) return unifyCollections("map", types, unsafe, dynamicCt > 0);
  if (mapCt > 0 && mapCt + objectCt + dynamicCt === n) {
    const t = unifyObjectsAsMaps(types, unsafe);
    if (t?.kind === "map") return t;
  } else if (listCt > 0 && listCt + dynamicCt === n) return unifyCollections("list", types, unsafe, dynamicCt > 0);
  else if (listCt > 0 && listCt + tupleCt + dynamicCt === n) {
    const t = unifyTuplesAsList(types, unsafe);
    if (t?.kind === "list") return t;
  } else if (setCt > 0 && setCt + dynamicCt === n) return unifyCollections("set", types, unsafe, dynamicCt > 0);
  else if (objectCt > 0 && objectCt + dynamicCt === n) return unifyObjects(types, unsafe, dynamicCt > 0);
  else if (tupleCt > 0 && tupleCt + dynamicCt === n) return unifyTuples(types, unsafe, dynamicCt > 0);
  else if (objectCt > 0 && tupleCt > 0) return undefined;

  for (const i of sortTypes(types)) {
    const want = types[i];
    if (types.every((t, j) => j === i || typeEquals(t, want) || conversionExists(t, want, unsafe))) return want;
  }
  return undefined;
}

function unifyCollections(kind: "list" | "set" | "map", types: Type[], unsafe: boolean, hasDyn: boolean): Type | undefined {
  if (hasDyn) return DYNAMIC;
  const elem = unify(
    types.map((t) => (t as Extract<Type, { kind: "list" | "set" | "map" }>).elem),
    unsafe,
  );
  if (!elem) return undefined;
  return kind === "list" ? listOf(elem) : kind === "set" ? setOf(elem) : mapOf(elem);
}

function unifyObjects(types: Type[], unsafe: boolean, hasDyn: boolean): Type | undefined {
  if (hasDyn) return DYNAMIC;
  const objs = types as Extract<Type, { kind: "object" }>[];
  const first = objs[0].attrs;
  for (const o of objs.slice(1)) {
    if (o.attrs.size !== first.size) return unifyObjectsToMap(types, unsafe);
    for (const k of o.attrs.keys()) if (!first.has(k)) return unifyObjectsToMap(types, unsafe);
  }
  const attrs: [string, Type][] = [];
  for (const k of first.keys()) {
    const t = unify(
      objs.map((o) => o.attrs.get(k)!),
      unsafe,
    );
    if (!t) return undefined;
    attrs.push([k, t]);
  }
  const result = objectOf(attrs);
  if (!types.every((t) => conversionExists(t, result, unsafe))) return unifyObjectsToMap(types, unsafe);
  return result;
}

function unifyObjectsToMap(types: Type[], unsafe: boolean): Type | undefined {
  const elems: Type[] = [];
  for (const t of types) if (t.kind === "object") elems.push(...t.attrs.values());
  const elem = unify(elems, unsafe);
  if (!elem) return undefined;
  const result = mapOf(elem);
  return types.every((t) => conversionExists(t, result, unsafe)) ? result : undefined;
}

function unifyObjectsAsMaps(types: Type[], unsafe: boolean): Type | undefined {
  const objects = types.filter((t) => t.kind === "object");
  const asMap = unifyObjectsToMap(objects, unsafe);
  if (asMap?.kind !== "map") return undefined;
  const t = unify(
    types.map((x) => (x.kind === "object" ? asMap : x)),
    unsafe,
  );
  return t?.kind === "map" ? t : undefined;
}

function unifyTuples(types: Type[], unsafe: boolean, hasDyn: boolean): Type | undefined {
  if (hasDyn) return DYNAMIC;
  const tuples = types as Extract<Type, { kind: "tuple" }>[];
  const n = tuples[0].elems.length;
  if (tuples.some((t) => t.elems.length !== n)) return unifyTuplesToList(types, unsafe);
  const elems: Type[] = [];
  for (let i = 0; i < n; i++) {
    const t = unify(
      tuples.map((x) => x.elems[i]),
      unsafe,
    );
    if (!t) return undefined;
    elems.push(t);
  }
  const result = tupleOf(elems);
  if (!types.every((t) => conversionExists(t, result, unsafe))) return unifyTuplesToList(types, unsafe);
  return result;
}

function unifyTuplesToList(types: Type[], unsafe: boolean): Type | undefined {
  const elems: Type[] = [];
  for (const t of types) if (t.kind === "tuple") elems.push(...t.elems);
  const elem = unify(elems, unsafe);
  if (!elem) return undefined;
  const result = listOf(elem);
  return types.every((t) => conversionExists(t, result, unsafe)) ? result : undefined;
}

function unifyTuplesAsList(types: Type[], unsafe: boolean): Type | undefined {
  const tuples = types.filter((t) => t.kind === "tuple");
  const asList = unifyTuplesToList(tuples, unsafe);
  if (asList?.kind !== "list") return undefined;
  const t = unify(
    types.map((x) => (x.kind === "tuple" ? asList : x)),
    unsafe,
  );
  return t?.kind === "list" ? t : undefined;
}

/** cty's compareTypes: < 0 when a is preferable (more general) as the unified type. */
function compareTypes(a: Type, b: Type): number {
  if (a.kind === "dynamic" || b.kind === "dynamic") {
    if (a.kind !== "dynamic") return -1;
    if (b.kind !== "dynamic") return 1;
    return 0;
  }
  const prim = (t: Type) => t.kind === "string" || t.kind === "number" || t.kind === "bool";
  if (prim(a) && prim(b)) {
    if (a.kind === "string" || b.kind === "string") {
      if (a.kind !== "string") return 1;
      if (b.kind !== "string") return -1;
      return 0;
    }
  }
  if (a.kind === "list" && b.kind === "list") return compareTypes(a.elem, b.elem);
  if (a.kind === "set" && b.kind === "set") return compareTypes(a.elem, b.elem);
  if (a.kind === "map" && b.kind === "map") return compareTypes(a.elem, b.elem);
  let swap = 1;
  if (
    (a.kind === "tuple" && b.kind === "list") ||
    (a.kind === "object" && b.kind === "map") ||
    (a.kind === "set" && b.kind === "tuple") ||
    (a.kind === "set" && b.kind === "list")
  ) {
    [a, b] = [b, a];
    swap = -1;
  }
  if (b.kind === "set" && (a.kind === "tuple" || a.kind === "list")) return -1 * swap;
  if (a.kind === "list" && b.kind === "tuple") return -1 * swap;
  if (a.kind === "map" && b.kind === "object") return -1 * swap;
  const pairwise = (xs: Type[], ys: Type[]): number => {
    let aSuper = false;
    let bSuper = false;
    xs.forEach((x, i) => {
      const c = compareTypes(x, ys[i]);
      if (c < 0) aSuper = true;
      else if (c > 0) bSuper = true;
    });
    if (aSuper && bSuper) return 0;
    if (aSuper) return -1 * swap;
    if (bSuper) return 1 * swap;
    return 0;
  };
  if (a.kind === "object" && b.kind === "object") {
    if (a.attrs.size !== b.attrs.size) return 0;
    for (const k of a.attrs.keys()) if (!b.attrs.has(k)) return 0;
    const keys = [...a.attrs.keys()];
    return pairwise(
      keys.map((k) => a.attrs.get(k)!),
      keys.map((k) => b.attrs.get(k)!),
    );
  }
  if (a.kind === "tuple" && b.kind === "tuple") {
    if (a.elems.length !== b.elems.length) return 0;
    return pairwise(a.elems, b.elems);
  }
  return 0;
}

/** cty's sortTypes: a topological order of "more general than", ties in given order. */
function sortTypes(types: Type[]): number[] {
  const n = types.length;
  const edges: number[][] = types.map(() => []);
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = compareTypes(types[i], types[j]);
      if (c < 0) edges[i].push(j);
      else if (c > 0) edges[j].push(i);
    }
  }
  const inDegree = new Array(n).fill(0);
  for (const outs of edges) for (const j of outs) inDegree[j]++;
  const result: number[] = [];
  for (let i = 0; i < n; i++) if (inDegree[i] === 0) result.push(i);
  for (let q = 0; q < result.length; q++) {
    for (const j of edges[result[q]]) {
      inDegree[j]--;
      if (inDegree[j] === 0) result.push(j);
    }
  }
  return result;
}

/** Unifies values to one type and converts each (for conditionals, collections built from tuples, …). */
export function unifyValues(values: Value[], unsafe = true): { type: Type; values: Value[] } | undefined {
  const t = unify(
    values.map((v) => v.type),
    unsafe,
  );
  if (!t) return undefined;
  return { type: t, values: values.map((v) => convert(v, t)) };
}

export { BOOL, NUMBER, STRING, hasDynamic };
