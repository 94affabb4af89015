import type { Expr, TemplatePart } from "./ast.js";
import { parseExpression } from "./parser.js";

const NON_REFERENCES = new Set(["var", "local", "path", "count", "each", "self", "terraform"]);

/**
 * Static references in an expression, as traversal parts (`aws_instance.workspace[0].id` →
 * ["aws_instance", "workspace", 0, "id"]). Variables bound by for-expressions are left out.
 */
export function references(source: string | Expr): (string | number)[][] {
  const expr = typeof source === "string" ? parseExpression(source) : source;
  const out: (string | number)[][] = [];
  const walk = (e: Expr, bound: Set<string>): void => {
    switch (e.kind) {
      case "variable":
      case "getattr":
      case "index": {
        const parts: (string | number)[] = [];
        let root: Expr = e;
        const indexes: Expr[] = [];
        while (root.kind === "getattr" || root.kind === "index") {
          if (root.kind === "getattr") parts.unshift(root.name);
          else if (root.index.kind === "literal" && (typeof root.index.value === "number" || typeof root.index.value === "string")) parts.unshift(root.index.value);
          else {
            parts.length = 0;
            indexes.push(root.index);
          }
          root = root.target;
        }
        indexes.forEach((i) => walk(i, bound));
        if (root.kind === "variable") {
          if (!bound.has(root.name)) out.push([root.name, ...parts]);
        } else walk(root, bound);
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
        return walk(e.target, bound);
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
  return out.filter((r) => !NON_REFERENCES.has(String(r[0])) || r[0] === "local" || r[0] === "var");
}
