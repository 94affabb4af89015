import { commandText, type UserDataPlan } from "./userdata.js";

/**
 * Finds where rendered user data starts each agent and with which CODER_AGENT_NAME.
 * The user data is rendered with a unique marker in place of every agent's init_script; a
 * "carrier" holds a marker (a written file, or a base64 blob decoded to a file), a "start" is a
 * command (or a file such as a wrapper or systemd unit) that runs a carrier or holds the marker inline.
 */

export const initScriptMarker = (agent: string): string => `__PROVISIONER_INIT_SCRIPT_${agent}__`;

export interface AgentStart {
  /** Where the start is, e.g. "cloud-config runcmd[0]" or "file /etc/systemd/system/coder-main.service". */
  origin: string;
  /** The CODER_AGENT_NAME in effect for this start, if any. */
  nameSet?: string;
}

interface Carrier {
  path: string;
  content: string;
}

const NAME_ASSIGNMENT = /CODER_AGENT_NAME=("([^"]*)"|'([^']*)'|([^\s;&|'"]*))/g;

/** The CODER_AGENT_NAME in effect at `pos` in a script: same line first, then the last export/assignment before it. */
export function agentNameAt(text: string, pos: number): string | undefined {
  const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
  const lineEndRaw = text.indexOf("\n", pos);
  const lineEnd = lineEndRaw < 0 ? text.length : lineEndRaw;
  const line = text.slice(lineStart, lineEnd);
  const onLine = [...line.matchAll(NAME_ASSIGNMENT)];
  if (onLine.length > 0) {
    // The assignment closest before the start on this line, else the first one on it.
    const before = onLine.filter((m) => lineStart + (m.index ?? 0) < pos);
    const m = before.length > 0 ? before[before.length - 1] : onLine[0];
    return m[2] ?? m[3] ?? m[4];
  }
  const earlier = text.slice(0, lineStart).split("\n");
  for (let i = earlier.length - 1; i >= 0; i--) {
    const m = /^\s*(?:export\s+)?CODER_AGENT_NAME=("([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(earlier[i]);
    if (m) return m[2] ?? m[3] ?? m[4];
    if (/^\s*unset\s+CODER_AGENT_NAME\b/.test(earlier[i])) return undefined;
  }
  return undefined;
}

const BASE64_BLOB = /[A-Za-z0-9+/]{24,}={0,2}/g;

/** Carriers hidden in commands as `echo <base64> | base64 -d > /path`. */
function base64Carriers(text: string, markers: string[]): Carrier[] {
  const out: Carrier[] = [];
  for (const m of text.matchAll(BASE64_BLOB)) {
    let decoded: string;
    try {
      decoded = Buffer.from(m[0], "base64").toString("utf8");
    } catch {
      continue;
    }
    if (!markers.some((k) => decoded.includes(k))) continue;
    const rest = text.slice((m.index ?? 0) + m[0].length);
    const target = /^[^\n]*?>\s*([^\s;&|]+)/.exec(rest)?.[1];
    out.push({ path: target ?? `<inline base64 at ${m.index}>`, content: decoded });
  }
  return out;
}

/** Starts of each agent found in the plan, by agent name. */
export function findAgentStarts(plan: UserDataPlan, agents: string[]): Map<string, AgentStart[]> {
  const markers = agents.map(initScriptMarker);
  const commands = plan.commands.map((c) => {
    const text = commandText(c);
    return { origin: c.origin, text, carriers: base64Carriers(text, markers) };
  });
  const files = plan.files.map((f) => ({ origin: `file ${f.path}`, path: f.path, text: f.content }));
  const carriers: Carrier[] = plan.files.filter((f) => markers.some((m) => f.content.includes(m))).map((f) => ({ path: f.path, content: f.content }));
  for (const c of commands) carriers.push(...c.carriers);

  const starts = new Map<string, AgentStart[]>(agents.map((a) => [a, []]));
  const add = (agent: string, s: AgentStart) => {
    const list = starts.get(agent)!;
    if (!list.some((x) => x.origin === s.origin && x.nameSet === s.nameSet)) list.push(s);
  };
  const carriedBy = (agent: string) => carriers.filter((c) => c.content.includes(initScriptMarker(agent)));

  for (const agent of agents) {
    const marker = initScriptMarker(agent);
    for (const c of commands) {
      const inline = c.text.indexOf(marker);
      const viaBase64 = c.carriers.some((b) => b.content.includes(marker));
      if (inline >= 0 && !viaBase64) add(agent, { origin: c.origin, nameSet: agentNameAt(c.text, inline) });
    }
    for (const carrier of carriedBy(agent)) {
      // The carrier itself may set the name before running the init script (a wrapper).
      const own = agentNameAt(carrier.content, carrier.content.indexOf(marker));
      for (const c of commands) {
        const at = c.text.indexOf(carrier.path);
        if (at < 0) continue;
        // The command that decodes the script into place does not start it.
        if (c.carriers.some((b) => b.path === carrier.path)) continue;
        add(agent, { origin: c.origin, nameSet: agentNameAt(c.text, at) ?? own });
      }
      for (const f of files) {
        if (f.path === carrier.path) continue;
        const at = f.text.indexOf(carrier.path);
        if (at < 0) continue;
        let name = agentNameAt(f.text, at) ?? systemdEnvironmentName(f.text) ?? own;
        if (name === undefined) {
          // A wrapper file that is itself started with the name: `CODER_AGENT_NAME=x /opt/wrapper.sh`.
          const caller = commands.find((c) => c.text.includes(f.path) || c.text.includes(unitName(f.path)));
          if (caller) name = agentNameAt(caller.text, Math.max(caller.text.indexOf(f.path), caller.text.indexOf(unitName(f.path))));
        }
        add(agent, { origin: f.origin, nameSet: name });
      }
    }
  }
  return starts;
}

function unitName(path: string): string {
  return path.split("/").pop()!.replace(/\.service$/, "");
}

/** `Environment=CODER_AGENT_NAME=x` (or `Environment="CODER_AGENT_NAME=x"`) in a systemd unit. */
function systemdEnvironmentName(text: string): string | undefined {
  const m = /^Environment=.*?CODER_AGENT_NAME=([^\s"]+)/m.exec(text);
  return m?.[1];
}
