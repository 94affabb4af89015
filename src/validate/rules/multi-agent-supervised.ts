import { type AgentStart, startLocation } from "../../plan/agent-starts.js";
import type { Rule, RuleFinding } from "../rule.js";

const unitOf = (s: AgentStart) => /^unit (\S+)/.exec(s.origin)?.[1];

export const multiAgentSupervised: Rule = {
  id: "coder/multi-agent-supervised",
  title: "Agents sharing an instance do not share a systemd unit or an agent socket",
  severity: "error",
  description: "Several agents on one instance started by one systemd unit (a loop writing one unit file per agent under the same name), started as one Linux user under systemd supervision with the default agent socket, or given the same `CODER_AGENT_SOCKET_PATH`.",
  why: "A unit file written once per agent under one name keeps only the last agent's: systemd starts one of them and the others never connect. Each agent serves a local socket that the `coder` CLI inside the workspace talks to; two agents of one user with the same socket path take it from each other, so commands run by one agent's scripts reach the other agent.",
  fix: "Write one unit per agent (`coder-agent-<name>.service`), run each agent as its own user or give each its own `CODER_AGENT_SOCKET_PATH` (e.g. `/run/coder-agent-<name>.sock`) in its unit's `Environment=`.",
  example: {
    bad: `%{ for name, script in agents ~}
  - path: /etc/systemd/system/coder-agent.service
    content: |
      [Service]
      User=coder
      ExecStart=/opt/coder/agents/\${name}/init.sh
%{ endfor ~}`,
    good: `%{ for name, script in agents ~}
  - path: /etc/systemd/system/coder-agent-\${name}.service
    content: |
      [Service]
      User=coder
      Environment=CODER_AGENT_NAME=\${name} CODER_AGENT_SOCKET_PATH=/run/coder-agent-\${name}.sock
      ExecStart=/opt/coder/agents/\${name}/init.sh
%{ endfor ~}`,
  },
  check({ plan, boot, dir }) {
    const out: RuleFinding[] = [];
    for (const instance of plan.instances) {
      const agents = instance.agents.filter((a) => a.count > 0);
      if (agents.length < 2) continue;
      const starts = agents.flatMap((a) => (boot(instance).starts.get(a.name) ?? []).map((s) => ({ agent: a.name, start: s })));
      const reported = new Set<string>();
      for (const [i, x] of starts.entries()) {
        for (const y of starts.slice(i + 1)) {
          if (x.agent === y.agent) continue;
          const pair = [x.agent, y.agent].sort().join(" and ");
          // Located only when reported: finding the line reads the template's files.
          const once = (kind: string, f: Omit<RuleFinding, "file" | "line">) => {
            if (reported.has(`${kind}:${pair}`)) return;
            reported.add(`${kind}:${pair}`);
            out.push({ ...startLocation(instance, y.start, dir), ...f });
          };
          const ux = unitOf(x.start);
          const uy = unitOf(y.start);
          if (ux && ux === uy) {
            once("unit", { message: `agents ${pair} on ${instance.address} are both started by the unit ${ux}: the file is written once per agent under one name, so systemd runs only the last one written`, hint: `name the unit after the agent, e.g. /etc/systemd/system/coder-agent-${y.agent}.service` });
          } else if (x.start.socketPath !== undefined && x.start.socketPath === y.start.socketPath) {
            once("socket", { message: `agents ${pair} on ${instance.address} share CODER_AGENT_SOCKET_PATH=${x.start.socketPath}: each takes the socket from the other`, hint: `give each agent its own socket, e.g. CODER_AGENT_SOCKET_PATH=/run/coder-agent-${y.agent}.sock` });
          } else if (ux && uy && x.start.user === y.start.user && x.start.socketPath === undefined && y.start.socketPath === undefined) {
            once("user", { severity: "warning", message: `agents ${pair} on ${instance.address} run as one user (${x.start.user}) under systemd units ${ux} and ${uy} with the default agent socket: the second to start takes it from the first`, hint: `set CODER_AGENT_SOCKET_PATH=/run/coder-agent-<name>.sock in each unit's Environment= (or run each agent as its own user)` });
          }
        }
      }
    }
    return out;
  },
};
