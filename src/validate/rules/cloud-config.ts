import type { Rule, RuleFinding } from "../rule.js";
import { bootLocation } from "../../plan/agent-starts.js";

export const cloudConfig: Rule = {
  id: "coder/cloud-config",
  title: "User data that says #cloud-config is valid cloud-config",
  severity: "error",
  description: "cloud-init ignores (or half-applies) a #cloud-config document that is not valid YAML or has keys of the wrong type, so agents started from it never start.",
  check({ plan, boot }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      if (instance.boot.kind !== "user-data") continue;
      for (const p of boot(instance).userData?.problems ?? []) {
        out.push({ ...bootLocation(instance), message: `${instance.address} user data: ${p.message}${p.line ? ` (rendered line ${p.line})` : ""}`, hint: "fix the cloud-config template; check it with `cloud-init schema --config-file` after rendering" });
      }
    }
    return out;
  },
};
