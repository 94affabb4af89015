import { BigFloat, INT_PREC } from "./number.js";
import {
  BOOL,
  compareStrings,
  DYNAMIC,
  hasDynamic,
  listOf,
  mapOf,
  NUMBER,
  objectOf,
  setOf,
  STRING,
  tupleOf,
  type Type,
  typeEquals,
} from "./types.js";

/**
 * A value known only after apply (cty's unknown). `reason` is the reference that made it unknown,
 * e.g. `aws_instance.dev.private_ip`, so every report can say what was not known.
 */
export class Unknown {
  constructor(
    readonly reason: string,
    /** cty refinements: the value will not be null; a string will start with `prefix`. */
    readonly notNull = false,
    readonly prefix?: string,
  ) {}
}

export type Raw = string | BigFloat | boolean | Value[] | Map<string, Value> | null | Unknown;

/**
 * A cty value: a type and its content. Lists, sets and tuples hold arrays (sets deduplicated and in
 * cty's order); maps and objects hold Maps with keys in cty's (byte-wise) order. Strings are NFC.
 * `sensitive` is Terraform's sensitive mark.
 */
export class Value {
  constructor(
    readonly type: Type,
    readonly raw: Raw,
    readonly sensitive = false,
    /**
     * For an object whose schema is not known here (a resource of a provider we do not model): its
     * address. Attributes it does not list are known only after apply, not absent.
     */
    readonly open?: string,
  ) {}

  /** An object with further attributes known only after apply (see `open`). */
  static openObject(entries: Iterable<[string, Value]>, address: string): Value {
    const o = Value.object(entries);
    return new Value(o.type, o.raw, false, address);
  }

  static string(s: string): Value {
    return new Value(STRING, s.normalize("NFC"));
  }

  static number(n: BigFloat): Value {
    return new Value(NUMBER, n);
  }

  static int(n: number | bigint): Value {
    return new Value(NUMBER, typeof n === "bigint" ? BigFloat.fromBigInt(n, INT_PREC) : BigFloat.fromInt(n, INT_PREC));
  }

  static bool(b: boolean): Value {
    return b ? TRUE : FALSE;
  }

  static nullOf(t: Type = DYNAMIC): Value {
    return new Value(t, null);
  }

  static unknown(t: Type, reason: string, refine?: { notNull?: boolean; prefix?: string }): Value {
    return new Value(t, new Unknown(reason, refine?.notNull ?? false, refine?.prefix));
  }

  /** A list of values that all have `elem` type (converted beforehand). */
  static list(elems: Value[], elem?: Type): Value {
    return new Value(listOf(elem ?? elems[0]?.type ?? DYNAMIC), elems);
  }

  static tuple(elems: Value[]): Value {
    return new Value(tupleOf(elems.map((e) => e.type)), elems);
  }

  /** A set: duplicates removed, ordered as cty orders set elements. */
  static set(elems: Value[], elem?: Type): Value {
    const t = elem ?? elems[0]?.type ?? DYNAMIC;
    return new Value(setOf(t), orderSet(elems, t));
  }

  static map(entries: Iterable<[string, Value]>, elem?: Type): Value {
    const m = sortedMap(entries);
    return new Value(mapOf(elem ?? m.values().next().value?.type ?? DYNAMIC), m);
  }

  static object(entries: Iterable<[string, Value]>): Value {
    const m = sortedMap(entries);
    return new Value(objectOf([...m].map(([k, v]) => [k, v.type])), m);
  }

  get isNull(): boolean {
    return this.raw === null;
  }

  get isKnown(): boolean {
    return !(this.raw instanceof Unknown);
  }

  /** The reason of this unknown value (or of the first unknown inside it). */
  get unknownReason(): string | undefined {
    if (this.raw instanceof Unknown) return this.raw.reason;
    if (this.open) return this.open;
    for (const e of this.elements()) {
      const r = e.unknownReason;
      if (r) return r;
    }
    return undefined;
  }

  isWhollyKnown(): boolean {
    if (this.raw instanceof Unknown || this.open) return false;
    return this.elements().every((e) => e.isWhollyKnown());
  }

  /** True when any part of the value is sensitive. */
  isDeepSensitive(): boolean {
    if (this.sensitive) return true;
    return this.elements().some((e) => e.isDeepSensitive());
  }

