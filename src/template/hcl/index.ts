/**
 * The HCL engine: Terraform's native syntax parsed with source ranges, and evaluated with Terraform's
 * semantics (cty values and types, unknown values, every built-in function). `terraform` itself is
 * the reference: test/conformance holds its answers and the suite checks ours against them.
 */
export type { Attribute, Block, Body, Expr, Pos, Range, TemplatePart } from "./ast.js";
export { parseExpression, parseHclFile, parseTemplate } from "./parser.js";
export { EvalError, formatDiagnostic, HclSyntaxError, type Diagnostic } from "./diagnostics.js";
export { Evaluator, getAttr, index, iterate, type EvalScope, type Resolved, type Step } from "./evaluate.js";
export { ConversionError, convert, unify } from "./convert.js";
export { BigFloat } from "./number.js";
export * from "./types.js";
export { equals, Unknown, Value } from "./value.js";
export { references, type Reference } from "./references.js";
export { formatConsole } from "./console.js";
export { jsonEncode, yamlEncode } from "./functions/encoding.js";
export { renderTemplateString } from "./functions/filesystem.js";
export { BUILTIN_NAMES } from "./functions/index.js";
export { jsonSyntaxExpr } from "./json-syntax.js";
export { applyTypeConstraint, parseTypeConstraint, type TypeConstraint } from "./typeexpr.js";
