/** Type conversion functions, try/can, and sensitive marks. */
import type { Expr } from "../ast.js";
import { canConvert, ConversionError, convert, mismatchMessage } from "../convert.js";
import { EvalError, formatDiagnostic } from "../diagnostics.js";
import { BOOL, DYNAMIC, friendlyName, listOf, mapOf, NUMBER, setOf, STRING, type Type } from "../types.js";
import { Value } from "../value.js";
import { type CallContext, FunctionError, type FunctionTable, type FunctionImpl } from "./support.js";

/** cty's function.MakeToFunc: the conversion functions tostring, tonumber, tolist, … */
function toFunc(want: Type): FunctionImpl {
  const wantName = want.kind === "list" || want.kind === "set" || want.kind === "map" ? want.kind : friendlyName(want);
  return {
    allowUnknown: true,
    allowMarked: true,
    returnType: () => want,
    impl: ([v]) => {
      const got = v.type;
      if (!canConvert(got, want, true)) {
        if (got.kind === "tuple" && want.kind === "tuple") throw new FunctionError(`incompatible tuple type for conversion: ${mismatchMessage(got, want)}`, 0);
        if (got.kind === "object" && want.kind === "object") throw new FunctionError(`incompatible object type for conversion: ${mismatchMessage(got, want)}`, 0);
        throw new FunctionError(`cannot convert ${friendlyName(got)} to ${wantName}`, 0);
      }
      try {
        return convert(v, want);
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        if (v.isDeepSensitive()) throw new FunctionError(`cannot convert this sensitive ${friendlyName(got)} to ${wantName}`, 0);
        if (got.kind === "string" && want.kind === "bool") {
          throw new FunctionError(`cannot convert ${JSON.stringify(v.asString())} to bool; only the strings "true" or "false" are allowed`, 0);
        }
        if (got.kind === "string" && want.kind === "number") {
          throw new FunctionError(`cannot convert ${JSON.stringify(v.asString())} to number; given string must be a decimal representation of a number`, 0);
        }
        throw new FunctionError(`cannot convert ${friendlyName(got)} to ${wantName}`, 0);
      }
    },
  };
}

/** Static traversals of an expression (HCL's Variables()), to find references to unknown values. */
function traversals(e: Expr, out: Expr[] = []): Expr[] {
  switch (e.kind) {
    case "variable":
    case "getattr":
    case "index": {
      let root: Expr = e;
      let top: Expr = e;
      // The static prefix: attribute steps and literal indexes down to the root variable.
      const chain: Expr[] = [];
      while (root.kind === "getattr" || root.kind === "index") {
        chain.push(root);
        if (root.kind === "index") traversals(root.index, out);
        root = root.target;
      }
      if (root.kind !== "variable") {
        traversals(root, out);
        return out;
      }
      for (const link of chain) {
        if (link.kind === "index" && link.index.kind !== "literal") top = (link as { target: Expr }).target;
      }
      out.push(top);
      return out;
    }
    case "literal":
    case "splatItem":
      return out;
    case "paren":
      return traversals(e.inner, out);
    case "template":
      for (const p of e.parts) partTraversals(p, out);
      return out;
    case "tuple":
      e.items.forEach((x) => traversals(x, out));
      return out;
    case "object":
      e.items.forEach((x) => {
        if (!x.keyIsIdent) traversals(x.key, out);
        traversals(x.value, out);
      });
      return out;
    case "splat":
      return traversals(e.target, out);
    case "call":
      e.args.forEach((a) => traversals(a, out));
      return out;
    case "unary":
      return traversals(e.operand, out);
    case "binary":
      traversals(e.left, out);
      return traversals(e.right, out);
    case "conditional":
      traversals(e.cond, out);
      traversals(e.then, out);
      return traversals(e.else, out);
    case "for":
      traversals(e.collection, out);
      return out;
  }
}

function partTraversals(p: import("../ast.js").TemplatePart, out: Expr[]): void {
  if (p.kind === "interp") traversals(p.expr, out);
  else if (p.kind === "if") {
    traversals(p.cond, out);
    p.then.forEach((x) => partTraversals(x, out));
    p.else.forEach((x) => partTraversals(x, out));
  } else if (p.kind === "for") traversals(p.collection, out);
}

/** HCL's dependsOnUnknowns: a referenced value is not wholly known, so try/can cannot decide yet. */
function dependsOnUnknowns(e: Expr, ctx: CallContext): string | undefined {
  for (const t of traversals(e)) {
    let v: Value;
    try {
      v = ctx.evaluator.eval(t, ctx.vars);
    } catch (err) {
      if (err instanceof EvalError && !err.isStatic) continue;
      throw err;
    }
    if (!v.isWhollyKnown()) return v.unknownReason ?? "";
  }
  return undefined;
}

export const CONVERSION_FUNCTIONS: FunctionTable = {
  tostring: toFunc(STRING),
  tonumber: toFunc(NUMBER),
  tobool: toFunc(BOOL),
  tolist: toFunc(listOf(DYNAMIC)),
  toset: toFunc(setOf(DYNAMIC)),
  tomap: toFunc(mapOf(DYNAMIC)),
  try: {
    lazy(ctx) {
      if (ctx.args.length === 0) throw new EvalError("Not enough function arguments", `Function "try" expects at least one argument.`, ctx.range);
      const errors: EvalError[] = [];
      for (const arg of ctx.args) {
        const unknown = dependsOnUnknowns(arg, ctx);
        if (unknown !== undefined) return Value.unknown(DYNAMIC, unknown);
        try {
          return ctx.evaluator.eval(arg, ctx.vars);
        } catch (err) {
          if (err instanceof EvalError && !err.isStatic) {
            errors.push(err);
            continue;
          }
          throw err;
        }
      }
      const list = errors.map((e) => `- ${formatDiagnostic(e.diagnostic)}`).join("\n");
      throw new EvalError("Error in function call", `Call to function "try" failed: no expression succeeded:\n${list}\n\nAt least one expression must produce a successful result.`, ctx.range);
    },
  },
  can: {
    lazy(ctx) {
      if (ctx.args.length !== 1) throw new EvalError(ctx.args.length === 0 ? "Not enough function arguments" : "Too many function arguments", `Function "can" expects 1 argument(s).`, ctx.range);
      const unknown = dependsOnUnknowns(ctx.args[0], ctx);
      if (unknown !== undefined) return Value.unknown(BOOL, unknown);
      try {
        ctx.evaluator.eval(ctx.args[0], ctx.vars);
        return Value.bool(true);
      } catch (err) {
        if (err instanceof EvalError && !err.isStatic) return Value.bool(false);
        throw err;
      }
    },
  },
  sensitive: { allowUnknown: true, allowMarked: true, impl: ([v]) => v.withSensitive(true) },
  nonsensitive: { allowUnknown: true, allowMarked: true, impl: ([v]) => v.withSensitive(false) },
  issensitive: { allowUnknown: true, allowMarked: true, impl: ([v]) => Value.bool(v.sensitive) },
  ephemeralasnull: { allowUnknown: true, allowMarked: true, impl: ([v]) => v },
};
