import { compare } from "../../plan/provider-version.js";
import { APP_SLUG_PATTERN } from "../../template/names.js";
import type { Rule, RuleFinding } from "../rule.js";

export const appFields: Rule = {
  id: "coder/app-fields",
  title: "coder_app fields are valid",
  severity: "error",
  description: "terraform-provider-coder: slug (from provider 0.6.0; before, coderd uses the resource name) matches ^[a-z0-9](-?[a-z0-9])*$, open_in is slim-window or tab, share is owner, authenticated or public, and command conflicts with url.",
  why: "terraform-provider-coder validates these fields; a template that breaks them fails to plan, so no workspace of it can be built.",
  fix: "Use a lower-case slug with single hyphens, `open_in = \"slim-window\"` or `\"tab\"`, `share` of owner/authenticated/public, and either `command` or `url`.",
  example: {
    bad: "resource \"coder_app\" \"web\" {\n  slug = \"Web_App\"\n  url  = \"http://localhost:8080\"\n  command = \"npm start\"\n}",
    good: "resource \"coder_app\" \"web\" {\n  agent_id = coder_agent.main.id\n  slug     = \"web-app\"\n  url      = \"http://localhost:8080\"\n}",
  },
  check({ plan, value }) {
    const out: RuleFinding[] = [];
    const slugRequired = compare(plan.coderVersion.version, [0, 6, 0]) >= 0;
    const str = (a: Parameters<typeof value>[0]) => {
      const v = value(a);
      return v && v.isKnown && !v.isNull && v.type.kind === "string" ? v.asString() : undefined;
    };
    for (const r of plan.config.resources.filter((x) => x.type === "coder_app")) {
      const name = `coder_app.${r.name}`;
      const at = (a?: { pos: { line: number } }) => ({ file: r.file, line: a?.pos.line ?? r.pos.line });
      const slug = str(r.attrs.slug);
      if (!r.attrs.slug) {
        if (slugRequired) out.push({ ...at(), message: `${name} has no slug (required by coder provider ${plan.coderVersion.version.join(".")})`, hint: 'add slug = "my-app"' });
      } else if (slug !== undefined && !APP_SLUG_PATTERN.test(slug)) out.push({ ...at(r.attrs.slug), message: `${name} slug "${slug}" is invalid: it must match ^[a-z0-9](-?[a-z0-9])*$`, hint: "use lower-case letters, digits and single hyphens" });
      const openIn = str(r.attrs.open_in);
      if (openIn !== undefined && !["slim-window", "tab"].includes(openIn)) out.push({ ...at(r.attrs.open_in), message: `${name} open_in = "${openIn}"`, hint: 'use "slim-window" (default) or "tab"' });
      const share = str(r.attrs.share);
      if (share !== undefined && !["owner", "authenticated", "public", "organization"].includes(share)) out.push({ ...at(r.attrs.share), message: `${name} share = "${share}"`, hint: 'use "owner", "authenticated" or "public"' });
      if (r.attrs.command && r.attrs.url) out.push({ ...at(r.attrs.command), message: `${name} sets both command and url, which conflict`, hint: "keep command for a terminal app, or url for a web app" });
    }
    return out;
  },
};
