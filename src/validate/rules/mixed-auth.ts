import { IDENTITY_AUTH_CLOUD } from "../../plan/plan.js";
import type { Rule, RuleFinding } from "../rule.js";

export const mixedAuth: Rule = {
  id: "coder/mixed-auth",
  title: "Agents on one instance use one kind of auth",
  severity: "warning",
  description: "Mixing token and instance-identity agents on one instance works, but puts agent tokens into user data next to identity agents that need none; usually one of them is a mistake.",
  why: "Token agents need their token in the instance's user data, which instance-identity agents make unnecessary; mixing them usually means one agent was copied with the wrong auth, and it leaks a token into user data that every process on the VM can read from the metadata service.",
  fix: "Use instance identity for every agent of a cloud VM (or token auth for all of them).",
  example: {
    bad: "resource \"coder_agent\" \"main\" { auth = \"aws-instance-identity\" }\nresource \"coder_agent\" \"dev\"  { }   # token",
    good: "resource \"coder_agent\" \"main\" { auth = \"aws-instance-identity\" }\nresource \"coder_agent\" \"dev\"  { auth = \"aws-instance-identity\" }",
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      const token = instance.agents.filter((a) => a.auth === "token");
      const identity = instance.agents.filter((a) => a.auth in IDENTITY_AUTH_CLOUD);
      if (token.length === 0 || identity.length === 0) continue;
      const r = instance.resource;
      out.push({
        file: r.file,
        line: r.pos.line,
        message: `${instance.address} runs token agents (${token.map((a) => a.name).join(", ")}) and instance-identity agents (${identity.map((a) => a.name).join(", ")})`,
        hint: "use the same auth for every agent on the instance (instance identity keeps tokens out of user data)",
      });
    }
    return out;
  },
};
