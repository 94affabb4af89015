/** cty types: the type system of Terraform's values. */

export type Type =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "bool" }
  /** DynamicPseudoType: "any type", the type of a value whose type is not known yet. */
  | { kind: "dynamic" }
  | { kind: "list"; elem: Type }
  | { kind: "set"; elem: Type }
  | { kind: "map"; elem: Type }
  | { kind: "tuple"; elems: Type[] }
  /** Attribute names sorted; `optional` only in type constraints. */
  | { kind: "object"; attrs: Map<string, Type>; optional?: Set<string> };

export const STRING: Type = { kind: "string" };
export const NUMBER: Type = { kind: "number" };
export const BOOL: Type = { kind: "bool" };
export const DYNAMIC: Type = { kind: "dynamic" };

export const listOf = (elem: Type): Type => ({ kind: "list", elem });
export const setOf = (elem: Type): Type => ({ kind: "set", elem });
export const mapOf = (elem: Type): Type => ({ kind: "map", elem });
export const tupleOf = (elems: Type[]): Type => ({ kind: "tuple", elems });

export function objectOf(attrs: Iterable<[string, Type]>, optional?: Set<string>): Type {
  const sorted = new Map([...attrs].sort((a, b) => compareStrings(a[0], b[0])));
  return optional && optional.size > 0 ? { kind: "object", attrs: sorted, optional } : { kind: "object", attrs: sorted };
}

export const EMPTY_OBJECT: Type = objectOf([]);
export const EMPTY_TUPLE: Type = tupleOf([]);

/** Go compares strings by UTF-8 bytes; JS's `<` compares UTF-16 units, which differs above U+FFFF. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (U+D800–DFFF, i.e. code points above U+FFFF) sort after U+E000–FFFF in UTF-8.
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy && Math.max(x, y) >= 0xe000) return sx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

export function isPrimitive(t: Type): boolean {
  return t.kind === "string" || t.kind === "number" || t.kind === "bool";
}

export function isCollection(t: Type): t is Extract<Type, { kind: "list" | "set" | "map" }> {
  return t.kind === "list" || t.kind === "set" || t.kind === "map";
}

export function typeEquals(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "list":
    case "set":
    case "map":
      return typeEquals(a.elem, (b as typeof a).elem);
    case "tuple": {
      const be = (b as typeof a).elems;
      return a.elems.length === be.length && a.elems.every((t, i) => typeEquals(t, be[i]));
    }
    case "object": {
      const bo = b as typeof a;
      if (a.attrs.size !== bo.attrs.size) return false;
      for (const [k, t] of a.attrs) {
        const o = bo.attrs.get(k);
        if (!o || !typeEquals(t, o)) return false;
      }
      const ao = a.optional?.size ?? 0;
      const bopt = bo.optional?.size ?? 0;
      if (ao !== bopt) return false;
      if (a.optional) for (const k of a.optional) if (!bo.optional?.has(k)) return false;
      return true;
    }
    default:
      return true;
  }
}

/** True when the type contains DynamicPseudoType anywhere. */
export function hasDynamic(t: Type): boolean {
  switch (t.kind) {
    case "dynamic":
      return true;
    case "list":
    case "set":
    case "map":
      return hasDynamic(t.elem);
    case "tuple":
      return t.elems.some(hasDynamic);
    case "object":
      return [...t.attrs.values()].some(hasDynamic);
    default:
      return false;
  }
}

/** cty's FriendlyName: "string", "list of number", "object", "tuple", "dynamic". */
export function friendlyName(t: Type): string {
  switch (t.kind) {
    case "list":
      return `list of ${friendlyName(t.elem)}`;
    case "set":
      return `set of ${friendlyName(t.elem)}`;
    case "map":
      return `map of ${friendlyName(t.elem)}`;
    case "dynamic":
      return "dynamic";
    default:
      return t.kind;
  }
}

/** Terraform's type constraint syntax, as `terraform console` prints `type(…)` (typeexpr.TypeString, pretty). */
export function typeString(t: Type, indent = 0): string {
  const pad = " ".repeat(indent + 4);
  const end = " ".repeat(indent);
  switch (t.kind) {
    case "list":
    case "set":
    case "map":
      return `${t.kind}(${typeString(t.elem, indent)})`;
    case "tuple":
      if (t.elems.length === 0) return "tuple([])";
      return `tuple([\n${t.elems.map((e) => `${pad}${typeString(e, indent + 4)},\n`).join("")}${end}])`;
    case "object":
      if (t.attrs.size === 0) return "object({})";
      return `object({\n${[...t.attrs].map(([k, e]) => `${pad}${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k)}: ${t.optional?.has(k) ? `optional(${typeString(e, indent + 4)})` : typeString(e, indent + 4)},\n`).join("")}${end}})`;
    default:
      return t.kind;
  }
}