  /** Element values of a collection or structure (empty for primitives, null and unknown). */
  elements(): Value[] {
    if (Array.isArray(this.raw)) return this.raw;
    if (this.raw instanceof Map) return [...this.raw.values()];
    return [];
  }

  withSensitive(s: boolean): Value {
    return s === this.sensitive ? this : new Value(this.type, this.raw, s, this.open);
  }

  /** Removes sensitive marks everywhere in the value. */
  unmarkDeep(): Value {
    if (!this.isDeepSensitive()) return this;
    if (Array.isArray(this.raw)) return new Value(this.type, this.raw.map((e) => e.unmarkDeep()));
    if (this.raw instanceof Map) return new Value(this.type, new Map([...this.raw].map(([k, v]) => [k, v.unmarkDeep()])));
    return new Value(this.type, this.raw);
  }

  asString(): string {
    return this.raw as string;
  }

  asNumber(): BigFloat {
    return this.raw as BigFloat;
  }

  asBool(): boolean {
    return this.raw as boolean;
  }

  asArray(): Value[] {
    return this.raw as Value[];
  }

  asMap(): Map<string, Value> {
    return this.raw as Map<string, Value>;
  }

  /** Number of elements of a known collection or structure. */
  length(): number {
    if (Array.isArray(this.raw)) return this.raw.length;
    if (this.raw instanceof Map) return this.raw.size;
    return 0;
  }
}

export const TRUE = new Value(BOOL, true);
export const FALSE = new Value(BOOL, false);
export const DYNAMIC_UNKNOWN = (reason: string) => Value.unknown(DYNAMIC, reason);
export const NULL = new Value(DYNAMIC, null);

function sortedMap(entries: Iterable<[string, Value]>): Map<string, Value> {
  const arr = [...entries];
  arr.sort((a, b) => compareStrings(a[0], b[0]));
  return new Map(arr);
}

