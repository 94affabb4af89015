import { allowedVersions, compare, formatVersion, type Version } from "../../plan/provider-version.js";
import type { Attr, ResourceConfig } from "../../template/config.js";
import { references } from "../../template/hcl/index.js";
import type { Rule, RuleFinding } from "../rule.js";

/**
 * The coder provider's attribute history (terraform-provider-coder's CHANGELOG): where an attribute
 * was removed, deprecated or added, and what replaces it.
 */
interface Change {
  /** `data.coder_workspace`, `coder_agent`, …: the resource (or data source) type. */
  type: string;
  /** The argument or attribute; undefined: the resource type itself. */
  attr?: string;
  kind: "removed" | "deprecated" | "added";
  version: Version;
  /** What to use instead (removed, deprecated) or the constraint that has it (added). */
  fix: string;
}

const OWNER = "declare data \"coder_workspace_owner\" \"me\" {}";
const CHANGES: Change[] = [
  { type: "data.coder_workspace", attr: "owner", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.name (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_id", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.id (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_name", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.full_name (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_email", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.email (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_session_token", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.session_token (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_oidc_access_token", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.oidc_access_token (${OWNER})` },
  { type: "data.coder_workspace", attr: "owner_groups", kind: "removed", version: [2, 0, 0], fix: `data.coder_workspace_owner.me.groups (${OWNER})` },
  { type: "coder_agent", attr: "login_before_ready", kind: "removed", version: [2, 0, 0], fix: 'startup_script_behavior = "blocking" (login_before_ready = false) or "non-blocking"' },
  { type: "coder_agent", attr: "startup_script_timeout", kind: "removed", version: [2, 0, 0], fix: "a coder_script with run_on_start = true and its own timeout (or remove it)" },
  { type: "coder_app", attr: "relative_path", kind: "removed", version: [2, 0, 0], fix: "subdomain (relative_path = true is subdomain = false)" },
  { type: "coder_agent", attr: "dir", kind: "deprecated", version: [2, 0, 0], fix: "remove it (a shell starts in $HOME) and change directory from the shell profile or a coder_script" },
  { type: "coder_ai_task", attr: "sidebar_app", kind: "deprecated", version: [2, 0, 0], fix: "app_id = coder_app.<name>.id" },
  { type: "coder_devcontainer", attr: "subagent_id", kind: "added", version: [2, 14, 0], fix: 'version = ">= 2.14"' },
  { type: "coder_env", attr: "merge_strategy", kind: "added", version: [2, 15, 0], fix: 'version = ">= 2.15"' },
  { type: "coder_secret", kind: "added", version: [2, 16, 0], fix: 'version = ">= 2.16"' },
  { type: "data.coder_secret", kind: "added", version: [2, 16, 0], fix: 'version = ">= 2.16"' },
];

/** coder_app with command and subdomain: the provider refuses the combination from 2.14. */
const COMMAND_WITH_SUBDOMAIN: Version = [2, 14, 0];

const typeOf = (r: ResourceConfig) => (r.mode === "data" ? `data.${r.type}` : r.type);

export const providerCompat: Rule = {
  id: "coder/provider-compat",
  title: "Attributes exist in every coder provider version the constraint allows",
  severity: "error",
  description:
    "Every coder provider attribute the template uses, checked against the versions its `required_providers` constraint allows (or the one `.terraform.lock.hcl` locks): removed in 2.0 (`data.coder_workspace.*.owner*`, `login_before_ready`, `startup_script_timeout`, `coder_app.relative_path`), deprecated (`coder_agent.dir`, `coder_ai_task.sidebar_app`), added later (`coder_devcontainer.subagent_id` 2.14, `coder_env.merge_strategy` 2.15, `coder_secret` 2.16), `command` with `subdomain` (refused from 2.14), and a missing version constraint.",
  why: "Terraform installs the newest provider the constraint allows (or the locked one). An attribute that version removed fails `terraform plan` for every workspace — 168 of 273 public templates use attributes removed in 2.0, 38 of them unpinned, so they break at the next `terraform init`. An attribute added later fails on the older versions the constraint still allows.",
  fix: "Use the replacement each finding names, and pin the provider to a range whose every version has what the template uses (`version = \"~> 2.16\"`).",
  example: {
    bad: `terraform {
  required_providers {
    coder = { source = "coder/coder" }
  }
}
resource "coder_agent" "main" {
  login_before_ready = false
}`,
    good: `terraform {
  required_providers {
    coder = { source = "coder/coder", version = "~> 2.16" }
  }
}
resource "coder_agent" "main" {
  startup_script_behavior = "blocking"
}`,
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    const v = plan.coderVersion;
    // A lock file decides alone; a constraint allows a range (none: the newest, and a finding below).
    const allowed = v.source === ".terraform.lock.hcl" || !v.pinned ? [v.version] : allowedVersions(v.constraint);
    const chosen = `${formatVersion(v.version)} (${v.source})`;
    const outside = (test: (x: Version) => boolean) => allowed.filter(test).map(formatVersion);
    const range = (vs: string[]) => (vs.length === 1 ? vs[0] : `${vs[0]} to ${vs[vs.length - 1]}`);
    const pinHint = v.pinned ? "" : "; and pin the provider in required_providers (version = \"~> 2.16\")";

    const report = (c: Change, where: { file: string; line: number }, what: string) => {
      if (c.kind === "deprecated") {
        out.push({ ...where, severity: "warning", message: `${what} is deprecated in the coder provider`, hint: `use ${c.fix}` });
        return;
      }
      const missing = c.kind === "removed" ? (x: Version) => compare(x, c.version) >= 0 : (x: Version) => compare(x, c.version) < 0;
      const verb = c.kind === "removed" ? `was removed in coder provider ${formatVersion(c.version)}` : `exists from coder provider ${formatVersion(c.version)} only`;
      const hint = c.kind === "removed" ? `use ${c.fix}${pinHint}` : `require it: ${c.fix} in required_providers`;
      if (missing(v.version)) out.push({ ...where, message: `${what} ${verb}, and this template runs with ${chosen}`, hint });
      else {
        const bad = outside(missing);
        if (bad.length) out.push({ ...where, severity: "warning", message: `${what} ${verb}; the constraint ${JSON.stringify(v.constraint ?? "(none)")} also allows ${range(bad)}`, hint: c.kind === "removed" ? `use ${c.fix}, or keep the constraint below ${formatVersion(c.version)}` : hint });
      }
    };

    // Arguments and resource types as written.
    for (const r of plan.config.resources) {
      const type = typeOf(r);
      for (const c of CHANGES.filter((x) => x.type === type)) {
        if (!c.attr) report(c, { file: r.file, line: r.pos.line }, `${r.address}`);
        else if (r.attrs[c.attr]) report(c, { file: r.file, line: r.attrs[c.attr].pos.line }, `${r.address}.${c.attr}`);
        else {
          const block = r.blocks.find((b) => b.type === c.attr);
          if (block) report(c, { file: r.file, line: block.pos.line }, `${r.address}.${c.attr}`);
        }
      }
      if (r.type === "coder_app" && r.attrs.command && r.attrs.subdomain) {
        const where = { file: r.file, line: r.attrs.subdomain.pos.line };
        const what = `${r.address} sets both command and subdomain`;
        const hint = "drop subdomain from a command app (subdomain applies to url apps)";
        if (compare(v.version, COMMAND_WITH_SUBDOMAIN) >= 0) out.push({ ...where, message: `${what}, which coder provider ${formatVersion(COMMAND_WITH_SUBDOMAIN)} and later refuse (this template runs with ${chosen})`, hint });
        else if (outside((x) => compare(x, COMMAND_WITH_SUBDOMAIN) >= 0).length) out.push({ ...where, severity: "warning", message: `${what}, which coder provider ${formatVersion(COMMAND_WITH_SUBDOMAIN)} and later refuse; the constraint allows them`, hint });
      }
    }

    // Attributes read through references (data.coder_workspace.me.owner, coder_devcontainer.x.subagent_id).
    const attrs: Attr[] = [];
    for (const r of plan.config.resources) {
      attrs.push(...Object.values(r.attrs));
      const walk = (blocks: typeof r.blocks) => blocks.forEach((b) => (attrs.push(...Object.values(b.attrs)), walk(b.blocks)));
      walk(r.blocks);
    }
    attrs.push(...Object.values(plan.config.locals), ...Object.values(plan.config.outputs).flatMap((o) => (o.value ? [o.value] : [])));
    const seen = new Set<string>();
    for (const a of attrs) {
      for (const ref of references(a.expr)) {
        const parts = ref.parts.map(String);
        const [type, name, attr] = parts[0] === "data" ? [`data.${parts[1]}`, parts[2], parts[3]] : [parts[0], parts[1], parts[2]];
        const c = CHANGES.find((x) => x.type === type && x.attr === attr);
        if (!c) continue;
        const key = `${a.file}:${ref.range.start.line}:${type}.${attr}`;
        if (seen.has(key)) continue;
        seen.add(key);
        report(c, { file: a.file, line: ref.range.start.line }, `${type}.${name}.${attr}`);
      }
    }

    if (!v.pinned) {
      const req = Object.values(plan.config.requiredProviders).find((p) => p.name === "coder" || /(^|\/)coder\/coder$/.test(p.source ?? ""));
      const first = plan.config.resources.find((r) => r.type.startsWith("coder_"));
      const where = req ? { file: req.file, line: req.pos.line } : first ? { file: first.file, line: first.pos.line } : undefined;
      if (where) {
        out.push({
          ...where,
          severity: "warning",
          message: `the coder provider has no version constraint: \`terraform init\` installs the newest release (${formatVersion(v.version)}, the newest provisioner knows), whatever it removes or renames`,
          hint: `pin it: coder = { source = "coder/coder", version = "~> ${v.version[0]}.${v.version[1]}" }`,
        });
      }
    }
    return out;
  },
};
