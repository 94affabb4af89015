import type { Rule, RuleFinding } from "../rule.js";
import { bootLocation } from "../../plan/agent-starts.js";

export const cloudConfig: Rule = {
  id: "coder/cloud-config",
  title: "User data that says #cloud-config is valid cloud-config",
  severity: "error",
  description: "cloud-init ignores (or half-applies) a #cloud-config document that is not valid YAML or has keys of the wrong type, so agents started from it never start.",
  why: "cloud-init skips a `#cloud-config` document that is not YAML and ignores keys of the wrong type; the agents it was meant to start never start, and the VM gives no sign of it outside its console log.",
  fix: "Fix the template so the rendered document is valid cloud-config; write multi-line values (an init script) base64-encoded with `encoding: b64`, and check the rendered result with `cloud-init schema --config-file`.",
  example: {
    bad: "#cloud-config\nruncmd: sh /opt/coder/init",
    good: "#cloud-config\nruncmd:\n  - sh /opt/coder/init",
  },
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
