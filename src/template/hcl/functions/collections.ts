/** Collection functions with cty's typing rules (lists vs tuples, maps vs objects, set order). */
import { convert, unify } from "../convert.js";
import { UnknownSignal } from "../diagnostics.js";
import { BigFloat } from "../number.js";
import { BOOL, compareStrings, DYNAMIC, friendlyName, listOf, mapOf, NUMBER, objectOf, setOf, STRING, tupleOf, type Type, typeEquals } from "../types.js";
import { equals, Unknown, Value } from "../value.js";
import { graphemes } from "./strings.js";
import { elems, entries, FunctionError, type FunctionTable, int, known, num, str, whollyKnown } from "./support.js";

const isSeq = (t: Type) => t.kind === "list" || t.kind === "set" || t.kind === "tuple";
const isMapLike = (t: Type) => t.kind === "map" || t.kind === "object";

/** Element type of a list/set, or the unified type of a tuple's elements (dynamic when empty). */
function elementType(v: Value): Type {
  const t = v.type;
  if (t.kind === "list" || t.kind === "set" || t.kind === "map") return t.elem;
  if (t.kind === "tuple") return t.elems.length === 0 ? DYNAMIC : (unify(t.elems, true) ?? DYNAMIC);
  if (t.kind === "object") return t.attrs.size === 0 ? DYNAMIC : (unify([...t.attrs.values()], true) ?? DYNAMIC);
  return DYNAMIC;
}

/** A list value from elements that may have different (unifiable) types. */
function listOfValues(values: Value[], fallback: Type = DYNAMIC): Value {
  if (values.length === 0) return Value.list([], fallback);
  const t = unify(
    values.map((v) => v.type),
    true,
  );
  if (!t) throw new FunctionError("all elements must have the same type");
  return Value.list(
    values.map((v) => convert(v, t)),
    t,
  );
}

/** Terraform's setproduct/set* helpers: the unified element type of several sets. */
function setArgs(args: Value[]): { type: Type; sets: Value[][] } {
  const types = args.map((a) => (a.type.kind === "set" ? a.type.elem : DYNAMIC));
  const t = unify(types, false);
  if (!t) throw new FunctionError("given sets must all have compatible element types");
  return { type: t, sets: args.map((a) => elems(a).map((e) => convert(e, t))) };
}

