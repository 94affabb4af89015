import type { Rule } from "../rule.js";
import { userDataLocation } from "./agent-name-wiring.js";

export const cloudConfig: Rule = {
  id: "coder/cloud-config",
  title: "User data that says #cloud-config is valid cloud-config",
  severity: "error",
  description: "cloud-init ignores (or half-applies) a #cloud-config document that is not valid YAML or has keys of the wrong type, so agents started from it never start. Also reported: user data that cannot be rendered.",
  check({ model, userData }) {
    const out = [];
    for (const instance of model.instances) {
      const ud = userData(instance);
      const loc = userDataLocation(instance);
      const where = `${instance.resource.type}.${instance.resource.name}`;
      if (ud.error) {
        out.push({ ...loc, severity: "warning" as const, message: `cannot render the user data of ${where}: ${ud.error}`, hint: "check the references and files used by the user data; the other user-data checks were skipped" });
        continue;
      }
      for (const p of ud.plan?.problems ?? []) {
        out.push({ ...loc, severity: "error" as const, message: `${where} user data: ${p.message}${p.line ? ` (rendered line ${p.line})` : ""}`, hint: "fix the cloud-config template; check it with `cloud-init schema --config-file` after rendering" });
      }
    }
    return out;
  },
};
