/**
 * One expression evaluated in a template's scope, answered as `terraform console` (text) or as
 * `provisioner eval` JSON: `{value}` (what jsonencode would give), `{unknown: reference}`, `{error}`.
 */
import { EvalError, formatConsole, HclSyntaxError, jsonEncode, parseExpression, typeString, type Value } from "../template/hcl/index.js";
import type { ModuleScope } from "./scope.js";

/** Functions that exist only during a plan, not in `terraform console`. */
const CONSOLE_HIDDEN: ReadonlySet<string> = new Set(["plantimestamp"]);

export type ConsoleResult =
  | { kind: "value"; value: Value; text: string }
  | { kind: "type"; text: string }
  | { kind: "error"; summary: string; detail: string; file?: string; line?: number; column?: number };

export function evaluateConsole(scope: ModuleScope, source: string): ConsoleResult {
  scope.hiddenFunctions = CONSOLE_HIDDEN;
  try {
    const expr = parseExpression(source);
    scope.checkReferences(expr);
    // type() exists only in the console: it prints the type of its argument.
    if (expr.kind === "call" && expr.name === "type" && expr.args.length === 1) {
      return { kind: "type", text: typeString(scope.evaluator.eval(expr.args[0]).type) };
    }
    const value = scope.evaluator.eval(expr);
    return { kind: "value", value, text: formatConsole(value) };
  } catch (err) {
    if (err instanceof HclSyntaxError) return { kind: "error", summary: err.diagnostic.summary, detail: err.diagnostic.detail, line: err.line, column: err.column };
    if (err instanceof EvalError) {
      const d = err.diagnostic;
      return { kind: "error", summary: d.summary, detail: d.detail, file: d.file, line: d.range?.start.line, column: d.range?.start.column };
    }
    throw err;
  }
}

/** The `provisioner eval` JSON line for a result. */
export function consoleJson(r: ConsoleResult): Record<string, unknown> {
  if (r.kind === "error") return { error: `${r.summary}: ${r.detail}` };
  if (r.kind === "type") return { type: r.text };
  const v = r.value;
  if (!v.isWhollyKnown()) return { unknown: v.unknownReason ?? "" };
  if (v.isDeepSensitive()) return { sensitive: true };
  return { value: JSON.parse(jsonEncode(v)) as unknown };
}
