/**
 * A template's parameters (`data "coder_parameter"`) and presets (`data "coder_workspace_preset"`,
 * with their `prebuilds` block), evaluated from the plan: what validate checks and what tells e2e
 * whether the template asks for prebuilt workspaces.
 */
import type { Attr, BlockConfig, ResourceConfig } from "../template/config.js";
import { convert, EvalError, STRING, type Value } from "../template/hcl/index.js";
import type { Plan } from "./plan.js";

export interface ParameterOption {
  value: string;
  attr: Attr;
}

export interface Parameter {
  resource: ResourceConfig;
  /** The `name` Coder shows and presets use (defaults to the resource name). */
  name: string;
  /** string | number | bool | list(string) (the provider's default: string). */
  type: string;
  default?: { value: string; attr: Attr };
  options: ParameterOption[];
  validation?: { min?: number; max?: number; regex?: string; block: BlockConfig };
  formType?: { value: string; attr: Attr };
}

export interface Preset {
  resource: ResourceConfig;
  name: string;
  /** Parameter values by parameter name, with the attribute that sets them. */
  parameters: Map<string, string>;
  parametersAttr?: Attr;
  /** `prebuilds { instances }`: 0 without a prebuilds block. */
  prebuildInstances: number;
  prebuilds?: BlockConfig;
  /** `prebuilds { expiration_policy { ttl } }`, seconds. */
  ttl?: { seconds: number; attr: Attr };
}

function evaluate(plan: Plan, a: Attr | undefined): Value | undefined {
  if (!a) return undefined;
  try {
    const v = plan.scope.evalAttr(a);
    return v.isWhollyKnown() && !v.isNull ? v.unmarkDeep() : undefined;
  } catch (err) {
    if (err instanceof EvalError) return undefined;
    throw err;
  }
}

const text = (v: Value | undefined): string | undefined => {
  if (!v) return undefined;
  if (v.type.kind === "string" || v.type.kind === "number" || v.type.kind === "bool") return convert(v, STRING).asString();
  // list(string) parameters take a JSON-encoded list as their value.
  if (Array.isArray(v.raw)) return JSON.stringify(v.asArray().map((x) => convert(x, STRING).asString()));
  return undefined;
};

const num = (v: Value | undefined): number | undefined => {
  const s = text(v);
  return s === undefined || s.trim() === "" || Number.isNaN(Number(s)) ? undefined : Number(s);
};

export function parametersOf(plan: Plan): Parameter[] {
  return plan.config.resources
    .filter((r) => r.mode === "data" && r.type === "coder_parameter")
    .map((r) => {
      const validation = r.blocks.find((b) => b.type === "validation");
      const def = text(evaluate(plan, r.attrs.default));
      const formType = text(evaluate(plan, r.attrs.form_type));
      return {
        resource: r,
        name: text(evaluate(plan, r.attrs.name)) ?? r.name,
        type: (text(evaluate(plan, r.attrs.type)) ?? "string").replace(/\s+/g, ""),
        default: def !== undefined && r.attrs.default ? { value: def, attr: r.attrs.default } : undefined,
        options: r.blocks
          .filter((b) => b.type === "option" && b.attrs.value)
          .flatMap((b) => {
            const v = text(evaluate(plan, b.attrs.value));
            return v === undefined ? [] : [{ value: v, attr: b.attrs.value }];
          }),
        validation: validation ? { min: num(evaluate(plan, validation.attrs.min)), max: num(evaluate(plan, validation.attrs.max)), regex: text(evaluate(plan, validation.attrs.regex)), block: validation } : undefined,
        formType: formType !== undefined && r.attrs.form_type ? { value: formType, attr: r.attrs.form_type } : undefined,
      };
    });
}

export function presetsOf(plan: Plan): Preset[] {
  return plan.config.resources
    .filter((r) => r.mode === "data" && r.type === "coder_workspace_preset")
    .map((r) => {
      const parameters = new Map<string, string>();
      const given = evaluate(plan, r.attrs.parameters);
      if (given?.raw instanceof Map) for (const [k, v] of given.asMap()) parameters.set(k, text(v) ?? "");
      const prebuilds = r.blocks.find((b) => b.type === "prebuilds");
      const ttlAttr = prebuilds?.blocks.find((b) => b.type === "expiration_policy")?.attrs.ttl;
      const ttl = num(evaluate(plan, ttlAttr));
      return {
        resource: r,
        name: text(evaluate(plan, r.attrs.name)) ?? r.name,
        parameters,
        parametersAttr: r.attrs.parameters,
        prebuildInstances: num(evaluate(plan, prebuilds?.attrs.instances)) ?? 0,
        prebuilds,
        ttl: ttl !== undefined && ttlAttr ? { seconds: ttl, attr: ttlAttr } : undefined,
      };
    });
}

/** The presets that keep prebuilt workspaces (`prebuilds { instances > 0 }`). */
export function prebuildPresets(plan: Plan): Preset[] {
  return presetsOf(plan).filter((p) => p.prebuildInstances > 0);
}
