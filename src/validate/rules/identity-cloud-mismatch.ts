import { IDENTITY_AUTH_CLOUD } from "../../template/model.js";
import type { Rule } from "../rule.js";

const CLOUD_NAMES = { aws: "AWS", gcp: "Google Cloud", azure: "Azure" } as const;

export const identityCloudMismatch: Rule = {
  id: "coder/identity-cloud-mismatch",
  title: "Instance-identity agents run on an instance of the same cloud",
  severity: "error",
  description: "An agent using aws-, google- or azure-instance-identity proves who it is with its instance's cloud identity; on another cloud's instance, or on no instance at all, it can never authenticate.",
  check({ model }) {
    const out = [];
    for (const agent of model.agents) {
      const cloud = agent.auth ? IDENTITY_AUTH_CLOUD[agent.auth] : undefined;
      if (!cloud) continue;
      const loc = { file: agent.resource.file, line: agent.resource.line };
      if (!agent.instance) {
        out.push({
          ...loc,
          message: `agent "${agent.name}" uses auth = "${agent.auth}" but is tied to no instance`,
          hint: `tie it with a coder_agent_instance { agent_id, instance_id } to the ${CLOUD_NAMES[cloud]} instance it runs on, or use auth = "token"`,
        });
      } else if (agent.instance.cloud !== cloud) {
        const r = agent.instance.resource;
        out.push({
          ...loc,
          message: `agent "${agent.name}" uses auth = "${agent.auth}" but runs on ${r.type}.${r.name}, a ${CLOUD_NAMES[agent.instance.cloud]} instance`,
          hint: `use auth = "${Object.keys(IDENTITY_AUTH_CLOUD).find((k) => IDENTITY_AUTH_CLOUD[k] === agent.instance!.cloud)}" for this instance`,
        });
      }
    }
    return out;
  },
};
