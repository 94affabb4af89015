import { literalString } from "../../template/load.js";
import { APP_SLUG_PATTERN } from "../../template/names.js";
import type { Rule } from "../rule.js";

export const appFields: Rule = {
  id: "coder/app-fields",
  title: "coder_app fields are valid",
  severity: "error",
  description: "terraform-provider-coder: slug matches ^[a-z0-9](-?[a-z0-9])*$, open_in is slim-window or tab, share is owner, authenticated or public, and command conflicts with url.",
  check({ model }) {
    const out = [];
    for (const r of model.resources.filter((x) => x.type === "coder_app")) {
      const loc = { file: r.file, line: r.attributes.slug?.line ?? r.line };
      const name = `coder_app.${r.name}`;
      const slug = literalString(r.attributes.slug);
      if (!r.attributes.slug) out.push({ file: r.file, line: r.line, message: `${name} has no slug (required)`, hint: 'add slug = "my-app"' });
      else if (slug !== undefined && !APP_SLUG_PATTERN.test(slug)) out.push({ ...loc, message: `${name} slug "${slug}" is invalid: it must match ^[a-z0-9](-?[a-z0-9])*$`, hint: "use lower-case letters, digits and single hyphens" });
      const openIn = literalString(r.attributes.open_in);
      if (openIn !== undefined && !["slim-window", "tab"].includes(openIn)) out.push({ file: r.file, line: r.attributes.open_in!.line, message: `${name} open_in = "${openIn}"`, hint: 'use "slim-window" (default) or "tab"' });
      const share = literalString(r.attributes.share);
      if (share !== undefined && !["owner", "authenticated", "public"].includes(share)) out.push({ file: r.file, line: r.attributes.share!.line, message: `${name} share = "${share}"`, hint: 'use "owner", "authenticated" or "public"' });
      if (r.attributes.command && r.attributes.url) out.push({ file: r.file, line: r.attributes.command.line, message: `${name} sets both command and url, which conflict`, hint: "keep command for a terminal app, or url for a web app" });
    }
    return out;
  },
};
