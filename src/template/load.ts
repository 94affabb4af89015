import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Attr, BlockConfig, ModuleConfig, ResourceConfig } from "./config.js";
import { TemplateLoadError } from "./config.js";
import { type Block, type Expr, HclSyntaxError, jsonSyntaxExpr, parseHclFile, type Pos } from "./hcl/index.js";

/** Terraform ignores these files in a module directory (editor backups, hidden files). */
function ignoredName(name: string): boolean {
  return name.startsWith(".") || name.endsWith("~") || (name.startsWith("#") && name.endsWith("#"));
}

/**
 * Reads a regular file without blocking on FIFOs or devices: the file is opened non-blocking and
 * checked to be regular before reading.
 */
function readRegularFile(path: string, rel: string): { text?: string; skipped?: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new TemplateLoadError("E_TEMPLATE_UNREADABLE", rel, "cannot read the file: it is a symbolic link whose target does not exist");
    if (e.code === "EACCES") throw new TemplateLoadError("E_TEMPLATE_UNREADABLE", rel, "cannot read the file: permission denied");
    throw new TemplateLoadError("E_TEMPLATE_UNREADABLE", rel, `cannot read the file: ${e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { skipped: "a directory" };
    if (!st.isFile()) return { skipped: st.isFIFO() ? "a named pipe, not a regular file" : st.isSocket() ? "a socket, not a regular file" : "not a regular file" };
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { text: buf.subarray(0, off).toString("utf8") };
  } catch (err) {
    throw new TemplateLoadError("E_TEMPLATE_UNREADABLE", rel, `cannot read the file: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function attrsOf(block: Block, file: string): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const a of block.body.attributes) out[a.name] = { name: a.name, expr: a.expr, file, pos: a.pos, source: a.source };
  return out;
}

function blockConfig(block: Block, file: string): BlockConfig {
  return { type: block.type, labels: block.labels, attrs: attrsOf(block, file), blocks: block.body.blocks.map((b) => blockConfig(b, file)), file, pos: block.pos };
}

/** The literal string value of an expression (a template with only text), if it is one. */
export function literalString(e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  if (e.kind === "template" && e.parts.every((p) => p.kind === "text")) return e.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
  if (e.kind === "literal" && e.value.type.kind === "string") return e.value.asString();
  return undefined;
}

/** `ignore_changes = [user_data, tags["x"]]` or `all`, as attribute path strings. */
function ignoreChanges(e: Expr | undefined): string[] | "all" | undefined {
  if (!e) return undefined;
  if (e.kind === "variable" && e.name === "all") return "all";
  if (literalString(e) === "all") return "all";
  if (e.kind !== "tuple") return undefined;
  return e.items.map((item) => exprPath(item) ?? literalString(item) ?? "?");
}

function exprPath(e: Expr): string | undefined {
  if (e.kind === "variable") return e.name;
  if (e.kind === "getattr") return `${exprPath(e.target)}.${e.name}`;
  if (e.kind === "index" && e.index.kind === "literal") return `${exprPath(e.target)}[${JSON.stringify(e.index.value.raw === null ? null : String(e.index.value.type.kind === "number" ? e.index.value.asNumber().toString() : e.index.value.raw))}]`;
  return undefined;
}

interface Collector {
  module: ModuleConfig;
  /** Where each named object was first declared, for Terraform's duplicate errors. */
  seen: Map<string, { file: string; pos: Pos }>;
}

function declare(c: Collector, key: string, what: string, file: string, pos: Pos): void {
  const prior = c.seen.get(key);
  if (prior) throw new TemplateLoadError("E_TEMPLATE_DUPLICATE", file, `${what} was already declared at ${prior.file}:${prior.pos.line}`, pos.line, pos.column);
  c.seen.set(key, { file, pos });
}

function addResource(c: Collector, r: Omit<ResourceConfig, "address" | "count" | "forEach" | "ignoreChanges" | "lifecycle">, lifecycle?: BlockConfig): void {
  const address = `${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`;
  declare(c, address, `${r.mode === "data" ? "data" : "resource"} "${r.type}" "${r.name}"`, r.file, r.pos);
  const { count, for_each: forEach, depends_on: _dependsOn, provider: _provider, ...attrs } = r.attrs;
  void _dependsOn;
  void _provider;
  c.module.resources.push({ ...r, attrs, address, count, forEach, lifecycle, ignoreChanges: ignoreChanges(lifecycle?.attrs.ignore_changes?.expr) });
}