function contains(list: Value[], v: Value): boolean | undefined {
  let unknown = false;
  for (const e of list) {
    const eq = equals(e, v);
    if (eq === true) return true;
    if (eq === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

export const COLLECTION_FUNCTIONS: FunctionTable = {
  alltrue: {
    allowUnknown: true,
    impl: ([l]) => {
      let result = true;
      for (const e of elems(l)) {
        if (!e.isKnown) throw new UnknownSignal((e.raw as Unknown).reason);
        if (e.isNull) return Value.bool(false);
        result = result && e.asBool();
        if (!result) return Value.bool(false);
      }
      return Value.bool(result);
    },
  },
  anytrue: {
    allowUnknown: true,
    impl: ([l]) => {
      let unknown: string | undefined;
      for (const e of elems(l)) {
        if (!e.isKnown) {
          unknown ??= (e.raw as Unknown).reason;
          continue;
        }
        if (e.isNull) continue;
        if (e.asBool()) return Value.bool(true);
      }
      if (unknown !== undefined) throw new UnknownSignal(unknown);
      return Value.bool(false);
    },
  },
  chunklist: {
    impl: ([l, size]) => {
      const n = int(size, "the size argument", 1);
      if (n < 0) throw new FunctionError("the size argument must be positive");
      const items = elems(l);
      const t = l.type.kind === "list" ? l.type.elem : DYNAMIC;
      if (items.length === 0) return Value.list([], listOf(t));
      const chunks: Value[] = [];
      const step = n === 0 ? items.length : n;
      for (let i = 0; i < items.length; i += step) chunks.push(Value.list(items.slice(i, i + step), t));
      return Value.list(chunks, listOf(t));
    },
  },
  coalesce: {
    allowUnknown: true,
    returnType: (args) => unify(args.map((a) => a.type), true) ?? DYNAMIC,
    impl: (args) => {
      const t = unify(
        args.map((a) => a.type),
        true,
      );
      if (!t) throw new FunctionError("all arguments must have the same type");
      for (const a of args) {
        const v = convert(a, t);
        if (!v.isKnown) throw new UnknownSignal((v.raw as Unknown).reason);
        if (v.isNull) continue;
        if (t.kind === "string" && v.asString() === "") continue;
        return v;
      }
      throw new FunctionError("no non-null, non-empty-string arguments");
    },
  },
  coalescelist: {
    allowUnknown: true,
    impl: (args) => {
      if (args.length === 0) throw new FunctionError("at least one argument is required");
      args.forEach((a, i) => {
        if (a.type.kind !== "list" && a.type.kind !== "tuple" && a.type.kind !== "dynamic") {
          throw new FunctionError("coalescelist arguments must be lists or tuples");
        }
      });
      for (const a of args) {
        if (!a.isKnown) throw new UnknownSignal((a.raw as Unknown).reason);
        if (a.isNull) continue;
        if (a.length() > 0) return a;
      }
      throw new FunctionError("no non-null arguments");
    },
  },
  compact: {
    impl: ([l]) => {
      const out: Value[] = [];
      for (const e of elems(l)) {
        known(e);
        if (e.isNull || e.asString() === "") continue;
        out.push(e);
      }
      return Value.list(out, STRING);
    },
  },
  concat: {
    impl: (args) => {
      if (args.length === 0) throw new FunctionError("at least one argument is required");
      args.forEach((a, i) => {
        if (a.type.kind !== "list" && a.type.kind !== "tuple") throw new FunctionError(`all arguments must be lists or tuples; got ${friendlyName(a.type)}`, i);
      });
      const all = args.flatMap((a) => elems(a));
      if (args.every((a) => a.type.kind === "list")) {
        const t = unify(
          args.map((a) => a.type),
          true,
        );
        if (t?.kind === "list") return Value.list(all.map((e) => convert(e, t.elem)), t.elem);
      }
      return Value.tuple(all);
    },
  },
  contains: {
    allowUnknown: true,
    impl: ([l, v]) => {
      if (!isSeq(l.type) && l.type.kind !== "dynamic") throw new FunctionError("argument must be list, tuple, or set");
      const r = contains(elems(l), v);
      if (r === undefined) throw new UnknownSignal(l.unknownReason ?? v.unknownReason ?? "");
      return Value.bool(r);
    },
  },
  distinct: {
    impl: ([l]) => {
      const out: Value[] = [];
      for (const e of elems(l)) {
        whollyKnown(e);
        if (!out.some((o) => equals(o, e) === true)) out.push(e);
      }
      return Value.list(out, l.type.kind === "list" ? l.type.elem : DYNAMIC);
    },
  },
  element: {
    impl: ([l, i]) => {
      if (!["list", "tuple"].includes(l.type.kind)) throw new FunctionError("cannot read elements from " + friendlyName(l.type), 0);
      const items = elems(l);
      if (items.length === 0) throw new FunctionError("cannot use element function with an empty list");
      const n = num(i);
      if (!n.isInt()) throw new FunctionError("invalid index: value must be a whole number, between -9223372036854775808 and 9223372036854775807");
      const idx = Number(n.toBigInt());
      if (idx < 0) throw new FunctionError("cannot use element function with a negative index");
      return items[idx % items.length];
    },
  },
  flatten: {
    impl: ([l]) => {
      if (!isSeq(l.type)) throw new FunctionError("can only flatten lists, sets and tuples", 0);
      const out: Value[] = [];
      const walk = (v: Value) => {
        if (!v.isNull && isSeq(v.type)) {
          known(v);
          v.asArray().forEach(walk);
        } else out.push(v);
      };
      elems(l).forEach(walk);
      return Value.tuple(out);
    },
  },
  index: {
    impl: ([l, v]) => {
      if (!["list", "tuple"].includes(l.type.kind)) throw new FunctionError("argument must be a list or tuple", 0);
      const items = elems(l);
      for (let i = 0; i < items.length; i++) {
        const eq = equals(items[i], v);
        if (eq === undefined) throw new UnknownSignal(items[i].unknownReason ?? v.unknownReason ?? "");
        if (eq) return Value.int(i);
      }
      throw new FunctionError("item not found");
    },
  },
  keys: {
    allowUnknown: true,
    impl: ([m]) => {
      if (!isMapLike(m.type) && m.type.kind !== "dynamic") throw new FunctionError("must have map or object type", 0);
      if (m.type.kind === "object") return Value.tuple([...m.type.attrs.keys()].map((k) => Value.string(k)));
      return Value.list(
        [...entries(m).keys()].map((k) => Value.string(k)),
        STRING,
      );
    },
    returnType: ([m]) => (m.type.kind === "object" ? tupleOf([...m.type.attrs.keys()].map(() => STRING)) : listOf(STRING)),
  },
  length: {
    allowUnknown: true,
    impl: ([v]) => {
      const t = v.type.kind;
      if (t === "string") return Value.int(graphemes(str(v)).length);
      if (t === "tuple" || t === "object") return Value.int(t === "tuple" ? (v.type as { elems: Type[] }).elems.length : (v.type as { attrs: Map<string, Type> }).attrs.size);
      if (t === "list" || t === "set" || t === "map") return Value.int(known(v).length());
      if (t === "dynamic") throw new UnknownSignal(v.unknownReason ?? "");
      throw new FunctionError("argument must be a string, a collection type, or a structural type");
    },
  },
  lookup: {
    allowUnknown: true,
    impl: ([m, k, ...rest]) => {
      if (rest.length > 1) throw new FunctionError("lookup() takes no more than three arguments");
      if (!isMapLike(m.type) && m.type.kind !== "dynamic") throw new FunctionError("the first argument must be a map or object", 0);
      const key = str(k);
      const def = rest[0];
      if (m.type.kind === "object") {
        if (m.type.attrs.has(key)) return known(m).asMap().get(key)!;
        if (def) return def;
        throw new FunctionError(`the given object has no attribute ${JSON.stringify(key)}`, 0);
      }
      const mm = entries(m);
      const found = mm.get(key);
      const elem = m.type.kind === "map" ? m.type.elem : DYNAMIC;
      if (found) return def && elem.kind === "dynamic" ? found : found;
      if (def) {
        if (elem.kind === "dynamic") return def;
        try {
          return convert(def, elem);
        } catch {
          throw new FunctionError("the default value must have the same type as the map elements", 2);
        }
      }
      throw new FunctionError(`lookup failed to find key ${JSON.stringify(key)}`);
    },
  },
  matchkeys: {
    impl: ([values, keys, search]) => {
      const vs = elems(values);
      const ks = elems(keys);
      if (vs.length !== ks.length) throw new FunctionError("length of keys and values should be equal");
      const ss = elems(search);
      const out: Value[] = [];
      ks.forEach((k, i) => {
        const r = contains(ss, k);
        if (r === undefined) throw new UnknownSignal(k.unknownReason ?? "");
        if (r) out.push(vs[i]);
      });
      return Value.list(out, values.type.kind === "list" ? values.type.elem : DYNAMIC);
    },
  },
  merge: {
    allowUnknown: true,
    impl: (args) => {
      if (args.length === 0) return Value.object([]);
      args.forEach((a, i) => {
        if (!isMapLike(a.type) && a.type.kind !== "dynamic" && !a.isNull) throw new FunctionError(`arguments must be maps or objects, got ${JSON.stringify(friendlyName(a.type))}`);
      });
      const out = new Map<string, Value>();
      for (const a of args) {
        if (a.isNull) continue;
        for (const [k, v] of entries(a)) {
          out.delete(k);
          out.set(k, v);
        }
      }
      const first = args[0].type;
      const allSame = args.every((a) => typeEquals(a.type, first));
      if (allSame && first.kind === "map") return Value.map(out, first.elem);
      return Value.object(out);
    },
  },
  one: {
    impl: ([l]) => {
      if (!isSeq(l.type)) throw new FunctionError("must be a list, set, or tuple value", 0);
      const items = elems(l);
      if (items.length > 1) throw new FunctionError("must be a list, set, or tuple value with either zero or one elements", 0);
      if (items.length === 1) return items[0];
      return Value.nullOf(l.type.kind === "tuple" ? DYNAMIC : (l.type as { elem: Type }).elem);
    },
  },
  range: {
    impl: (args) => {
      if (args.length === 0 || args.length > 3) throw new FunctionError("must have one, two, or three arguments");
      const nums = args.map((a) => num(a));
      let start = BigFloat.fromInt(0, 512);
      let end: BigFloat;
      let step: BigFloat;
      if (nums.length === 1) {
        end = nums[0];
        step = BigFloat.fromInt(1, 512);
      } else {
        start = nums[0];
        end = nums[1];
        step = nums[2] ?? (start.cmp(end) > 0 ? BigFloat.fromInt(-1, 512) : BigFloat.fromInt(1, 512));
      }
      if (step.isZero()) throw new FunctionError("step must not be zero");
      const down = step.sign() < 0;
      if (down && start.cmp(end) < 0) throw new FunctionError("end must be less than start when step is negative", 0);
      if (!down && start.cmp(end) > 0) throw new FunctionError("end must be greater than start when step is positive", 0);
      const out: Value[] = [];
      for (let x = start; down ? x.cmp(end) > 0 : x.cmp(end) < 0; x = x.add(step)) {
        if (out.length >= 1024) throw new FunctionError("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step");
        out.push(Value.number(x));
      }
      return Value.list(out, NUMBER);
    },
  },
  reverse: {
    impl: ([l]) => {
      if (!isSeq(l.type)) throw new FunctionError(`can only reverse list or tuple values, not ${friendlyName(l.type)}`, 0);
      const items = [...elems(l)].reverse();
      return l.type.kind === "tuple" ? Value.tuple(items) : Value.list(items, (l.type as { elem: Type }).elem);
    },
  },
  setintersection: {
    impl: (args) => {
      const { type, sets } = setArgs(args);
      const [first, ...rest] = sets;
      return Value.set(
        first.filter((e) => rest.every((s) => contains(s, e) === true)),
        type,
      );
    },
  },
  setsubtract: {
    impl: ([a, b]) => {
      const { type, sets } = setArgs([a, b]);
      return Value.set(
        sets[0].filter((e) => contains(sets[1], e) !== true),
        type,
      );
    },
  },
  setunion: {
    impl: (args) => {
      const { type, sets } = setArgs(args);
      return Value.set(sets.flat(), type);
    },
  },
  setproduct: {
    impl: (args) => {
      if (args.length < 2) throw new FunctionError("at least two arguments are required");
      const lists = args.map((a) => elems(a));
      let combos: Value[][] = [[]];
      for (const l of lists) combos = combos.flatMap((c) => l.map((e) => [...c, e]));
      const anyList = args.some((a) => a.type.kind === "list" || a.type.kind === "tuple");
      const elemTypes = args.map((a) => elementType(a));
      const t = tupleOf(elemTypes);
      const rows = combos.map((c) => Value.tuple(c.map((e, i) => convert(e, elemTypes[i]))));
      if (rows.length === 0) return anyList ? Value.list([], t) : Value.set([], t);
      const rt = unify(
        rows.map((r) => r.type),
        true,
      )!;
      return anyList
        ? Value.list(
            rows.map((r) => convert(r, rt)),
            rt,
          )
        : Value.set(
            rows.map((r) => convert(r, rt)),
            rt,
          );
    },
  },
  slice: {
    impl: ([l, a, b]) => {
      if (!["list", "tuple"].includes(l.type.kind)) throw new FunctionError("must be a list or tuple value", 0);
      const items = elems(l);
      const start = int(a, "start index", 1);
      const end = int(b, "end index", 2);
      if (start < 0) throw new FunctionError("start index must not be less than zero", 1);
      if (end > items.length) throw new FunctionError("end index must not be greater than the length of the list", 2);
      if (start > end) throw new FunctionError("start index must not be greater than end index", 1);
      const out = items.slice(start, end);
      return l.type.kind === "list" ? Value.list(out, l.type.elem) : Value.tuple(out);
    },
  },
  sort: {
    impl: ([l]) => {
      const items = elems(l).map((e, i) => {
        known(e);
        if (e.isNull) throw new FunctionError(`given list element ${i} is null; a null string cannot be sorted`, 0);
        return e.asString();
      });
      items.sort(compareStrings);
      return Value.list(
        items.map((s) => Value.string(s)),
        STRING,
      );
    },
  },
  sum: {
    impl: ([l]) => {
      if (!isSeq(l.type)) throw new FunctionError("argument must be list, set, or tuple. Received " + friendlyName(l.type), 0);
      const items = elems(l);
      if (items.length === 0) throw new FunctionError("cannot sum an empty list", 0);
      let total: BigFloat | undefined;
      for (const e of items) {
        known(e);
        if (e.isNull) throw new FunctionError("argument must be list, set, or tuple of number values", 0);
        let n: Value;
        try {
          n = convert(e, NUMBER);
        } catch {
          throw new FunctionError("argument must be list, set, or tuple of number values", 0);
        }
        total = total ? total.add(n.asNumber()) : n.asNumber();
      }
      return Value.number(total!);
    },
  },
  transpose: {
    impl: ([m]) => {
      const out = new Map<string, string[]>();
      for (const [k, l] of entries(m)) {
        for (const e of elems(l)) {
          known(e);
          if (e.isNull) throw new FunctionError("lists must not contain null values", 0);
          const key = e.asString();
          if (!out.has(key)) out.set(key, []);
          out.get(key)!.push(k);
        }
      }
      return Value.map(
        [...out].map(([k, vs]) => [k, Value.list(vs.map((v) => Value.string(v)), STRING)]),
        listOf(STRING),
      );
    },
  },
  values: {
    allowUnknown: true,
    impl: ([m]) => {
      if (!isMapLike(m.type)) throw new FunctionError("must have map or object type", 0);
      const vs = [...entries(m).values()];
      return m.type.kind === "map" ? Value.list(vs, m.type.elem) : Value.tuple(vs);
    },
  },
  zipmap: {
    impl: ([ks, vs]) => {
      const keys = elems(ks);
      if (!["list", "tuple"].includes(vs.type.kind)) throw new FunctionError("values must be a list or tuple", 1);
      const values = elems(vs);
      if (keys.length !== values.length) throw new FunctionError(`number of keys (${keys.length}) does not match number of values (${values.length})`);
      const pairs: [string, Value][] = keys.map((k, i) => {
        known(k);
        if (k.isNull) throw new FunctionError("keys list must not contain null values", 0);
        return [k.asString(), values[i]];
      });
      if (vs.type.kind === "list") return Value.map(pairs, vs.type.elem);
      return Value.object(pairs);
    },
  },
};

export { listOfValues, mapOf, objectOf, setOf, BOOL };
