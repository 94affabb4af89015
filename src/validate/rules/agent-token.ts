import type { Rule, RuleFinding } from "../rule.js";
import { droppedNote, envUnknown, startLocation } from "../../plan/agent-starts.js";

export const agentToken: Rule = {
  id: "coder/agent-token",
  title: "A token agent gets its token",
  severity: "error",
  description:
    "An agent with auth = \"token\" (the default) authenticates with CODER_AGENT_TOKEN (or CODER_AGENT_TOKEN_FILE) from its environment; coder_agent.<name>.token must reach the process that runs its init_script — the container's env, an export before it, or a systemd unit's Environment=. Without it the agent cannot connect.",
  why: "A token agent authenticates with `CODER_AGENT_TOKEN` (or `CODER_AGENT_TOKEN_FILE`). If the process that runs the init script does not have it, the agent cannot authenticate and the workspace never connects.",
  fix: "Put `CODER_AGENT_TOKEN=${coder_agent.<name>.token}` in the container's env, export it before the init script runs, or pass it through the wrapper (`sudo -u coder CODER_AGENT_TOKEN=\u2026 sh -c \u2026`). On a cloud VM, instance-identity auth needs no token.",
  example: {
    bad: "resource \"docker_container\" \"workspace\" {\n  entrypoint = [\"sh\", \"-c\", coder_agent.main.init_script]\n}",
    good: "resource \"docker_container\" \"workspace\" {\n  entrypoint = [\"sh\", \"-c\", coder_agent.main.init_script]\n  env        = [\"CODER_AGENT_TOKEN=${coder_agent.main.token}\"]\n}",
  },
  check({ plan, boot, dir }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      const analysis = boot(instance);
      for (const agent of instance.agents.filter((a) => a.count > 0 && a.auth === "token")) {
        for (const start of analysis.starts.get(agent.name) ?? []) {
          if (start.token !== undefined || envUnknown(start, "CODER_AGENT_TOKEN")) continue;
          const dropped = droppedNote(start, "CODER_AGENT_TOKEN");
          const missing = start.missing?.CODER_AGENT_TOKEN ? `: ${start.missing.CODER_AGENT_TOKEN}` : "";
          out.push({
            ...startLocation(instance, start, dir),
            message: `token agent "${agent.name}" is started without CODER_AGENT_TOKEN (${start.origin})${dropped}${missing}: it cannot authenticate`,
            hint: missing
              ? "make the secret_key_ref's key one of the secret's keys"
              : instance.family === "container"
                ? `add "CODER_AGENT_TOKEN=\${coder_agent.${agent.name}.token}" to the container's env`
                : dropped
                  ? `pass it through the wrapper: \`sudo -u ${start.user} CODER_AGENT_TOKEN=… sh -c "…"\` or \`--preserve-env=CODER_AGENT_TOKEN\``
                  : `export CODER_AGENT_TOKEN=\${coder_agent.${agent.name}.token} before its init_script runs (or use instance-identity auth)`,
          });
        }
      }
    }
    return out;
  },
};
