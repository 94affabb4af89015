import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { HclSyntaxError, type Block, parseHclFile, parseTemplate, references as exprReferences } from "./hcl/index.js";
import {
  type AgentModel,
  type AttrValue,
  INSTANCE_TYPES,
  type InstanceModel,
  type ResourceModel,
  TemplateLoadError,
  type TemplateModel,
} from "./model.js";

type Ref = (string | number)[];

/** Static references of an attribute value (HCL or JSON syntax). */
export function attrReferences(attr: AttrValue): Ref[] {
  if (attr.syntax === "hcl") return exprReferences(attr.expr);
  const out: Ref[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.includes("${") || v.includes("%{")) {
        try {
          out.push(...exprReferences(parseTemplate(v)));
        } catch {
          // An unparsable string is reported when it is evaluated.
        }
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(attr.value);
  return out;
}

/** Literal string value of an attribute, or undefined when it is an expression. */
export function literalString(attr: AttrValue | undefined): string | undefined {
  if (!attr) return undefined;
  if (attr.syntax === "json") return typeof attr.value === "string" && !attr.value.includes("${") ? attr.value : undefined;
  if (attr.expr.kind === "template" && attr.expr.parts.every((p) => p.kind === "text")) {
    return attr.expr.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
  }
  return undefined;
}

/** Literal number value of an attribute (count = 2), or undefined. */
export function literalNumber(attr: AttrValue | undefined): number | undefined {
  if (!attr) return undefined;
  if (attr.syntax === "json") return typeof attr.value === "number" ? attr.value : undefined;
  return attr.expr.kind === "literal" && typeof attr.expr.value === "number" ? attr.expr.value : undefined;
}

function hclAttrs(block: Block, file: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of block.body.attributes) out[a.name] = { syntax: "hcl", source: a.source, expr: a.expr, file, line: a.pos.line };
  return out;
}

function lineOf(text: string, needle: string, from = 0): { line: number; index: number } {
  const index = text.indexOf(needle, from);
  if (index < 0) return { line: 1, index: from };
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return { line, index };
}

interface Collected {
  resources: ResourceModel[];
  data: ResourceModel[];
  locals: Record<string, AttrValue>;
  variables: TemplateModel["variables"];
}

function collectHcl(text: string, file: string, into: Collected): void {
  let body;
  try {
    body = parseHclFile(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, err.message.replace(/ \(line \d+, column \d+\)$/, ""), err.line, err.column);
    throw err;
  }
  for (const block of body.blocks) {
    if ((block.type === "resource" || block.type === "data") && block.labels.length === 2) {
      const attributes = hclAttrs(block, file);
      const blocks: ResourceModel["blocks"] = {};
      for (const nested of block.body.blocks) (blocks[nested.type] ??= []).push(hclAttrs(nested, file));
      const { count, for_each: forEach, ...rest } = attributes;
      const r: ResourceModel = {
        mode: block.type === "resource" ? "managed" : "data",
        type: block.labels[0],
        name: block.labels[1],
        file,
        line: block.pos.line,
        attributes: rest,
        blocks,
        count,
        forEach,
      };
      (r.mode === "managed" ? into.resources : into.data).push(r);
    } else if (block.type === "locals") {
      Object.assign(into.locals, hclAttrs(block, file));
    } else if (block.type === "variable" && block.labels.length === 1) {
      into.variables[block.labels[0]] = { default: hclAttrs(block, file).default, file, line: block.pos.line };
    }
  }
}

function asList(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter((x) => x && typeof x === "object") as Record<string, unknown>[];
  return v && typeof v === "object" ? [v as Record<string, unknown>] : [];
}

function collectJson(text: string, file: string, into: Collected): void {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? lineOf(text.slice(0, Number(m[1])) + "\u0000", "\u0000").line : undefined;
    throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, `invalid JSON: ${(err as Error).message}`, line);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new TemplateLoadError("E_TEMPLATE_SYNTAX", file, "a .tf.json file must hold a JSON object");
  const attrs = (obj: Record<string, unknown>, line: number): Record<string, AttrValue> => {
    const out: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(obj)) if (!k.startsWith("//")) out[k] = { syntax: "json", value: v, file, line };
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
              const { count, for_each: forEach, ...rest } = attrs(body, line);
              const r: ResourceModel = { mode: mode === "resource" ? "managed" : "data", type, name, file, line, attributes: rest, blocks: {}, count, forEach };
              (r.mode === "managed" ? into.resources : into.data).push(r);
            }
          }
        }
      }
    }
  }
  for (const locals of asList(doc.locals)) {
    for (const [k, v] of Object.entries(locals)) {
      if (!k.startsWith("//")) into.locals[k] = { syntax: "json", value: v, file, line: lineOf(text, `"${k}"`).line };
    }
  }
  for (const vars of asList(doc.variable)) {
    for (const [name, body] of Object.entries(vars)) {
      const b = asList(body)[0] ?? {};
      const line = lineOf(text, `"${name}"`).line;
      into.variables[name] = { default: "default" in b ? { syntax: "json", value: b.default, file, line } : undefined, file, line };
    }
  }
}

/** Agents referenced by an attribute, following locals transitively. */
export function referencedAgents(attr: AttrValue, locals: Record<string, AttrValue>, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  for (const ref of attrReferences(attr)) {
    if (ref[0] === "coder_agent" && typeof ref[1] === "string") out.add(ref[1]);
    else if (ref[0] === "local" && typeof ref[1] === "string" && !seen.has(ref[1]) && locals[ref[1]]) {
      seen.add(ref[1]);
      for (const a of referencedAgents(locals[ref[1]], locals, seen)) out.add(a);
    }
  }
  return out;
}