function collectHcl(text: string, file: string, c: Collector): void {
  let body;
  try {
    body = parseHclFile(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, err.reason, err.line, err.column);
    throw err;
  }
  const m = c.module;
  for (const block of body.blocks) {
    const [l0, l1] = block.labels;
    switch (block.type) {
      case "resource":
      case "data": {
        if (block.labels.length !== 2) break;
        const nested = block.body.blocks.map((b) => blockConfig(b, file));
        addResource(
          c,
          { mode: block.type === "resource" ? "managed" : "data", type: l0, name: l1, file, pos: block.pos, attrs: attrsOf(block, file), blocks: nested.filter((b) => !["lifecycle", "connection", "provisioner"].includes(b.type)), provisioners: nested.filter((b) => b.type === "connection" || b.type === "provisioner") },
          nested.find((b) => b.type === "lifecycle"),
        );
        break;
      }
      case "locals":
        for (const [name, a] of Object.entries(attrsOf(block, file))) {
          declare(c, `local.${name}`, `local value "${name}"`, file, a.pos);
          m.locals[name] = a;
        }
        break;
      case "variable": {
        if (block.labels.length !== 1) break;
        declare(c, `var.${l0}`, `variable "${l0}"`, file, block.pos);
        const attrs = attrsOf(block, file);
        m.variables[l0] = {
          name: l0,
          type: attrs.type?.expr,
          default: attrs.default,
          nullable: !(attrs.nullable?.expr.kind === "literal" && attrs.nullable.expr.value.raw === false),
          sensitive: attrs.sensitive?.expr.kind === "literal" && attrs.sensitive.expr.value.raw === true,
          file,
          pos: block.pos,
        };
        break;
      }
      case "output":
        if (block.labels.length !== 1) break;
        declare(c, `output.${l0}`, `output "${l0}"`, file, block.pos);
        m.outputs[l0] = { name: l0, value: attrsOf(block, file).value, file, pos: block.pos };
        break;
      case "module": {
        if (block.labels.length !== 1) break;
        declare(c, `module.${l0}`, `module "${l0}"`, file, block.pos);
        const { source, version, count, for_each: forEach, providers: _p, depends_on: _d, ...args } = attrsOf(block, file);
        void _p;
        void _d;
        m.modules[l0] = { name: l0, source: literalString(source?.expr) ?? "", version: literalString(version?.expr), attrs: args, count, forEach, file, pos: block.pos };
        break;
      }
      case "terraform":
        for (const rp of block.body.blocks.filter((b) => b.type === "required_providers")) {
          for (const a of rp.body.attributes) {
            const e = a.expr;
            let source: string | undefined;
            let version: string | undefined;
            if (e.kind === "object") {
              for (const item of e.items) {
                const k = literalString(item.key) ?? (item.key.kind === "literal" ? String(item.key.value.raw) : "");
                if (k === "source") source = literalString(item.value);
                if (k === "version") version = literalString(item.value);
              }
            } else version = literalString(e);
            m.requiredProviders[a.name] = { name: a.name, source, version, file, pos: a.pos };
          }
        }
        break;
    }
  }
}

function asList(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter((x) => x && typeof x === "object") as Record<string, unknown>[];
  return v && typeof v === "object" ? [v as Record<string, unknown>] : [];
}

function lineOf(text: string, needle: string, from = 0): { line: number; index: number } {
  const index = text.indexOf(needle, from);
  if (index < 0) return { line: 1, index: from };
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return { line, index };
}

