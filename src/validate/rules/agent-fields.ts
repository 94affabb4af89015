import { AGENT_NAME_PATTERN } from "../../template/names.js";
import type { Rule, RuleFinding } from "../rule.js";

const AUTHS = ["token", "aws-instance-identity", "azure-instance-identity", "google-instance-identity"];
const ARCHES = ["amd64", "armv7", "arm64"];
const OSES = ["linux", "darwin", "windows"];

export const agentFields: Rule = {
  id: "coder/agent-fields",
  title: "coder_agent names, auth, arch and os are valid",
  severity: "error",
  description: "terraform-provider-coder requires arch (amd64|armv7|arm64) and os (linux|darwin|windows); auth is one of token, aws-, azure- or google-instance-identity; agent names match ^[a-z0-9](-?[a-z0-9])*$ and are unique, so one coder_agent resource must not produce several agents.",
  why: "terraform-provider-coder rejects these values at plan time, and coderd rejects duplicate agent names at import: the template cannot be pushed or every build fails.",
  fix: "Give every agent its own `coder_agent` resource with a valid name (`^[a-z0-9](-?[a-z0-9])*$`), `arch` and `os`; use `count = data.coder_workspace.me.start_count` only, never a count above one.",
  example: {
    bad: "resource \"coder_agent\" \"dev_box\" {\n  count = 2\n  arch  = \"x86\"\n}",
    good: "resource \"coder_agent\" \"dev\" {\n  count = data.coder_workspace.me.start_count\n  arch  = \"amd64\"\n  os    = \"linux\"\n}",
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    const seen = new Map<string, string>();
    for (const agent of plan.agents) {
      const r = agent.resource;
      const loc = { file: r.file, line: r.pos.line };
      if (!AGENT_NAME_PATTERN.test(agent.name)) {
        out.push({ ...loc, message: `agent name "${agent.name}" is invalid: it must match ^[a-z0-9](-?[a-z0-9])*$`, hint: "rename the coder_agent resource, e.g. use single hyphens instead of underscores" });
      }
      const key = agent.name.toLowerCase();
      if (seen.has(key)) out.push({ ...loc, message: `agent name "${agent.name}" duplicates "${seen.get(key)}" (names are case-insensitive)`, hint: "give every agent a distinct name" });
      else seen.set(key, agent.name);
      if (r.forEach || agent.count > 1) {
        out.push({
          ...loc,
          message: `coder_agent "${agent.name}" has ${r.forEach ? "for_each" : `count = ${agent.count}`}, which creates several agents with the same name; Coder rejects duplicate agent names`,
          hint: "declare one coder_agent resource per agent (count = data.coder_workspace.me.start_count is fine)",
        });
      }
      if (r.attrs.auth && !AUTHS.includes(agent.auth)) out.push({ file: r.file, line: r.attrs.auth.pos.line, message: `agent "${agent.name}" has auth = "${agent.auth}"`, hint: `use one of ${AUTHS.join(", ")}` });
      for (const [field, allowed] of [
        ["arch", ARCHES],
        ["os", OSES],
      ] as const) {
        const v = agent[field];
        if (!r.attrs[field]) out.push({ ...loc, message: `agent "${agent.name}" has no ${field} (required)`, hint: `set ${field} to one of ${allowed.join(", ")}` });
        else if (v.known && !allowed.includes(v.value)) out.push({ file: r.file, line: r.attrs[field].pos.line, message: `agent "${agent.name}" has ${field} = "${v.value}"`, hint: `use one of ${allowed.join(", ")}` });
      }
    }
    return out;
  },
};
