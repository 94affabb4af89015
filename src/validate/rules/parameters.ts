import { RE2JS } from "re2js";
import { type Parameter, parametersOf, presetsOf } from "../../plan/presets.js";
import type { Rule, RuleFinding } from "../rule.js";

/** form_type values the coder provider accepts per parameter type, with and without options. */
const FORM_TYPES: Record<string, { options: string[]; plain: string[] }> = {
  string: { options: ["radio", "dropdown"], plain: ["input", "textarea"] },
  number: { options: ["radio", "dropdown"], plain: ["input", "slider"] },
  bool: { options: ["radio"], plain: ["checkbox", "switch"] },
  "list(string)": { options: ["radio", "multi-select"], plain: ["tag-select"] },
};

/** Why `value` is not acceptable for the parameter, or undefined. */
function refusal(p: Parameter, value: string): string | undefined {
  if (p.options.length > 0 && p.type !== "list(string)" && !p.options.some((o) => o.value === value)) return `is not one of its options (${p.options.map((o) => JSON.stringify(o.value)).join(", ")})`;
  if (p.type === "number") {
    const n = Number(value);
    if (value.trim() === "" || Number.isNaN(n)) return "is not a number";
    if (p.validation?.min !== undefined && n < p.validation.min) return `is below its validation min ${p.validation.min}`;
    if (p.validation?.max !== undefined && n > p.validation.max) return `is above its validation max ${p.validation.max}`;
  }
  if (p.type === "bool" && value !== "true" && value !== "false") return "is not true or false";
  if (p.validation?.regex && p.type === "string") {
    try {
      if (!RE2JS.compile(p.validation.regex).matcher(value).find()) return `does not match its validation regex ${JSON.stringify(p.validation.regex)}`;
    } catch {
      return undefined; // a bad pattern is the provider's own error at plan
    }
  }
  return undefined;
}

export const parameters: Rule = {
  id: "coder/parameters",
  title: "Parameters and presets agree",
  severity: "error",
  description: "`coder_workspace_preset` parameters that name no `coder_parameter`; a preset value or parameter default outside the parameter's `option`s or `validation` (min, max, regex); a `form_type` the parameter's `type` cannot have; a prebuild `expiration_policy { ttl }` between 1 and 3599 seconds.",
  why: "coderd refuses a template version whose presets name unknown parameters, and the coder provider rejects a default or a form_type its parameter cannot take: the template does not import. A preset value outside the options fails every workspace created from the preset — including the prebuilt ones, which keep failing in the background. Coder refuses a prebuild TTL under an hour (0 means none).",
  fix: "Name parameters in presets exactly as their `name`; keep preset values and defaults inside the options and validation; use a form_type of the table in docs (string: input, textarea, or radio/dropdown with options; number: input, slider; bool: checkbox, switch; list(string): tag-select, multi-select); set ttl to 0 or at least 3600.",
  example: {
    bad: `data "coder_workspace_preset" "small" {
  name       = "Small"
  parameters = { instance_type = "t3.nano" }   # not an option
}`,
    good: `data "coder_workspace_preset" "small" {
  name       = "Small"
  parameters = { instance_type = "t3.medium" }
}`,
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    const params = parametersOf(plan);
    const byName = new Map(params.map((p) => [p.name, p]));
    for (const p of params) {
      const r = p.resource;
      if (p.default) {
        const why = refusal(p, p.default.value);
        if (why) out.push({ file: r.file, line: p.default.attr.pos.line, message: `parameter "${p.name}": its default ${JSON.stringify(p.default.value)} ${why}`, hint: "make the default one of the allowed values" });
      }
      if (p.formType) {
        const allowed = FORM_TYPES[p.type];
        const list = allowed ? (p.options.length ? allowed.options : allowed.plain) : undefined;
        if (list && !list.includes(p.formType.value) && p.formType.value !== "error") {
          out.push({ file: r.file, line: p.formType.attr.pos.line, message: `parameter "${p.name}" (type ${p.type}${p.options.length ? ", with options" : ""}) has form_type = "${p.formType.value}", which the coder provider refuses`, hint: `use one of ${list.join(", ")}${allowed && p.options.length === 0 ? ` (or add options for ${allowed.options.join("/")})` : ""}` });
        }
      }
    }
    for (const preset of presetsOf(plan)) {
      const r = preset.resource;
      const at = { file: r.file, line: preset.parametersAttr?.pos.line ?? r.pos.line };
      for (const [name, value] of preset.parameters) {
        const p = byName.get(name);
        if (!p) {
          out.push({ ...at, message: `preset "${preset.name}" sets parameter "${name}", which no coder_parameter declares (parameters: ${[...byName.keys()].sort().join(", ") || "none"})`, hint: "use the parameter's name attribute exactly, or remove the entry" });
          continue;
        }
        const why = refusal(p, value);
        if (why) out.push({ ...at, message: `preset "${preset.name}" sets parameter "${name}" to ${JSON.stringify(value)}, which ${why}: every workspace from this preset${preset.prebuildInstances ? ", prebuilt ones included," : ""} fails to build`, hint: "use an allowed value" });
      }
      if (preset.ttl && preset.ttl.seconds >= 1 && preset.ttl.seconds < 3600) {
        out.push({ file: r.file, line: preset.ttl.attr.pos.line, message: `preset "${preset.name}" expires prebuilt workspaces after ${preset.ttl.seconds} s: Coder refuses a ttl under 3600 seconds (0 means they never expire)`, hint: "set ttl = 0 or at least 3600" });
      }
    }
    return out;
  },
};
