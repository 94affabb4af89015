/** File functions (relative to the template directory, bytes exact) and template rendering. */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import type { Expr } from "../ast.js";
import { EvalError, formatDiagnostic, HclSyntaxError } from "../diagnostics.js";
import { type EvalScope, Evaluator } from "../evaluate.js";
import { parseTemplate } from "../parser.js";
import { references } from "../references.js";
import { DYNAMIC, STRING } from "../types.js";
import { Value } from "../value.js";
import { validUtf8 } from "./encoding.js";
import { type CallContext, FunctionError, type FunctionTable, str } from "./support.js";

function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return join(homedir(), p.slice(2));
  return p;
}

/** Resolves a path argument as Terraform does: ~ expanded, relative to the working directory. */
function pathOf(ctx: CallContext, p: string): string {
  const expanded = expandHome(p);
  return isAbsolute(expanded) ? expanded : join(ctx.evaluator.scope.baseDir, expanded);
}

export function readFileBytes(ctx: CallContext, p: string, arg = 0): Buffer {
  const abs = pathOf(ctx, p);
  try {
    if (ctx.evaluator.scope.readFile) return ctx.evaluator.scope.readFile(abs);
    return readFileSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new FunctionError(
        `no file exists at ${JSON.stringify(p)}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource`,
        arg,
      );
    }
    if (code === "EISDIR") throw new FunctionError(`failed to read file: read ${p}: is a directory`, arg);
    throw new FunctionError(`failed to read file: ${(err as Error).message}`, arg);
  }
}

function readUtf8(ctx: CallContext, p: string, arg = 0): string {
  const b = readFileBytes(ctx, p, arg);
  if (!validUtf8(b)) {
    throw new FunctionError(
      `contents of ${JSON.stringify(p)} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead`,
    );
  }
  return b.toString("utf8");
}

const fileHash = (algo: string, enc: "hex" | "base64") => ({
  impl: ([p]: Value[], ctx: CallContext) => Value.string(createHash(algo).update(readFileBytes(ctx, str(p))).digest(enc)),
});

/** Go's filepath.Clean. */
function clean(p: string): string {
  if (p === "") return ".";
  const n = normalize(p);
  return n.length > 1 && n.endsWith(sep) ? n.slice(0, -1) : n;
}

/** doublestar glob pattern → RegExp over slash-separated relative paths. */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        const atStart = i === 0 || pattern[i - 1] === "/";
        const atEnd = i + 2 === pattern.length || pattern[i + 2] === "/";
        if (atStart && atEnd) {
          re += pattern[i + 2] === "/" ? "(?:.*/)?" : ".*";
          i += pattern[i + 2] === "/" ? 2 : 1;
          continue;
        }
      }
      re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) throw new FunctionError(`failed to glob pattern (${pattern}): syntax error in pattern`);
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith("!") || cls.startsWith("^")) cls = "^" + cls.slice(1);
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else if (c === "{") {
      const close = pattern.indexOf("}", i + 1);
      if (close < 0) throw new FunctionError(`failed to glob pattern (${pattern}): syntax error in pattern`);
      re += `(?:${pattern
        .slice(i + 1, close)
        .split(",")
        .map((a) => globToRegExp(a).source.slice(1, -1))
        .join("|")})`;
      i = close;
    } else if (c === "\\" && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function walkFiles(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    let st;
    try {
      st = statSync(full);
    } catch {
      continue;
    }
    if (st.isDirectory()) walkFiles(root, full, out);
    else if (st.isFile()) out.push(relative(root, full).split(sep).join("/"));
  }
  return out;
}

/**
 * Renders a parsed template with `vars` as its only variables (templatefile/templatestring):
 * variable names checked, every reference checked against the map before evaluation (Terraform's
 * static check, so a missing key is an error even inside try()).
 */
function renderTemplate(parent: EvalScope, tmpl: Expr, varsVal: Value, file: string, depth: number): Value {
  const t = varsVal.type.kind;
  if (t !== "map" && t !== "object" && t !== "dynamic") throw new FunctionError("invalid vars value: must be a map", 1);
  if (!varsVal.isKnown) return Value.unknown(DYNAMIC, varsVal.unknownReason ?? "");
  const vars = new Map(varsVal.asMap());
  for (const n of vars.keys()) {
    if (!/^[\p{ID_Start}_][\p{ID_Continue}-]*$/u.test(n)) {
      throw new FunctionError(`invalid template variable name ${JSON.stringify(n)}: must start with a letter, followed by zero or more letters, digits, and underscores`, 1);
    }
  }
  for (const ref of references(tmpl)) {
    const root = String(ref.parts[0]);
    if (!vars.has(root)) {
      const r = ref.range;
      throw new FunctionError(`vars map does not contain key ${JSON.stringify(root)}, referenced at ${file}:${r.start.line},${r.start.column}-${r.end.column}`, 1);
    }
  }
  if (depth > 1024) throw new FunctionError("maximum recursion depth 1024 exceeded in nested templatefile calls");
  const child = new Evaluator({
    baseDir: parent.baseDir,
    readFile: parent.readFile,
    functions: parent.functions,
    now: parent.now,
    templateDepth: depth,
    providers: parent.providers,
    hiddenFunctions: parent.hiddenFunctions,
    resolve: (address, range) => {
      throw new EvalError("Unknown variable", `There is no variable named ${JSON.stringify(address[0])}.`, range, true);
    },
  });
  try {
    return tmpl.kind === "template" ? child.template(tmpl.parts, vars) : child.eval(tmpl, vars);
  } catch (err) {
    if (err instanceof EvalError) throw new FunctionError(`${file}:${err.diagnostic.range?.start.line ?? 1},${err.diagnostic.range?.start.column ?? 1}: ${formatDiagnostic({ ...err.diagnostic, range: undefined })}`);
    throw err;
  }
}

