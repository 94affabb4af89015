import { compare, formatVersion } from "../../plan/provider-version.js";
import type { Attr } from "../../template/config.js";
import { references } from "../../template/hcl/index.js";
import type { Rule, RuleFinding } from "../rule.js";

/** data.coder_workspace attributes removed in coder provider 2.0, with their replacements. */
const REMOVED_IN_2: Record<string, string> = {
  owner: "data.coder_workspace_owner.me.name",
  owner_id: "data.coder_workspace_owner.me.id",
  owner_name: "data.coder_workspace_owner.me.full_name",
  owner_email: "data.coder_workspace_owner.me.email",
  owner_session_token: "data.coder_workspace_owner.me.session_token",
  owner_oidc_access_token: "data.coder_workspace_owner.me.oidc_access_token",
  owner_groups: "data.coder_workspace_owner.me.groups",
};

export const providerCompat: Rule = {
  id: "coder/provider-compat",
  title: "Attributes exist in the coder provider version the template runs with",
  severity: "error",
  description: "The coder provider removed data.coder_workspace's owner attributes in 2.0; a template that uses them fails to plan on 2.x — and an unpinned template gets the newest provider at `terraform init`.",
  check({ plan }) {
    const out: RuleFinding[] = [];
    const v = plan.coderVersion;
    if (compare(v.version, [2, 0, 0]) < 0) return out;
    const attrs: Attr[] = [];
    for (const r of plan.config.resources) {
      attrs.push(...Object.values(r.attrs));
      const walk = (blocks: typeof r.blocks) => blocks.forEach((b) => (attrs.push(...Object.values(b.attrs)), walk(b.blocks)));
      walk(r.blocks);
    }
    attrs.push(...Object.values(plan.config.locals), ...Object.values(plan.config.outputs).flatMap((o) => (o.value ? [o.value] : [])));
    for (const a of attrs) {
      for (const ref of references(a.expr)) {
        const [root, type, , attr] = ref.parts.map(String);
        if (root !== "data" || type !== "coder_workspace" || !(attr in REMOVED_IN_2)) continue;
        out.push({
          file: a.file,
          line: ref.range.start.line,
          message: `data.coder_workspace.${String(ref.parts[2])}.${attr} was removed in coder provider 2.0, and this template runs with ${formatVersion(v.version)} (${v.source})`,
          hint: v.pinned ? `use ${REMOVED_IN_2[attr]} (declare data "coder_workspace_owner" "me" {})` : `use ${REMOVED_IN_2[attr]}, or pin the provider below 2.0 in required_providers (version = "~> 0.23")`,
        });
      }
    }
    return out;
  },
};
