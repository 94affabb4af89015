/**
 * HCL native syntax for provisioner: a parser for .tf bodies, expressions and templates (with
 * positions and raw sources), and an evaluator with Terraform's semantics for what user data needs.
 *
 * Why not only @cdktf/hcl2json: it has no source positions and re-serialises heredocs lossily
 * (indentation after `%{ }` directives is not stripped), which breaks YAML user data.
 */
export type { Attribute, Block, Body, Expr, Pos, TemplatePart } from "./ast.js";
export { HclSyntaxError, parseExpression, parseHclFile, parseTemplate } from "./parser.js";
export { EvalError, evaluateExpression, evaluateJsonExpression, evaluateTemplate, Evaluator, type EvalScope, type HclValue } from "./evaluate.js";
export { jsonencode } from "./functions.js";
export { references } from "./references.js";
