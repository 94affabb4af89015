import { IDENTITY_AUTH_CLOUD } from "../../plan/plan.js";
import type { Rule, RuleFinding } from "../rule.js";

const CLOUD_NAMES = { aws: "AWS", gcp: "Google Cloud", azure: "Azure" } as const;

export const identityCloudMismatch: Rule = {
  id: "coder/identity-cloud-mismatch",
  title: "Instance-identity agents run on an instance of the same cloud",
  severity: "error",
  description: "An agent using aws-, google- or azure-instance-identity proves who it is with its instance's cloud identity; on another cloud's instance, on a container, or on no instance at all, it can never authenticate.",
  why: "Instance identity is the cloud's signed document about the machine the agent runs on. `aws-instance-identity` on a GCP VM or a container has no AWS identity to send; coderd answers 401 or 404 and the agent never connects.",
  fix: "Use the auth of the cloud the agent runs on (`aws-`, `google-` or `azure-instance-identity`), tie the agent to that instance with `coder_agent_instance`, or use `auth = \"token\"` and pass `CODER_AGENT_TOKEN`.",
  example: {
    bad: "resource \"coder_agent\" \"main\" {\n  auth = \"aws-instance-identity\"\n}\nresource \"google_compute_instance\" \"dev\" { \u2026 }",
    good: "resource \"coder_agent\" \"main\" {\n  auth = \"google-instance-identity\"\n}",
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    for (const agent of plan.agents.filter((a) => a.count > 0)) {
      const cloud = IDENTITY_AUTH_CLOUD[agent.auth];
      if (!cloud) continue;
      const loc = { file: agent.resource.file, line: agent.resource.pos.line };
      const inst = agent.instance;
      if (!inst) {
        if (agent.tiedTo) continue;
        out.push({ ...loc, message: `agent "${agent.name}" uses auth = "${agent.auth}" but is tied to no instance`, hint: `tie it with a coder_agent_instance { agent_id, instance_id } to the ${CLOUD_NAMES[cloud]} instance it runs on, or use auth = "token"` });
      } else if (inst.cloud !== cloud) {
        out.push({
          ...loc,
          message: `agent "${agent.name}" uses auth = "${agent.auth}" but runs on ${inst.address}, ${inst.cloud ? `a ${CLOUD_NAMES[inst.cloud]} instance` : `a ${inst.kind}, which has no ${CLOUD_NAMES[cloud]} instance identity`}`,
          hint: inst.cloud ? `use auth = "${Object.keys(IDENTITY_AUTH_CLOUD).find((k) => IDENTITY_AUTH_CLOUD[k] === inst.cloud)}" for this instance` : 'use auth = "token" and pass CODER_AGENT_TOKEN',
        });
      }
    }
    return out;
  },
};
