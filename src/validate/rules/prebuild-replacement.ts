import { claimFindings, diffPlans } from "../../plan/diff.js";
import { prebuildPresets } from "../../plan/presets.js";
import type { Rule, RuleFinding } from "../rule.js";

export const prebuildReplacement: Rule = {
  id: "coder/prebuild-replacement",
  title: "Claiming a prebuilt workspace keeps its compute",
  severity: "error",
  description:
    "For templates whose presets keep prebuilt workspaces: the template planned as an unclaimed prebuild (owner `prebuilds`, `is_prebuild = true`) and as its claim (a real owner and workspace name, `is_prebuild_claim = true`); every argument of a VM or container that differs and forces replacement (user data, name, image, env, labels, …), with the minimal `lifecycle { ignore_changes }` that avoids it; in-place changes that restart the machine; and multi-agent templates with prebuilds.",
  why: "A prebuilt workspace is built in advance so that claiming it is instant. When the compute's arguments are derived from the owner or the workspace name (a container named after the owner, user data with the owner's name), the claim build replaces it — the prebuild is thrown away and the owner waits for a full build (\"likely the most common gotcha with prebuilds\", in Coder's own words). Coder does not support prebuilds for templates with several agents yet.",
  fix: "Derive names and labels from `data.coder_workspace.me.id`, or add the `lifecycle { ignore_changes = [...] }` each finding gives to the resource.",
  example: {
    bad: `resource "docker_container" "workspace" {
  count = data.coder_workspace.me.start_count
  name  = "coder-\${data.coder_workspace_owner.me.name}-\${data.coder_workspace.me.name}"
}`,
    good: `resource "docker_container" "workspace" {
  count = data.coder_workspace.me.start_count
  name  = "coder-\${data.coder_workspace_owner.me.name}-\${data.coder_workspace.me.name}"
  lifecycle {
    ignore_changes = [name]
  }
}`,
  },
  check(ctx) {
    const presets = prebuildPresets(ctx.plan);
    if (presets.length === 0) return [];
    const out: RuleFinding[] = [];
    const agents = ctx.plan.agents.filter((a) => a.count > 0);
    if (agents.length > 1) {
      const r = presets[0].resource;
      out.push({ file: r.file, line: presets[0].prebuilds?.pos.line ?? r.pos.line, severity: "warning", message: `preset "${presets[0].name}" keeps prebuilt workspaces of a template with ${agents.length} agents (${agents.map((a) => a.name).join(", ")}): Coder does not support prebuilds for multi-agent templates yet`, hint: "keep prebuilds for single-agent templates, or remove the prebuilds block" });
    }
    const { prebuild, claim } = ctx.prebuild();
    out.push(...claimFindings(diffPlans(prebuild, claim)).map(({ change: _change, ...f }) => f));
    return out;
  },
};
