import { ignoredBy, instanceArguments } from "../../plan/diff.js";
import type { Rule, RuleFinding } from "../rule.js";

export const tokenIgnoreChanges: Rule = {
  id: "coder/token-ignore-changes",
  title: "A token agent's token is not frozen by ignore_changes",
  severity: "warning",
  description: "A VM or container that runs a token-auth agent and whose `lifecycle { ignore_changes }` covers the argument carrying the agent's token (`ignore_changes = all`, or e.g. `[user_data]`, `[env]`).",
  why: "The agent token is an argument of the compute (its user data or environment). Under ignore_changes Terraform keeps the first value for good: when the token changes — a `coder_agent` with `count = start_count` gets a new one at every start — an instance that outlives the stop keeps the old token, and coderd refuses it (401: only the latest build's agents are authorized). The workspace starts once and never again.",
  fix: "Ignore only the arguments that must not change (for prebuilds: the ones derived from the owner or workspace name), never the one that carries the token; or use instance-identity auth on cloud VMs, which needs no token in user data.",
  example: {
    bad: `resource "aws_instance" "dev" {
  user_data = "#!/bin/sh\\nexport CODER_AGENT_TOKEN=\${coder_agent.main[0].token}\\n..."
  lifecycle {
    ignore_changes = all
  }
}`,
    good: `resource "aws_instance" "dev" {
  user_data = "#!/bin/sh\\nexport CODER_AGENT_TOKEN=\${coder_agent.main[0].token}\\n..."
  lifecycle {
    ignore_changes = [tags]
  }
}`,
  },
  check(ctx) {
    const out: RuleFinding[] = [];
    for (const inst of ctx.plan.instances) {
      const ignore = inst.resource.ignoreChanges;
      if (!ignore) continue;
      const tokenAgents = inst.agents.filter((a) => a.count > 0 && a.auth === "token");
      if (tokenAgents.length === 0) continue;
      const args = instanceArguments(ctx.plan, inst);
      const stopped = ctx.stopped();
      const outlivesStop = stopped.instances.some((i) => i.address === inst.address);
      for (const agent of tokenAgents) {
        const token = ctx.tokenOf(agent.name);
        const carriers = [...args].filter(([, v]) => v.known && v.text.includes(token)).map(([path]) => path);
        const frozen = carriers.filter((p) => ignoredBy(ignore, p));
        const lc = inst.resource.lifecycle;
        const at = { file: inst.resource.file, line: lc?.attrs.ignore_changes?.pos.line ?? inst.resource.pos.line };
        const newToken = stopped.agents.find((a) => a.name === agent.name)?.count === 0;
        if (frozen.length > 0 && outlivesStop && newToken) {
          out.push({
            ...at,
            severity: "error",
            message: `${inst.address} ignores changes to ${frozen.join(", ")}, which carries coder_agent.${agent.name}'s token; the agent gets a new token at every start (its count follows start_count) but ${inst.address} outlives the stop, so after the first restart it still holds the old token and coderd refuses it (401)`,
            hint: `remove ${frozen.join(", ")} from ignore_changes (or use instance-identity auth)`,
          });
        } else if (ignore === "all") {
          out.push({
            ...at,
            message: `${inst.address} has ignore_changes = all and runs token agent "${agent.name}"${carriers.length ? ` (its token is in ${carriers.join(", ")})` : ""}: a new token never reaches it`,
            hint: "list only the arguments that must not change instead of all",
          });
        }
      }
    }
    return out;
  },
};
