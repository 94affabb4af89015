import { IDENTITY_AUTH_CLOUD } from "../../plan/plan.js";
import { droppedNote, envUnknown, nameFix, startLocation } from "../../plan/agent-starts.js";
import type { Rule, RuleFinding } from "../rule.js";

export const agentNameWiring: Rule = {
  id: "coder/agent-name-wiring",
  title: "Each instance-identity agent sharing an instance starts with its own CODER_AGENT_NAME",
  severity: "error",
  description:
    "Agents on one instance share its cloud instance ID. With several of them, Coder can only tell which agent is authenticating from CODER_AGENT_NAME; without it (or with a wrong name) the server answers 409 \"Multiple agents found with instance ID\" or 404. A variable set before `sudo` does not reach the command (env_reset).",
  why: "With two or more identity agents on one instance, coderd finds several candidate agents for the instance ID. Without an `agent_name` it answers 409 `Multiple agents found with instance ID \"\u2026\". Set CODER_AGENT_NAME to one of: \u2026`; with a wrong one, 404. The agent never connects and the workspace stays `connecting`.",
  fix: "Start each agent's `init_script` with its own `CODER_AGENT_NAME=<resource name>` in the environment of the process that runs it: after `sudo`'s options (`sudo -u coder CODER_AGENT_NAME=dev sh -c \u2026`), through `env`, an `export` in the same script, or the unit's `Environment=`.",
  example: {
    bad: "runcmd:\n  # sudo resets the environment: the name never reaches the agent\n  - CODER_AGENT_NAME=dev sudo -u coder /opt/coder/dev-init",
    good: "runcmd:\n  - sudo -u coder CODER_AGENT_NAME=dev /opt/coder/dev-init",
  },
  check({ plan, boot, dir }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      const identity = instance.agents.filter((a) => a.count > 0 && a.auth in IDENTITY_AUTH_CLOUD);
      if (identity.length < 2) continue;
      const names = instance.agents.map((a) => a.name);
      const analysis = boot(instance);
      for (const agent of identity) {
        for (const start of analysis.starts.get(agent.name) ?? []) {
          if (envUnknown(start, "CODER_AGENT_NAME")) continue;
          if (start.name === agent.name) continue;
          const loc = startLocation(instance, start, dir);
          if (start.name === undefined) {
            const dropped = droppedNote(start, "CODER_AGENT_NAME");
            out.push({
              ...loc,
              message: `agent "${agent.name}" is started without CODER_AGENT_NAME (${start.origin}: ${start.command})${dropped}; ${identity.length} agents share ${instance.address}'s instance identity, so Coder answers 409 "Multiple agents found with instance ID"`,
              hint: nameFix(agent.name, start),
            });
          } else if (start.name !== agent.name) {
            const sibling = names.includes(start.name);
            out.push({
              ...loc,
              message: sibling
                ? `agent "${agent.name}" is started with CODER_AGENT_NAME=${start.name} (${start.origin}): it would authenticate as its sibling "${start.name}"`
                : `agent "${agent.name}" is started with CODER_AGENT_NAME=${start.name} (${start.origin}), which is no agent on ${instance.address} (agents: ${[...names].sort().join(", ")}); Coder answers 404`,
              hint: nameFix(agent.name, start),
            });
          }
        }
      }
    }
    return out;
  },
};