function collectJson(text: string, file: string, c: Collector): void {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split("\n").length : undefined;
    throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, `invalid JSON: ${(err as Error).message}`, line);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, "a .tf.json file must hold a JSON object");
  const at = (line: number): Pos => ({ line, column: 1, offset: 0 });
  const attrs = (obj: Record<string, unknown>, line: number): Record<string, Attr> => {
    const out: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k.startsWith("//")) continue;
      try {
        out[k] = { name: k, expr: jsonSyntaxExpr(v, at(line)), file, pos: at(line), source: "" };
      } catch (err) {
        if (err instanceof HclSyntaxError) throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, `${k}: ${err.reason}`, line);
        throw err;
      }
    }
    return out;
  };
  for (const mode of ["resource", "data"] as const) {
    for (const group of asList(doc[mode])) {
      for (const [type, byName] of Object.entries(group)) {
        for (const named of asList(byName)) {
          for (const [name, bodyRaw] of Object.entries(named)) {
            if (name.startsWith("//")) continue;
            for (const body of asList(bodyRaw)) {
              const typeAt = lineOf(text, `"${type}"`);
              const { line } = lineOf(text, `"${name}"`, typeAt.index);
              const { lifecycle, ...rest } = body;
              const lc = asList(lifecycle)[0];
              const lcConfig: BlockConfig | undefined = lc ? { type: "lifecycle", labels: [], attrs: attrs(lc, line), blocks: [], file, pos: at(line) } : undefined;
              addResource(c, { mode: mode === "resource" ? "managed" : "data", type, name, file, pos: at(line), attrs: attrs(rest, line), blocks: [] }, lcConfig);
            }
          }
        }
      }
    }
  }
  for (const locals of asList(doc.locals)) {
    for (const [k, v] of Object.entries(locals)) {
      if (k.startsWith("//")) continue;
      const line = lineOf(text, `"${k}"`).line;
      declare(c, `local.${k}`, `local value "${k}"`, file, at(line));
      c.module.locals[k] = attrs({ [k]: v }, line)[k];
    }
  }
  for (const vars of asList(doc.variable)) {
    for (const [name, body] of Object.entries(vars)) {
      const b = asList(body)[0] ?? {};
      const line = lineOf(text, `"${name}"`).line;
      declare(c, `var.${name}`, `variable "${name}"`, file, at(line));
      c.module.variables[name] = { name, default: "default" in b ? attrs({ default: b.default }, line).default : undefined, nullable: b.nullable !== false, sensitive: b.sensitive === true, file, pos: at(line) };
    }
  }
  for (const outs of asList(doc.output)) {
    for (const [name, body] of Object.entries(outs)) {
      const b = asList(body)[0] ?? {};
      const line = lineOf(text, `"${name}"`).line;
      c.module.outputs[name] = { name, value: "value" in b ? attrs({ value: b.value }, line).value : undefined, file, pos: at(line) };
    }
  }
  for (const tf of asList(doc.terraform)) {
    for (const rp of asList(tf.required_providers)) {
      for (const [name, spec] of Object.entries(rp)) {
        const s = typeof spec === "string" ? { version: spec } : ((spec ?? {}) as Record<string, unknown>);
        c.module.requiredProviders[name] = { name, source: typeof s.source === "string" ? s.source : undefined, version: typeof s.version === "string" ? s.version : undefined, file, pos: at(lineOf(text, `"${name}"`).line) };
      }
    }
  }
  for (const mods of asList(doc.module)) {
    for (const [name, body] of Object.entries(mods)) {
      const b = asList(body)[0] ?? {};
      const line = lineOf(text, `"${name}"`).line;
      const { source, version, count, for_each: forEach, providers: _p, depends_on: _d, ...args } = attrs(b, line);
      void _p;
      void _d;
      c.module.modules[name] = { name, source: literalString(source?.expr) ?? "", version: literalString(version?.expr), attrs: args, count, forEach, file, pos: at(line) };
    }
  }
}

/** Provider versions from .terraform.lock.hcl, by provider address. */
function lockedVersions(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  let text: string;
  try {
    text = readFileSync(join(dir, ".terraform.lock.hcl"), "utf8");
  } catch {
    return out;
  }
  try {
    for (const b of parseHclFile(text).blocks) {
      const v = b.body.attributes.find((a) => a.name === "version");
      const version = literalString(v?.expr);
      if (b.type === "provider" && b.labels[0] && version) out[b.labels[0]] = version;
    }
  } catch {
    // A lock file Terraform wrote is valid HCL; an edited broken one only loses the version hint.
  }
  return out;
}

/**
 * Reads every .tf and .tf.json file of a module directory. `root` is the root template directory
 * (file paths in the configuration are relative to it).
 */
export function loadModule(dirArg: string, root = dirArg): ModuleConfig {
  const dir = resolve(dirArg);
  const rootDir = resolve(root);
  const relDir = relative(rootDir, dir) || ".";
  const display = (name: string) => (relDir === "." ? name : join(relDir, name));
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new TemplateLoadError("E_TEMPLATE_NOT_DIR", dirArg, "not a directory");
    names = readdirSync(dir)
      .filter((n) => (n.endsWith(".tf") || n.endsWith(".tf.json")) && !ignoredName(n))
      .sort();
  } catch (err) {
    if (err instanceof TemplateLoadError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new TemplateLoadError(e.code === "ENOENT" ? "E_TEMPLATE_NOT_FOUND" : "E_TEMPLATE_UNREADABLE", dirArg, e.code === "ENOENT" ? "no such directory" : e.message);
  }
  const module: ModuleConfig = {
    dir,
    relDir,
    files: [],
    resources: [],
    locals: {},
    variables: {},
    outputs: {},
    modules: {},
    requiredProviders: {},
    lockedVersions: lockedVersions(dir),
    skipped: [],
  };
  const c: Collector = { module, seen: new Map() };
  for (const name of names) {
    const rel = display(name);
    let isDir = false;
    try {
      isDir = lstatSync(join(dir, name)).isDirectory();
    } catch {
      // reported by the read below
    }
    if (isDir) continue;
    const { text, skipped } = readRegularFile(join(dir, name), rel);
    if (skipped !== undefined) {
      if (skipped !== "a directory") module.skipped.push({ file: rel, reason: skipped });
      continue;
    }
    module.files.push(rel);
    if (name.endsWith(".tf.json")) collectJson(text!, rel, c);
    else collectHcl(text!, rel, c);
  }
  if (module.files.length === 0) throw new TemplateLoadError("E_TEMPLATE_EMPTY", dirArg, "no .tf or .tf.json files found");
  return module;
}