function userDataOf(r: ResourceModel): Pick<InstanceModel, "userData" | "userDataAttribute" | "userDataIsBase64" | "userDataIsScript"> {
  const spec = INSTANCE_TYPES[r.type];
  for (const u of spec.userData) {
    const attr = r.attributes[u.attr];
    if (!attr) continue;
    const kind = { userDataIsBase64: u.base64, userDataIsScript: u.script === true };
    if (!u.key) return { userData: attr, userDataAttribute: u.attr, ...kind };
    // metadata = { "user-data" = … }: find the key's value inside the object expression.
    if (attr.syntax === "hcl" && attr.expr.kind === "object") {
      const item = attr.expr.items.find((i) => i.key.kind === "literal" ? i.key.value === u.key : i.key.kind === "template" && i.key.parts.length === 1 && i.key.parts[0].kind === "text" && i.key.parts[0].text === u.key);
      if (item) {
        const source = attr.source.slice(item.value.pos.offset - attr.expr.pos.offset);
        return { userData: { syntax: "hcl", source, expr: item.value, file: attr.file, line: item.value.pos.line + attr.line - 1 }, userDataAttribute: `${u.attr}.${u.key}`, ...kind };
      }
    } else if (attr.syntax === "json" && attr.value && typeof attr.value === "object" && u.key in (attr.value as object)) {
      return { userData: { ...attr, value: (attr.value as Record<string, unknown>)[u.key] }, userDataAttribute: `${u.attr}.${u.key}`, ...kind };
    }
  }
  return { userDataIsBase64: false, userDataIsScript: false };
}

/** Reads every .tf and .tf.json file of a template directory (the root module) into a model. */
export async function loadTemplate(dirArg: string): Promise<TemplateModel> {
  const dir = resolve(dirArg);
  let names: string[];
  try {
    // Synchronous reads: templates are small, and sequential async round trips dominated validate's time.
    if (!statSync(dir).isDirectory()) throw new TemplateLoadError("E_TEMPLATE_NOT_DIR", dirArg, "not a directory");
    names = readdirSync(dir).filter((n) => n.endsWith(".tf") || n.endsWith(".tf.json")).sort();
  } catch (err) {
    if (err instanceof TemplateLoadError) throw err;
    throw new TemplateLoadError("E_TEMPLATE_UNREADABLE", dirArg, (err as Error).message);
  }
  if (names.length === 0) throw new TemplateLoadError("E_TEMPLATE_EMPTY", dirArg, "no .tf or .tf.json files found");
  const collected: Collected = { resources: [], data: [], locals: {}, variables: {} };
  for (const name of names) {
    const text = readFileSync(join(dir, name), "utf8");
    if (name.endsWith(".tf.json")) collectJson(text, name, collected);
    else collectHcl(text, name, collected);
  }
  return buildModel(dir, names, collected);
}

function buildModel(dir: string, files: string[], c: Collected): TemplateModel {
  const instances: InstanceModel[] = c.resources
    .filter((r) => r.type in INSTANCE_TYPES)
    .map((r) => ({ resource: r, cloud: INSTANCE_TYPES[r.type].cloud, agents: [], ...userDataOf(r) }));
  const instanceByKey = new Map(instances.map((i) => [`${i.resource.type}.${i.resource.name}`, i]));
  const agents: AgentModel[] = c.resources
    .filter((r) => r.type === "coder_agent")
    .map((r) => ({
      name: r.name,
      resource: r,
      auth: r.attributes.auth ? literalString(r.attributes.auth) : "token",
      arch: literalString(r.attributes.arch),
      os: literalString(r.attributes.os),
      tie: "none",
    }));
  const agentByName = new Map(agents.map((a) => [a.name, a]));
  const tie = (agent: AgentModel, instance: InstanceModel, how: AgentModel["tie"]) => {
    if (agent.instance) return;
    agent.instance = instance;
    agent.tie = how;
    instance.agents.push(agent);
  };
  // 1. coder_agent_instance { agent_id, instance_id }
  for (const r of c.resources.filter((x) => x.type === "coder_agent_instance")) {
    const agentRef = r.attributes.agent_id && attrReferences(r.attributes.agent_id).find((ref) => ref[0] === "coder_agent");
    const instRef = r.attributes.instance_id && attrReferences(r.attributes.instance_id).find((ref) => instanceByKey.has(`${ref[0]}.${ref[1]}`));
    const agent = agentRef ? agentByName.get(String(agentRef[1])) : undefined;
    const instance = instRef ? instanceByKey.get(`${instRef[0]}.${instRef[1]}`) : undefined;
    if (agent && instance) tie(agent, instance, "coder_agent_instance");
  }
  // 2. the VM whose user data references the agent (Coder ties agents through the dependency graph)
  for (const instance of instances) {
    if (!instance.userData) continue;
    for (const name of referencedAgents(instance.userData, c.locals)) {
      const agent = agentByName.get(name);
      if (agent) tie(agent, instance, "user_data_reference");
    }
  }
  // 3. the only VM of the module
  if (instances.length === 1) for (const agent of agents) tie(agent, instances[0], "only_instance");
  return { dir, files, resources: c.resources, data: c.data, locals: c.locals, variables: c.variables, agents, instances };
}