/** cty's `Value.Equals` as a boolean, or undefined when the answer depends on an unknown value. */
export function equals(a: Value, b: Value): boolean | undefined {
  const ak = a.isKnown;
  const bk = b.isKnown;
  // A refined unknown (not null, or a string with a known prefix) can already differ.
  const refinedDiffers = (u: Value, k: Value) => {
    const r = u.raw as Unknown;
    if (k.isNull) return r.notNull;
    return r.prefix !== undefined && k.type.kind === "string" && k.isKnown && !k.asString().startsWith(r.prefix);
  };
  if (!ak && bk && refinedDiffers(a, b)) return false;
  if (ak && !bk && refinedDiffers(b, a)) return false;
  if (!ak && !bk) return undefined;
  if (ak && !bk) return a.isNull || hasDynamic(b.type) ? undefined : typeEquals(a.type, b.type) ? undefined : false;
  if (!ak && bk) return b.isNull || hasDynamic(a.type) ? undefined : typeEquals(a.type, b.type) ? undefined : false;
  if (a.isNull && b.isNull) return true;
  if (a.isNull || b.isNull) return false;
  if (a.open || b.open) return undefined;
  if (!typeEquals(a.type, b.type)) {
    if (hasDynamic(a.type) || hasDynamic(b.type)) {
      return conformable(a.type, b.type) ? undefined : false;
    }
    return false;
  }
  const t = a.type;
  switch (t.kind) {
    case "number":
      return a.asNumber().cmp(b.asNumber()) === 0;
    case "string":
    case "bool":
      return a.raw === b.raw;
    case "list":
    case "tuple":
    case "set": {
      const x = a.asArray();
      const y = b.asArray();
      if (x.length !== y.length) return false;
      let unknown = false;
      for (let i = 0; i < x.length; i++) {
        const e = equals(x[i], y[i]);
        if (e === false) return false;
        if (e === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case "map":
    case "object": {
      const x = a.asMap();
      const y = b.asMap();
      if (x.size !== y.size) return false;
      let unknown = false;
      for (const [k, v] of x) {
        const w = y.get(k);
        if (!w) return false;
        const e = equals(v, w);
        if (e === false) return false;
        if (e === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    default:
      return undefined;
  }
}

/** Whether two types could become equal once their dynamic parts are known (cty TestConformance, both ways). */
function conformable(a: Type, b: Type): boolean {
  if (a.kind === "dynamic" || b.kind === "dynamic") return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "list":
    case "set":
    case "map":
      return conformable(a.elem, (b as typeof a).elem);
    case "tuple": {
      const be = (b as typeof a).elems;
      return a.elems.length === be.length && a.elems.every((t, i) => conformable(t, be[i]));
    }
    case "object": {
      const bo = (b as typeof a).attrs;
      if (a.attrs.size !== bo.size) return false;
      for (const [k, t] of a.attrs) {
        const o = bo.get(k);
        if (!o || !conformable(t, o)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

/** Exact structural equality, unknowns included (cty RawEquals): used for set membership. */
export function rawEquals(a: Value, b: Value): boolean {
  if (!typeEquals(a.type, b.type) || a.sensitive !== b.sensitive) return false;
  if (a.raw instanceof Unknown || b.raw instanceof Unknown) return a.raw instanceof Unknown && b.raw instanceof Unknown;
  if (a.raw === null || b.raw === null) return a.raw === b.raw;
  if (a.raw instanceof BigFloat) return a.raw.cmp(b.raw as BigFloat) === 0;
  if (Array.isArray(a.raw)) {
    const y = b.raw as Value[];
    return a.raw.length === y.length && a.raw.every((v, i) => rawEquals(v, y[i]));
  }
  if (a.raw instanceof Map) {
    const y = b.raw as Map<string, Value>;
    if (a.raw.size !== y.size) return false;
    for (const [k, v] of a.raw) {
      const w = y.get(k);
      if (!w || !rawEquals(v, w)) return false;
    }
    return true;
  }
  return a.raw === b.raw;
}

/** Go's strconv.Quote, as cty uses it in set hashes (and terraform console for strings). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp === 7) out += "\\a";
    else if (cp === 8) out += "\\b";
    else if (cp === 12) out += "\\f";
    else if (cp === 10) out += "\\n";
    else if (cp === 13) out += "\\r";
    else if (cp === 9) out += "\\t";
    else if (cp === 11) out += "\\v";
    else if (isGoPrintable(cp)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|[\p{Zs}]/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrintable(cp: number): boolean {
  if (cp === 0x20) return true;
  return !NON_PRINTABLE.test(String.fromCodePoint(cp));
}

/** cty's set hash input (appendSetHashBytes). */
function hashBytes(v: Value): string {
  if (!v.isKnown) return "?";
  if (v.isNull) return "~";
  const t = v.type;
  switch (t.kind) {
    case "number":
      return v.asNumber().toText("g", 10);
    case "bool":
      return v.asBool() ? "T" : "F";
    case "string":
      return goQuote(v.asString());
    case "map":
      return `{${[...v.asMap()].map(([k, e]) => `${goQuote(k)}:${hashBytes(e)};`).join("")}}`;
    case "list":
    case "set":
      return `[${v.asArray().map((e) => `${hashBytes(e)};`).join("")}]`;
    case "object":
      return `<${[...v.asMap().values()].map((e) => `${hashBytes(e)};`).join("")}>`;
    case "tuple":
      return `<${v.asArray().map((e) => `${hashBytes(e)};`).join("")}>`;
    default:
      return "?";
  }
}

/** cty's set order: known before null before unknown; strings, numbers and bools by value; others by hash input. */
function setLess(a: Value, b: Value, t: Type): number {
  if (a.isKnown && !b.isKnown) return -1;
  if (!a.isKnown && b.isKnown) return 1;
  if (!a.isKnown && !b.isKnown) return 0;
  if (a.isNull || b.isNull) return a.isNull === b.isNull ? 0 : a.isNull ? 1 : -1;
  switch (t.kind) {
    case "string":
      return compareStrings(a.asString(), b.asString());
    case "number":
      return a.asNumber().cmp(b.asNumber());
    case "bool":
      return a.asBool() === b.asBool() ? 0 : a.asBool() ? 1 : -1;
    default:
      // Other types have no natural order: cty orders them by their hash input.
      return compareStrings(hashBytes(a), hashBytes(b));
  }
}

function orderSet(elems: Value[], t: Type): Value[] {
  const out: Value[] = [];
  for (const e of elems) {
    if (e.isKnown && out.some((o) => rawEquals(o, e))) continue;
    out.push(e);
  }
  // Stable sort: equal-ordered elements keep insertion order, as cty's buckets do.
  return out.map((v, i) => ({ v, i })).sort((x, y) => setLess(x.v, y.v, t) || x.i - y.i).map((x) => x.v);
}

export { BOOL, DYNAMIC, NUMBER, STRING };
