import type { ModuleScope } from "../../plan/scope.js";
import { convert, EvalError, STRING, Value } from "../../template/hcl/index.js";
import type { Rule, RuleFinding } from "../rule.js";

interface SlugUse {
  slug: string;
  address: string;
  agent?: string;
  file: string;
  line: number;
}

/** Every coder_app instance's slug in a module and the local modules it calls. */
function slugsOf(scope: ModuleScope, out: SlugUse[]): void {
  for (const r of scope.config.resources.filter((x) => x.mode === "managed" && x.type === "coder_app")) {
    const prefix = scope.path ? `${scope.path}.` : "";
    let e;
    try {
      e = scope.expansion(r);
    } catch (err) {
      if (err instanceof EvalError) continue;
      throw err;
    }
    const keys = e.kind === "count" ? Array.from({ length: e.count }, (_, i) => ({ key: { countIndex: i }, suffix: `[${i}]` })) : e.kind === "each" ? [...e.keys].map(([k, v]) => ({ key: { each: { key: Value.string(k), value: v } }, suffix: `[${JSON.stringify(k)}]` })) : e.kind === "single" ? [{ key: {}, suffix: "" }] : [];
    const agentRef = r.attrs.agent_id?.source.match(/coder_agent\.([A-Za-z0-9_-]+)/)?.[1];
    for (const { key, suffix } of keys) {
      let slug: string | undefined = r.name;
      if (r.attrs.slug) {
        try {
          const v = scope.evalAttr(r.attrs.slug, scope.instanceScope(key));
          slug = v.isKnown && !v.isNull ? convert(v, STRING).asString() : undefined;
        } catch (err) {
          if (!(err instanceof EvalError)) throw err;
          slug = undefined;
        }
      }
      if (slug !== undefined) out.push({ slug, address: `${prefix}${r.address}${suffix}`, agent: agentRef, file: r.file, line: r.attrs.slug?.pos.line ?? r.pos.line });
    }
  }
  for (const name of Object.keys(scope.config.modules)) {
    let instances;
    try {
      instances = scope.moduleInstances(name);
    } catch (err) {
      if (err instanceof EvalError) continue;
      throw err;
    }
    if (instances instanceof Value) continue;
    for (const child of Array.isArray(instances) ? instances : instances.values()) slugsOf(child, out);
  }
}

export const appSlugUnique: Rule = {
  id: "coder/app-slug-unique",
  title: "coder_app slugs are unique in the template",
  severity: "error",
  description: "Two coder_app instances with the same slug anywhere in the template — on one agent or on different agents, in the root module or in local modules, or from a count/for_each without a per-instance slug.",
  why: 'coderd refuses the template version at import ("duplicate app slug, they must be unique per template"): the template cannot be pushed, and an app URL could not say which app it means.',
  fix: "Give every coder_app its own slug (e.g. suffix it with the agent name: `slug = \"code-server-dev\"`); with count or for_each, derive the slug from count.index or each.key.",
  example: {
    bad: `resource "coder_app" "main_code" {
  agent_id = coder_agent.main.id
  slug     = "code-server"
}
resource "coder_app" "dev_code" {
  agent_id = coder_agent.dev.id
  slug     = "code-server"
}`,
    good: `resource "coder_app" "main_code" {
  agent_id = coder_agent.main.id
  slug     = "code-server"
}
resource "coder_app" "dev_code" {
  agent_id = coder_agent.dev.id
  slug     = "code-server-dev"
}`,
  },
  check({ plan }) {
    const uses: SlugUse[] = [];
    slugsOf(plan.scope, uses);
    const out: RuleFinding[] = [];
    const first = new Map<string, SlugUse>();
    for (const u of uses) {
      const prior = first.get(u.slug);
      if (!prior) {
        first.set(u.slug, u);
        continue;
      }
      const agents = prior.agent && u.agent && prior.agent !== u.agent ? ` (agents ${prior.agent} and ${u.agent})` : "";
      out.push({ file: u.file, line: u.line, message: `${u.address} has slug "${u.slug}", like ${prior.address} at ${prior.file}:${prior.line}${agents}: coderd refuses the template ("duplicate app slug, they must be unique per template")`, hint: `give it a slug of its own, e.g. "${u.slug}-${u.agent ?? "2"}"` });
    }
    return out;
  },
};
