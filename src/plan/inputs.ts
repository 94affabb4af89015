/**
 * Input variables given on the command line as Terraform takes them: `-var NAME=VALUE` (a string for
 * string-typed or untyped variables, an HCL expression otherwise) and `-var-file` (.tfvars in HCL, or
 * .tfvars.json). Parameters are `NAME=VALUE` strings, as `coder create --parameter` takes them.
 */
import { readFileSync } from "node:fs";
import type { ModuleConfig } from "../template/config.js";
import { EvalError, Evaluator, HclSyntaxError, jsonSyntaxExpr, parseExpression, parseHclFile, type Value } from "../template/hcl/index.js";

export class InputError extends Error {}

const constants = new Evaluator({
  baseDir: ".",
  resolve: (_address, range) => {
    throw new EvalError("Variables not allowed", "Variables may not be used here.", range, true);
  },
});

function constant(src: string, what: string): Value {
  try {
    return constants.eval(parseExpression(src));
  } catch (err) {
    if (err instanceof HclSyntaxError || err instanceof EvalError) throw new InputError(`${what}: ${err.message}`);
    throw err;
  }
}

/** NAME=VALUE pairs (first "=" splits). */
export function pairs(items: string[], flag: string): [string, string][] {
  return items.map((item) => {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new InputError(`${flag} ${JSON.stringify(item)} is not NAME=VALUE`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** Variable values from --var-file files then --var flags (later ones win, as in Terraform). */
export function variableValues(config: ModuleConfig, vars: string[], varFiles: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const file of varFiles) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new InputError(`--var-file ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    if (file.endsWith(".json")) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new InputError(`--var-file ${file}: invalid JSON: ${(err as Error).message}`);
      }
      if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new InputError(`--var-file ${file}: must hold a JSON object`);
      for (const [k, v] of Object.entries(doc)) out[k] = constants.eval(jsonSyntaxExpr(v, { line: 1, column: 1, offset: 0 }));
    } else {
      let body;
      try {
        body = parseHclFile(text);
      } catch (err) {
        throw new InputError(`--var-file ${file}: ${(err as Error).message}`);
      }
      for (const a of body.attributes) out[a.name] = constants.eval(a.expr);
    }
  }
  for (const [name, raw] of pairs(vars, "--var")) {
    const decl = config.variables[name];
    const typeSrc = decl?.type;
    // Terraform reads -var as a string unless the variable's type is not string.
    const literal = !typeSrc || (typeSrc.kind === "variable" && (typeSrc.name === "string" || typeSrc.name === "any"));
    out[name] = literal && !(typeSrc?.kind === "variable" && typeSrc.name === "any" && /^[[{"]/.test(raw.trim())) ? constants.eval(parseExpression(JSON.stringify(raw))) : constant(raw, `--var ${name}`);
  }
  for (const name of Object.keys(out)) {
    if (!config.variables[name]) throw new InputError(`--var ${name}: the template declares no variable "${name}" (declared: ${Object.keys(config.variables).sort().join(", ") || "none"})`);
  }
  return out;
}
