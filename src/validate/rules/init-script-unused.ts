import type { Rule, RuleFinding } from "../rule.js";
import { bootLocation } from "../../plan/agent-starts.js";

export const initScriptUnused: Rule = {
  id: "coder/init-script-unused",
  title: "Every agent's init_script is used by its instance",
  severity: "error",
  description: "An agent starts only when its instance runs the agent's init_script (user data, startup script, or the container's command); if nothing runs it, the agent never connects and the workspace hangs in 'connecting'.",
  why: "Nothing else starts an agent: if the instance's user data (or the container's command) never runs the agent's `init_script`, the agent never connects and Coder shows the workspace as `connecting` until it times out.",
  fix: "Run `coder_agent.<name>.init_script` from the instance's user data or the container's entrypoint/command, with `CODER_AGENT_NAME` when several agents share the instance.",
  example: {
    bad: "resource \"aws_instance\" \"dev\" {\n  user_data = \"#!/bin/sh\\necho hello\"\n}",
    good: "resource \"aws_instance\" \"dev\" {\n  user_data = coder_agent.main.init_script\n}",
  },
  check({ plan, boot }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      const b = instance.boot;
      // Not known before apply, or not evaluable: nothing to read (the evaluation rule reports errors).
      if (b.kind === "unknown" || b.kind === "error") continue;
      if (b.kind === "containers" && b.containers.some((c) => !c.argv.known)) continue;
      const analysis = boot(instance);
      for (const agent of instance.agents.filter((a) => a.count > 0)) {
        const used = (analysis.starts.get(agent.name) ?? []).length > 0 || (instance.windows && analysis.mentioned.has(agent.name));
        if (used) continue;
        const mentioned = analysis.mentioned.has(agent.name);
        out.push({
          ...bootLocation(instance),
          message:
            b.kind === "none"
              ? `agent "${agent.name}" is tied to ${instance.address}, which has no user data or command: the agent would never start`
              : mentioned
                ? `agent "${agent.name}"'s init_script is written by ${instance.address}'s boot but nothing runs it: the agent would never start`
                : `agent "${agent.name}" is tied to ${instance.address}, but its init_script is never used in that instance's ${b.kind === "containers" ? "container command" : "user data"}: the agent would never start`,
          hint: `run coder_agent.${agent.name}.init_script from ${instance.address}'s ${instance.family === "container" ? "entrypoint or command" : "user data"}${instance.agents.length > 1 ? ` (with CODER_AGENT_NAME=${agent.name} when several agents share the instance)` : ""}`,
        });
      }
    }
    return out;
  },
};
