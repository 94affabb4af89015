/**
 * Terraform's JSON configuration syntax (.tf.json) as expressions: strings are templates (a lone
 * "${x}" yields x's value), arrays are tuples, objects are objects, other values literals.
 */
import type { Expr, Pos } from "./ast.js";
import { HclSyntaxError } from "./diagnostics.js";
import { BigFloat } from "./number.js";
import { parseTemplate } from "./parser.js";
import { NULL, Value } from "./value.js";

export function jsonSyntaxExpr(v: unknown, pos: Pos): Expr {
  const node = { pos, end: pos };
  if (typeof v === "string") {
    try {
      const t = parseTemplate(v);
      return { ...t, pos, end: pos };
    } catch (err) {
      if (err instanceof HclSyntaxError) throw new HclSyntaxError(err.diagnostic.summary, err.diagnostic.detail, { start: pos, end: pos });
      throw err;
    }
  }
  if (typeof v === "number") return { kind: "literal", value: Value.number(BigFloat.parse(String(v))!), ...node };
  if (typeof v === "boolean") return { kind: "literal", value: Value.bool(v), ...node };
  if (v === null || v === undefined) return { kind: "literal", value: NULL, ...node };
  if (Array.isArray(v)) return { kind: "tuple", items: v.map((x) => jsonSyntaxExpr(x, pos)), ...node };
  return {
    kind: "object",
    items: Object.entries(v as Record<string, unknown>).map(([k, x]) => ({ key: { kind: "literal", value: Value.string(k), ...node }, keyIsIdent: true, value: jsonSyntaxExpr(x, pos) })),
    ...node,
  };
}
