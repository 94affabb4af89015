import { describeChange, diffPlans, ignoreChangesFix, type InstanceChange, pathSegments } from "../../plan/diff.js";
import type { PlannedInstance } from "../../plan/plan.js";
import { prebuildPresets } from "../../plan/presets.js";
import type { Rule, RuleFinding } from "../rule.js";

/** The line of the argument a change path starts with (its attribute or block), else the resource's. */
export function argumentLine(inst: PlannedInstance, path: string): { file: string; line: number } {
  const top = pathSegments(path)[0];
  const r = inst.resource;
  const line = r.attrs[top]?.pos.line ?? r.blocks.find((b) => b.type === top)?.pos.line ?? r.pos.line;
  return { file: r.file, line };
}

/** Findings of a prebuild → claim diff (shared with e2e's prebuild scenario). */
export function claimFindings(changes: InstanceChange[]): RuleFinding[] {
  const out: RuleFinding[] = [];
  for (const ch of changes) {
    const inst = ch.after ?? ch.before!;
    if (ch.action === "create" || ch.action === "delete") {
      if (inst.agents.length === 0 && ch.action === "create") continue;
      out.push({ file: inst.resource.file, line: inst.resource.pos.line, severity: "warning", message: `${ch.address} exists only ${ch.action === "create" ? "after" : "before"} the claim: claiming ${ch.action === "create" ? "creates" : "destroys"} it (its count or for_each depends on the owner or is_prebuild)`, hint: "derive count and for_each from data.coder_workspace.me.start_count only" });
      continue;
    }
    const fix = ignoreChangesFix(ch);
    for (const c of ch.changes.filter((x) => !x.ignored)) {
      const loc = argumentLine(inst, c.path);
      if (c.effect === "replace") {
        out.push({ ...loc, message: `${ch.address}: ${c.path} changes on claim (${describeChange(c)}); forces replacement: the prebuilt ${ch.kind} is destroyed and a new one built for the owner, so the prebuild saves nothing`, hint: `add ${fix} to ${ch.address} (its value is then the prebuild's until the next build that re-creates it), or derive ${c.path} from data.coder_workspace.me.id instead of the owner or workspace name` });
      } else if (c.effect === "unknown") {
        out.push({ ...loc, severity: "warning", message: `${ch.address}: ${c.path} changes on claim (${describeChange(c)}); provisioner does not know whether ${ch.kind} replaces the resource for it`, hint: `check the provider's documentation; to be safe add lifecycle { ignore_changes = [${c.path}] }` });
      } else if (c.restarts) {
        out.push({ ...loc, severity: "warning", message: `${ch.address}: ${c.path} changes on claim (${describeChange(c)}), updated in place: the provider ${ch.kind.startsWith("kubernetes_") ? "replaces its pods" : "stops and starts the machine"} while the owner waits`, hint: `add lifecycle { ignore_changes = [${c.path}] } if the prebuilt value is good enough` });
      }
    }
  }
  return out;
}

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
    out.push(...claimFindings(diffPlans(prebuild, claim)));
    return out;
  },
};
