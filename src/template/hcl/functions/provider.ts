/**
 * Functions of Terraform's built-in provider (`provider::terraform::…`): tfvars and expression
 * encoding as hclwrite formats them.
 */
import { EvalError } from "../diagnostics.js";
import { Evaluator } from "../evaluate.js";
import { parseHclFile } from "../parser.js";
import { Value } from "../value.js";
import { FunctionError, type FunctionTable, str, whollyKnown } from "./support.js";

const IDENT = /^[\p{ID_Start}_][\p{ID_Continue}-]*$/u;

/** A string as an HCL quoted template literal. */
function hclString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch.codePointAt(0)! < 0x20) out += `\\u${ch.codePointAt(0)!.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out.replace(/\$\{/g, "$${").replace(/%\{/g, "%%{") + '"';
}

/** hclwrite.TokensForValue, formatted (attributes in objects aligned). */
export function hclExpression(v: Value, indent = 0): string {
  whollyKnown(v);
  if (v.isNull) return "null";
  const pad = " ".repeat(indent + 2);
  switch (v.type.kind) {
    case "string":
      return hclString(v.asString());
    case "number":
      return v.asNumber().toString();
    case "bool":
      return v.asBool() ? "true" : "false";
    case "list":
    case "set":
    case "tuple":
      return `[${v
        .asArray()
        .map((e) => hclExpression(e, indent))
        .join(", ")}]`;
    default: {
      const items = [...v.asMap()];
      if (items.length === 0) return "{}";
      const keys = items.map(([k]) => (IDENT.test(k) ? k : hclString(k)));
      const width = Math.max(...keys.map((k) => k.length));
      const lines = items.map(([, e], i) => `${pad}${keys[i].padEnd(width)} = ${hclExpression(e, indent + 2)}`);
      return `{\n${lines.join("\n")}\n${" ".repeat(indent)}}`;
    }
  }
}

export const PROVIDER_FUNCTIONS: FunctionTable = {
  "provider::terraform::encode_tfvars": {
    impl: ([v]) => {
      if (v.type.kind !== "object" && v.type.kind !== "map") throw new FunctionError("invalid value to encode: must be an object whose attribute names will become the encoded variable names");
      const items = [...whollyKnown(v).asMap()];
      for (const [k] of items) if (!IDENT.test(k)) throw new FunctionError(`invalid variable name ${JSON.stringify(k)}: must be a valid identifier, per Terraform's rules for input variable declarations`);
      const width = Math.max(0, ...items.map(([k]) => k.length));
      return Value.string(items.map(([k, e]) => `${k.padEnd(width)} = ${hclExpression(e)}\n`).join(""));
    },
  },
  "provider::terraform::decode_tfvars": {
    impl: ([s]) => {
      let body;
      try {
        body = parseHclFile(str(s));
      } catch (err) {
        throw new FunctionError(`invalid tfvars syntax: ${(err as Error).message}`, 0);
      }
      if (body.blocks.length > 0) throw new FunctionError("invalid tfvars syntax: blocks are not expected here", 0);
      const ev = new Evaluator({
        baseDir: ".",
        resolve: (address, range) => {
          throw new EvalError("Variables not allowed", "Variables may not be used here.", range, true);
        },
      });
      return Value.object(body.attributes.map((a) => [a.name, ev.eval(a.expr)]));
    },
  },
  "provider::terraform::encode_expr": { impl: ([v]) => Value.string(hclExpression(v)) },
};
