import type { Expr, Range, TemplatePart } from "./ast.js";
import { rangeOf } from "./diagnostics.js";
import { parseExpression } from "./parser.js";

/** A static reference: the root name and the attribute/literal-index steps after it. */
export interface Reference {
  parts: (string | number)[];
  range: Range;
}

/**
 * Static references in an expression, as HCL's Variables() finds them: `aws_instance.x[0].id` →
 * ["aws_instance", "x", 0, "id"]. Names bound by for expressions, template for directives and splats
 * are left out; a dynamic index ends the static part (its own references are listed too).
 */
export function references(source: string | Expr): Reference[] {
  const expr = typeof source === "string" ? parseExpression(source) : source;
  const out: Reference[] = [];
  const walk = (e: Expr, bound: Set<string>): void => {
    switch (e.kind) {
      case "variable":
      case "getattr":
      case "index": {
        const steps: Expr[] = [];
        let root: Expr = e;
        while (root.kind === "getattr" || root.kind === "index") {
          steps.unshift(root);
          root = root.target;
        }
        if (root.kind !== "variable") {
          walk(root, bound);
          for (const s of steps) if (s.kind === "index") walk(s.index, bound);
          return;
        }
        const parts: (string | number)[] = [root.name];
        let end = root.end;
        let dynamic = false;
        for (const s of steps) {
          if (s.kind === "index") walk(s.index, bound);
          if (dynamic) continue;
          if (s.kind === "getattr") parts.push(s.name);
          else if (s.kind === "index" && s.index.kind === "literal" && (s.index.value.type.kind === "number" || s.index.value.type.kind === "string")) {
            const v = s.index.value;
            parts.push(v.type.kind === "number" ? Number(v.asNumber().toBigInt()) : v.asString());
          } else {
            dynamic = true;
            continue;
          }
          end = s.end;
        }
        if (!bound.has(root.name)) out.push({ parts, range: rangeOf(root.pos, end) });
        return;
      }
      case "literal":
      case "splatItem":
        return;
      case "paren":
        return walk(e.inner, bound);
      case "template":
        return walkParts(e.parts, bound);
      case "tuple":
        return e.items.forEach((x) => walk(x, bound));
      case "object":
        return e.items.forEach((x) => {
          if (!x.keyIsIdent) walk(x.key, bound);
          walk(x.value, bound);
        });
      case "splat":
        walk(e.target, bound);
        return walk(e.each, bound);
      case "call":
        return e.args.forEach((a) => walk(a, bound));
      case "unary":
        return walk(e.operand, bound);
      case "binary":
        walk(e.left, bound);
        return walk(e.right, bound);
      case "conditional":
        walk(e.cond, bound);
        walk(e.then, bound);
        return walk(e.else, bound);
      case "for": {
        walk(e.collection, bound);
        const inner = new Set(bound);
        if (e.keyVar) inner.add(e.keyVar);
        inner.add(e.valueVar);
        if (e.keyExpr) walk(e.keyExpr, inner);
        walk(e.valueExpr, inner);
        if (e.cond) walk(e.cond, inner);
      }
    }
  };
  const walkParts = (parts: TemplatePart[], bound: Set<string>): void => {
    for (const p of parts) {
      if (p.kind === "interp") walk(p.expr, bound);
      else if (p.kind === "if") {
        walk(p.cond, bound);
        walkParts(p.then, bound);
        walkParts(p.else, bound);
      } else if (p.kind === "for") {
        walk(p.collection, bound);
        const inner = new Set(bound);
        if (p.keyVar) inner.add(p.keyVar);
        inner.add(p.valueVar);
        walkParts(p.body, inner);
      }
    }
  };
  walk(expr, new Set());
  return out;
}