function parseTemplateText(text: string, file: string): Expr {
  try {
    return parseTemplate(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new FunctionError(`${file}:${err.line},${err.column}: ${err.reason}`);
    throw err;
  }
}

/**
 * A template string rendered with `vars`, as the hashicorp/template provider's `template_file` data
 * source renders its `template` (HCL template syntax; every variable must be in the map).
 */
export function renderTemplateString(scope: EvalScope, text: string, vars: Value, where: string): Value {
  try {
    return renderTemplate(scope, parseTemplateText(text, where), vars, where, (scope.templateDepth ?? 0) + 1);
  } catch (err) {
    if (err instanceof FunctionError) throw new EvalError("Error rendering the template", err.message);
    throw err;
  }
}

export const FILESYSTEM_FUNCTIONS: FunctionTable = {
  file: { impl: ([p], ctx) => Value.string(readUtf8(ctx, str(p))) },
  filebase64: { impl: ([p], ctx) => Value.string(readFileBytes(ctx, str(p)).toString("base64")) },
  fileexists: {
    impl: ([p], ctx) => {
      const abs = pathOf(ctx, str(p));
      if (!existsSync(abs)) return Value.bool(false);
      const st = lstatSync(abs).isSymbolicLink() ? statSync(abs) : lstatSync(abs);
      if (st.isFile()) return Value.bool(true);
      if (st.isDirectory()) throw new FunctionError(`${JSON.stringify(str(p))} is a directory, not a file`);
      if (st.isFIFO()) throw new FunctionError(`${JSON.stringify(str(p))} is a named pipe, not a regular file`);
      if (st.isSocket()) throw new FunctionError(`${JSON.stringify(str(p))} is a unix domain socket, not a regular file`);
      if (st.isBlockDevice() || st.isCharacterDevice()) throw new FunctionError(`${JSON.stringify(str(p))} is a device node, not a regular file`);
      throw new FunctionError(`${JSON.stringify(str(p))} is not a regular file`);
    },
  },
  fileset: {
    impl: ([p, pat], ctx) => {
      const root = pathOf(ctx, str(p));
      const re = globToRegExp(str(pat));
      let files: string[] = [];
      if (existsSync(root) && statSync(root).isDirectory()) files = walkFiles(root).filter((f) => re.test(f));
      return Value.set(
        files.map((f) => Value.string(f)),
        STRING,
      );
    },
  },
  filemd5: fileHash("md5", "hex"),
  filesha1: fileHash("sha1", "hex"),
  filesha256: fileHash("sha256", "hex"),
  filesha512: fileHash("sha512", "hex"),
  filebase64sha256: fileHash("sha256", "base64"),
  filebase64sha512: fileHash("sha512", "base64"),
  abspath: { impl: ([p], ctx) => Value.string(resolve(ctx.evaluator.scope.baseDir, str(p)).split(sep).join("/")) },
  dirname: { impl: ([p]) => Value.string(str(p) === "" ? "." : clean(dirname(str(p).endsWith("/") && str(p).length > 1 ? str(p) + "x" : str(p)))) },
  basename: {
    impl: ([p]) => {
      const s = str(p);
      if (s === "") return Value.string(".");
      const trimmed = s.replace(/\/+$/, "");
      return Value.string(trimmed === "" ? "/" : basename(trimmed));
    },
  },
  pathexpand: { impl: ([p]) => Value.string(expandHome(str(p))) },
  templatefile: {
    impl: ([p, vars], ctx) => {
      if ((ctx.evaluator.scope.templateDepth ?? 0) > 0) throw new FunctionError("cannot recursively call templatefile from inside another template function");
      const file = str(p);
      const tmpl = parseTemplateText(readUtf8(ctx, file), file);
      return renderTemplate(ctx.evaluator.scope, tmpl, vars, file, (ctx.evaluator.scope.templateDepth ?? 0) + 1);
    },
  },
  templatestring: {
    lazy(ctx) {
      const [ref, varsExpr] = ctx.args;
      if (ctx.args.length !== 2) throw new EvalError(ctx.args.length < 2 ? "Not enough function arguments" : "Too many function arguments", `Function "templatestring" expects 2 argument(s).`, ctx.range);
      if (!["variable", "getattr", "index"].includes(ref.kind)) {
        throw new EvalError(
          "Invalid function argument",
          `Invalid value for "template" parameter: invalid template expression: must be a direct reference to a single string from elsewhere, containing valid template syntax.`,
          { start: ref.pos, end: ref.end },
        );
      }
      const tv = ctx.evaluator.eval(ref, ctx.vars);
      const vars = ctx.evaluator.eval(varsExpr, ctx.vars);
      if (!tv.isKnown) return Value.unknown(DYNAMIC, tv.unknownReason ?? "");
      if (tv.type.kind !== "string" || tv.isNull) throw new EvalError("Invalid function argument", `Invalid value for "template" parameter: string required.`, { start: ref.pos, end: ref.end });
      try {
        return renderTemplate(ctx.evaluator.scope, parseTemplateText(tv.asString(), "<template>"), vars, "<template>", (ctx.evaluator.scope.templateDepth ?? 0) + 1);
      } catch (err) {
        if (err instanceof FunctionError) throw new EvalError("Error in function call", `Call to function "templatestring" failed: ${err.message}.`, ctx.range);
        throw err;
      }
    },
  },
};
