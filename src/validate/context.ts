import { findAgentStarts, initScriptMarker } from "../template/agent-starts.js";
import type { InstanceModel, TemplateModel } from "../template/model.js";
import { renderUserData, templateScope } from "../template/render.js";
import { interpretUserData } from "../template/userdata.js";
import type { RenderedUserData, RuleContext } from "./rule.js";

/**
 * Placeholders for what only Coder knows at apply time. Agent init scripts become markers, so
 * the rules can see where each lands in the rendered user data.
 */
const SYMBOLIC_WORKSPACE = {
  id: "00000000-0000-4000-8000-000000000001",
  name: "workspace",
  start_count: 1,
  transition: "start",
  access_url: "https://coder.example.com",
  access_port: 443,
  is_prebuild: false,
  is_prebuild_claim: false,
  template_id: "00000000-0000-4000-8000-000000000002",
  template_name: "template",
  template_version: "v1",
};
const SYMBOLIC_OWNER = {
  id: "00000000-0000-4000-8000-000000000003",
  name: "owner",
  full_name: "Owner",
  email: "owner@example.com",
  groups: [],
  session_token: "session-token",
  oidc_access_token: "",
  ssh_public_key: "ssh-ed25519 AAAA owner",
  ssh_private_key: "",
  login_type: "password",
  rbac_roles: [],
};

export function createRuleContext(model: TemplateModel): RuleContext {
  const scope = templateScope(model, {
    workspace: SYMBOLIC_WORKSPACE,
    owner: SYMBOLIC_OWNER,
    agent: (name) => ({ init_script: initScriptMarker(name), token: `agent-token-${name}`, id: `agent-id-${name}` }),
    attribute: (r, attr) => `${r.mode === "data" ? "data." : ""}${r.type}.${r.name}.${attr}`,
    variable: (name) => `var.${name}`,
  });
  const cache = new Map<InstanceModel, RenderedUserData>();
  return {
    model,
    userData(instance) {
      let result = cache.get(instance);
      if (result) return result;
      const agentNames = instance.agents.map((a) => a.name);
      try {
        const text = renderUserData(instance, scope);
        // A real init_script starts with a shebang, so user data that *is* an init script is a script.
        const startsWithScript = text !== undefined && agentNames.some((a) => text.trimStart().startsWith(initScriptMarker(a)));
        const plan = text === undefined ? undefined : interpretUserData(text, instance.userDataIsScript || startsWithScript);
        result = { text, plan, starts: plan ? findAgentStarts(plan, agentNames) : new Map(agentNames.map((a) => [a, []])) };
      } catch (err) {
        result = { error: (err as Error).message, starts: new Map(agentNames.map((a) => [a, []])) };
      }
      cache.set(instance, result);
      return result;
    },
  };
}
