import { IDENTITY_AUTH_CLOUD, type InstanceModel } from "../../template/model.js";
import type { Rule } from "../rule.js";

/** Where a finding about an instance's user data points: the user data attribute, else the instance. */
export function userDataLocation(instance: InstanceModel): { file: string; line: number } {
  return instance.userData ? { file: instance.userData.file, line: instance.userData.line } : { file: instance.resource.file, line: instance.resource.line };
}

export const agentNameWiring: Rule = {
  id: "coder/agent-name-wiring",
  title: "Each instance-identity agent sharing an instance starts with its own CODER_AGENT_NAME",
  severity: "error",
  description:
    "Agents on one instance share its cloud instance ID. With several of them, Coder can only tell which agent is authenticating from CODER_AGENT_NAME; without it (or with a wrong name) the server answers 409 \"Multiple agents found with instance ID\" or 404.",
  check({ model, userData }) {
    const out = [];
    for (const instance of model.instances) {
      const identityAgents = instance.agents.filter((a) => a.auth !== undefined && a.auth in IDENTITY_AUTH_CLOUD);
      if (identityAgents.length < 2) continue;
      const ud = userData(instance);
      if (!ud.plan) continue;
      const names = instance.agents.map((a) => a.name);
      const where = `${instance.resource.type}.${instance.resource.name}`;
      for (const agent of identityAgents) {
        for (const start of ud.starts.get(agent.name) ?? []) {
          const loc = userDataLocation(instance);
          if (start.nameSet === undefined) {
            out.push({
              ...loc,
              message: `agent "${agent.name}" is started without CODER_AGENT_NAME (${start.origin}); ${identityAgents.length} agents share ${where}'s instance identity, so Coder answers 409 "Multiple agents found with instance ID"`,
              hint: `start it with CODER_AGENT_NAME=${agent.name}, e.g. \`sudo -u coder env CODER_AGENT_NAME=${agent.name} sh -c "…"\``,
            });
          } else if (start.nameSet !== agent.name) {
            const sibling = names.includes(start.nameSet);
            out.push({
              ...loc,
              message: sibling
                ? `agent "${agent.name}" is started with CODER_AGENT_NAME=${start.nameSet} (${start.origin}): it would authenticate as its sibling "${start.nameSet}"`
                : `agent "${agent.name}" is started with CODER_AGENT_NAME=${start.nameSet} (${start.origin}), which is no agent on ${where} (agents: ${[...names].sort().join(", ")}); Coder answers 404`,
              hint: `set CODER_AGENT_NAME=${agent.name} where "${agent.name}"'s init_script is started`,
            });
          }
        }
      }
    }
    return out;
  },
};
