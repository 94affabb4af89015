import type { Rule } from "../rule.js";
import { userDataLocation } from "./agent-name-wiring.js";

export const initScriptUnused: Rule = {
  id: "coder/init-script-unused",
  title: "Every agent's init_script is used in the user data of its instance",
  severity: "error",
  description: "An agent starts only when its instance runs the agent's init_script; if the user data never uses it, the agent never connects and the workspace hangs in 'connecting'.",
  check({ model, userData }) {
    const out = [];
    for (const instance of model.instances) {
      const ud = userData(instance);
      if (ud.error) continue;
      for (const agent of instance.agents) {
        if ((ud.starts.get(agent.name) ?? []).length > 0) continue;
        const where = `${instance.resource.type}.${instance.resource.name}`;
        out.push({
          ...userDataLocation(instance),
          message: instance.userData
            ? `agent "${agent.name}" is tied to ${where}, but its init_script is never used in that instance's user data: the agent would never start`
            : `agent "${agent.name}" is tied to ${where}, which has no user data: the agent would never start`,
          hint: `run coder_agent.${agent.name}[0].init_script from ${where}'s user data (as its own user, with CODER_AGENT_NAME=${agent.name} when several agents share the instance)`,
        });
      }
    }
    return out;
  },
};
