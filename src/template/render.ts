import { type EvalScope, Evaluator, type HclValue } from "./hcl/index.js";
import type { AttrValue, InstanceModel, ResourceModel, TemplateModel } from "./model.js";

/** Values the renderer substitutes for what only Coder and the cloud know at apply time. */
export interface RenderValues {
  workspace: Record<string, HclValue>;
  owner: Record<string, HclValue>;
  /** Attributes of one agent (init_script, token, id), by agent name. */
  agent(name: string): Record<string, HclValue>;
  /** Any other resource or data source attribute; undefined = unknown. */
  attribute?(r: ResourceModel, attr: string, index: number | string | undefined): HclValue | undefined;
  /** Input variables without a default. */
  variable?(name: string): HclValue | undefined;
}

/** Builds an evaluation scope for the template's root module. */
export function templateScope(model: TemplateModel, values: RenderValues): EvalScope {
  const variables: Record<string, HclValue> = {};
  const bootstrap = new Evaluator({ moduleDir: model.dir });
  for (const [name, v] of Object.entries(model.variables)) {
    const given = values.variable?.(name);
    if (given !== undefined) variables[name] = given;
    else if (v.default) variables[name] = evalAttr(bootstrap, v.default);
  }
  const locals: NonNullable<EvalScope["locals"]> = {};
  for (const [name, attr] of Object.entries(model.locals)) locals[name] = attr.syntax === "hcl" ? { expr: attr.expr } : { json: attr.value };
  const byKey = new Map<string, ResourceModel>();
  for (const r of model.resources) byKey.set(`${r.type}.${r.name}`, r);
  for (const r of model.data) byKey.set(`data.${r.type}.${r.name}`, r);

  const resourceValue = (r: ResourceModel, rest: (string | number)[]): HclValue | undefined => {
    const counted = r.count !== undefined || r.forEach !== undefined;
    let index: number | string | undefined;
    let attrPath = rest;
    if (counted && (typeof rest[0] === "number" || (r.forEach && typeof rest[0] === "string" && rest.length > 1))) {
      index = rest[0];
      attrPath = rest.slice(1);
    }
    const one = (): Record<string, HclValue> | undefined => {
      if (r.type === "coder_agent" && r.mode === "managed") return values.agent(r.name);
      if (r.mode === "data" && r.type === "coder_workspace") return values.workspace;
      if (r.mode === "data" && r.type === "coder_workspace_owner") return values.owner;
      return undefined;
    };
    const known = one();
    if (attrPath.length === 0) {
      if (!known) return undefined;
      return counted && index === undefined ? [known] : known;
    }
    const attr = String(attrPath[0]);
    if (known) return attr in known ? known[attr] : undefined;
    return values.attribute?.(r, attr, index);
  };

  return {
    moduleDir: model.dir,
    variables,
    locals,
    resolve: (ref) => {
      if (ref[0] === "count" && ref[1] === "index") return 0;
      if (ref[0] === "data" && ref.length >= 3) {
        const r = byKey.get(`data.${ref[1]}.${ref[2]}`);
        return r ? resourceValue(r, ref.slice(3)) : undefined;
      }
      const r = byKey.get(`${ref[0]}.${ref[1]}`);
      return r ? resourceValue(r, ref.slice(2)) : undefined;
    },
  };
}

function evalAttr(ev: Evaluator, attr: AttrValue): HclValue {
  return attr.syntax === "hcl" ? ev.eval(attr.expr, new Map()) : ev.json(attr.value);
}

/** Evaluates one attribute in a scope. */
export function evaluateAttr(attr: AttrValue, scope: EvalScope): HclValue {
  return evalAttr(new Evaluator(scope), attr);
}

/** Renders an instance's user data as Terraform would pass it to the cloud (base64 attributes decoded). */
export function renderUserData(instance: InstanceModel, scope: EvalScope): string | undefined {
  if (!instance.userData) return undefined;
  const value = evaluateAttr(instance.userData, scope);
  if (value === null) return undefined;
  if (typeof value !== "string") throw new Error(`${instance.userDataAttribute} of ${instance.resource.type}.${instance.resource.name} is not a string`);
  return instance.userDataIsBase64 ? Buffer.from(value, "base64").toString("utf8") : value;
}
