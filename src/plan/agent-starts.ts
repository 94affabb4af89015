/**
 * Where an instance's boot starts each agent, and with which environment — read statically with the
 * machine's rules (src/machine): the agent's init_script is planned as a script carrying a unique
 * marker; the analysis follows it through files it is written to (write_files, heredocs, base64
 * blobs), the commands that run those files, `sudo`/`su`/`runuser`/`env`/`sh -c` wrappers, exports
 * and systemd units, and reports the CODER_AGENT_NAME and CODER_AGENT_TOKEN the agent would see.
 */
import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { envCommand, su, sudo, type Env, type UserEntry, type UserLookup, WrapperError } from "../machine/environment.js";
import { leadingAssignments, parseScript, shellQuote, type SimpleCommand } from "../machine/shell.js";
import { execCommand, parseEnvironmentFile, parseUnit, type ServiceUnit, SYSTEM_MANAGER, SYSTEMD_ENV, type UnitManager } from "../machine/systemd.js";
import type { BootPayload, InstanceFile, PlannedInstance } from "./plan.js";
import { commandText, interpretUserData, type UserDataPlan } from "../template/userdata.js";

export const initScriptMarker = (agent: string): string => `__provisioner_init_script_${agent}__`;

/** A plausible init_script (coderd's linux bootstrap shape: quotes, $ and no single quote) carrying a marker. */
export function markedInitScript(agent: string, accessUrl: string): string {
  return `#!/usr/bin/env sh
set -eux
# ${initScriptMarker(agent)}
BINARY_DIR=$(mktemp -d -t coder.XXXXXX)
BINARY_URL="${accessUrl}bin/coder-linux-amd64"
cd "$BINARY_DIR"
curl -fsSL --compressed "$BINARY_URL" -o coder || wget -q "$BINARY_URL" -O coder
chmod +x coder
export CODER_AGENT_AUTH="token"
export CODER_AGENT_URL="${accessUrl}"
exec ./coder agent
`;
}

export interface AgentStart {
  /** Where: "cloud-config runcmd[0]", "file /etc/systemd/system/coder.service", "container workspace". */
  origin: string;
  /** The command line that starts it, as written (trimmed), for messages. */
  command: string;
  /** The variables as the agent process gets them (undefined: not set). */
  name?: string;
  token?: string;
  /** CODER_AGENT_SOCKET_PATH: the agent's local socket (the CLI inside the workspace talks to it). */
  socketPath?: string;
  /** Variables the path set but a wrapper did not pass on. */
  dropped: { variable: string; value: string; wrapper: string }[];
  /** Variables certainly absent, with why (a Kubernetes secret without the key). */
  missing?: Record<string, string>;
  /** The agent runs in a container the instance starts itself (`docker run IMAGE`), not on the instance. */
  container?: string;
  /** The agent runs as this user. */
  user: string;
  /** Variables whose value is not known before apply ("*": the whole environment), so not judged. */
  unknownEnv?: string[];
}

/** Accounts assumed for static reading: any user name resolves (the image may create it). */
const anyUser: UserLookup = (name) => ({ name, uid: name === "root" ? 0 : 1000, gid: name === "root" ? 0 : 1000, home: name === "root" ? "/root" : `/home/${name}`, shell: "/bin/sh" });
const which = (c: string) => (c.includes("/") ? c : `/usr/bin/${c}`);

interface Carrier {
  path: string;
  content: string;
}

const WRAPPERS_TRANSPARENT = new Set(["nohup", "exec", "setsid", "nice", "ionice", "stdbuf", "time", "command", "daemonize", "start-stop-daemon"]);
const BASE64_BLOB = /[A-Za-z0-9+/]{24,}={0,2}/g;

interface State {
  env: Env;
  user: string;
  dropped: AgentStart["dropped"];
}

/** The exported environment just before offset `p` of a script (exports, assignments, unsets). */
function envBefore(commands: SimpleCommand[], p: number, base: Env): { exported: Env; shell: Env } {
  const exported: Env = { ...base };
  const shell: Env = {};
  for (const c of commands) {
    if (c.end > p) break;
    const words = c.words.map((w) => w.text);
    if (words[0] === "export" || words[0] === "declare" || words[0] === "typeset") {
      for (const w of words.slice(1)) {
        if (w.startsWith("-")) continue;
        const eq = w.indexOf("=");
        if (eq > 0) exported[w.slice(0, eq)] = w.slice(eq + 1);
        else if (shell[w] !== undefined) exported[w] = shell[w];
      }
    } else if (words[0] === "unset") {
      for (const w of words.slice(1)) {
        delete exported[w];
        delete shell[w];
      }
    } else if (words.every((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w))) {
      for (const w of words) {
        const eq = w.indexOf("=");
        const k = w.slice(0, eq);
        if (k in exported) exported[k] = w.slice(eq + 1);
        else shell[k] = w.slice(eq + 1);
      }
    } else if (words[0] === "set" && words.includes("-a")) {
      // set -a exports every later assignment; rare enough to treat shell variables as exported.
      Object.assign(exported, shell);
    }
  }
  return { exported, shell };
}

function dropDiff(before: Env, after: Env, wrapper: string, dropped: AgentStart["dropped"]): void {
  for (const k of ["CODER_AGENT_NAME", "CODER_AGENT_TOKEN", "CODER_AGENT_TOKEN_FILE"]) {
    if (before[k] !== undefined && after[k] === undefined) dropped.push({ variable: k, value: before[k], wrapper });
  }
}

/**
 * Follows a command's words through wrappers up to the word holding `p`. Returns the state the
 * command runs in, and — when `p` is inside a `-c` script — that script and the offset in it.
 */
function throughWrappers(cmd: SimpleCommand, p: number, st: State): { state: State; inner?: { script: string; offset: number }; argv: string[] } {
  const { assignments, rest } = leadingAssignments(cmd.words);
  let env: Env = { ...st.env, ...assignments };
  let user = st.user;
  const dropped = [...st.dropped];
  let words = rest;
  for (let guard = 0; guard < 16 && words.length > 0; guard++) {
    const name = words[0].text.split("/").pop()!;
    const args = words.slice(1).map((w) => w.text);
    const holds = (i: number) => words[i] && words[i].start <= p && p < words[i].end;
    // The word holding p is a -c script: continue inside it.
    const scriptAt = (i: number) => {
      const w = words[i];
      const k = w.map.findIndex((o) => o >= p);
      return { script: w.text, offset: k < 0 ? w.text.length : k };
    };
    try {
      if (name === "sudo") {
        const w = sudo(args, env, anyUser, which);
        // sudo -i/-s hands the command words to a shell as one string: follow the words themselves.
        let kept = w.argv.length;
        if (w.viaShell && w.argv[1] === "-c") {
          const k = words.findIndex((_, j) => j > 0 && words.slice(j).map((x) => x.text).join(" ") === w.argv[2]);
          if (k > 0) kept = words.length - k;
        }
        dropDiff(env, w.env, `sudo ${args.slice(0, Math.max(0, args.length - kept)).join(" ")}`.trim(), dropped);
        env = w.env;
        user = w.user.name;
        words = words.slice(words.length - kept);
        continue;
      }
      if (name === "su" || name === "runuser") {
        const w = su(args, env, anyUser, name === "runuser");
        dropDiff(env, w.env, `${name} ${args.join(" ")}`.slice(0, 60), dropped);
        env = w.env;
        user = w.user.name;
        const ci = words.findIndex((x, i) => i > 0 && (x.text === "-c" || x.text === "--command"));
        if (ci > 0 && holds(ci + 1)) return { state: { env, user, dropped }, inner: scriptAt(ci + 1), argv: w.argv };
        if (w.argv[1] === "-c") return { state: { env, user, dropped }, argv: w.argv };
        words = words.slice(words.length - w.argv.length);
        continue;
      }
      if (name === "env") {
        const r = envCommand(args, env);
        dropDiff(env, r.env, `env ${args.slice(0, args.length - r.argv.length).join(" ")}`, dropped);
        env = r.env;
        words = words.slice(words.length - r.argv.length);
        continue;
      }
    } catch (err) {
      if (err instanceof WrapperError) return { state: { env, user, dropped }, argv: words.map((x) => x.text) };
      throw err;
    }
    if (WRAPPERS_TRANSPARENT.has(name)) {
      words = words.slice(1).filter((w, i) => !(i === 0 && /^-/.test(w.text)));
      continue;
    }
    if (name === "timeout") {
      words = words.slice(1).filter((w) => !/^-/.test(w.text));
      words = words.slice(1);
      continue;
    }
    if (/^(ba|da|z|k)?sh$/.test(name)) {
      const ci = words.findIndex((x, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(x.text));
      if (ci > 0 && holds(ci + 1)) return { state: { env, user, dropped }, inner: scriptAt(ci + 1), argv: words.map((x) => x.text) };
    }
    break;
  }
  return { state: { env, user, dropped }, argv: words.map((x) => x.text) };
}

/** Scripts read more than once (every agent, every carrier path): parsed once. */
const parsedScripts = new Map<string, SimpleCommand[]>();
function parsed(script: string): SimpleCommand[] {
  let commands = parsedScripts.get(script);
  if (!commands) {
    if (parsedScripts.size >= 64) parsedScripts.clear();
    commands = parseScript(script);
    parsedScripts.set(script, commands);
  }
  return commands;
}

/** What runs at offset `p` of `script`: the state, the argv after wrappers, and whether `p` is a word of it. */
interface RunAt {
  state: State;
  argv: string[];
  /** `p` lies inside one of the command's words (an argument such as `echo '…'`), not in a -c script or the script's own text. */
  inArgument: boolean;
}

/** The innermost command at offset `p` of `script` (recursing into -c scripts). */
function runAt(script: string, p: number, st: State): RunAt {
  const commands = parsed(script);
  const cmd = commands.find((c) => c.start <= p && p < Math.max(c.end, c.start + 1)) ?? commands.filter((c) => c.start <= p).pop();
  const { exported } = envBefore(commands, cmd ? cmd.start : p, st.env);
  const base: State = { env: exported, user: st.user, dropped: st.dropped };
  if (!cmd || p >= cmd.end) return { state: base, argv: [], inArgument: false };
  const r = throughWrappers(cmd, p, base);
  if (r.inner) return runAt(r.inner.script, r.inner.offset, r.state);
  return { state: r.state, argv: r.argv, inArgument: cmd.words.some((w) => w.start <= p && p < w.end) };
}

/** The state at offset `p` of `script` (recursing into -c scripts). */
function stateAt(script: string, p: number, st: State): State {
  return runAt(script, p, st).state;
}

const SHELLS = /^(ba|da|z|k|mk)?sh$/;

/** Options of `docker run` (and podman/nerdctl) that take a value as the next word. */
const RUN_VALUE_OPTIONS = new Set(["-e", "--env", "--env-file", "-v", "--volume", "-h", "--hostname", "--name", "--net", "--network", "-p", "--publish", "-u", "--user", "-w", "--workdir", "--entrypoint", "--mount", "-l", "--label", "--add-host", "--device", "--gpus", "--restart", "--cpus", "-m", "--memory", "--runtime", "--pull", "--platform", "--cap-add", "--cap-drop", "--security-opt", "--ulimit", "--log-driver", "--log-opt", "--group-add", "--ipc", "--pid", "--shm-size", "--tmpfs", "--dns"]);

/** A `docker run`/`create` (or podman, nerdctl) command line: its image, command and environment. */
function containerRun(argv: string[], env: Env): { image: string; args: string[]; env: Env; user?: string } | undefined {
  const [tool, verb, ...rest] = argv;
  if (!tool || !/^(docker|podman|nerdctl)$/.test(tool.split("/").pop()!) || (verb !== "run" && verb !== "create")) return undefined;
  const out: Env = {};
  let user: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("-")) return { image: a, args: rest.slice(i + 1), env: out, user };
    const eq = a.indexOf("=");
    const [opt, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = inline ?? (RUN_VALUE_OPTIONS.has(opt) ? rest[++i] : undefined);
    if ((opt === "-e" || opt === "--env") && value !== undefined) {
      const k = value.indexOf("=");
      // `-e NAME` passes the variable from the environment docker runs in.
      if (k > 0) out[value.slice(0, k)] = value.slice(k + 1);
      else if (env[value] !== undefined) out[value] = env[value];
    }
    if ((opt === "-u" || opt === "--user") && value !== undefined) user = value;
  }
  return undefined;
}

/** Whether argv (after wrappers) executes `path`: as the program, a shell's script operand, or `.`/`source`. */
function executes(argv: string[], path: string): boolean {
  const same = (w: string | undefined) => w !== undefined && (w === path || w.replace(/^(~|\$HOME|\$\{HOME\})\//, "/home/*/") === path.replace(/^(~|\$HOME|\$\{HOME\})\//, "/home/*/"));
  const [prog, ...args] = argv;
  if (same(prog)) return true;
  if (prog === "." || prog === "source") return same(args[0]);
  if (prog && SHELLS.test(prog.split("/").pop()!)) return same(args.find((a) => !a.startsWith("-")));
  return false;
}

/** Whether argv (after wrappers) is a shell that reads its script from standard input. */
function shellReadingStdin(argv: string[]): boolean {
  const [prog, ...args] = argv;
  if (!prog || !SHELLS.test(prog.split("/").pop()!)) return false;
  const operands = args.filter((a) => !a.startsWith("-") || a === "-");
  return !args.some((a) => /^-[a-z]*c[a-z]*$/.test(a)) && (operands.length === 0 || operands[0] === "-" || args.includes("-s"));
}

/** The whole command that holds offset `p` (the outer line, not the line of a -c script). */
function commandAt(text: string, p: number): string {
  const cmd = parsed(text).find((c) => c.start <= p && p < Math.max(c.end, c.start + 1));
  if (!cmd) return lineAt(text, p).slice(0, 200);
  const src = text.slice(cmd.start, cmd.end).trim();
  return (src.split("\n")[0] + (src.includes("\n") ? " …" : "")).slice(0, 160);
}

function lineAt(text: string, p: number): string {
  const s = text.lastIndexOf("\n", p - 1) + 1;
  const e = text.indexOf("\n", p);
  return text.slice(s, e < 0 ? text.length : e).trim();
}

/** Files written by heredocs in a script (`cat > /path <<EOF … EOF`, `tee /path <<EOF`). */
function heredocFiles(script: string): Carrier[] {
  const out: Carrier[] = [];
  const re = /(?:cat|tee)\s*(?:-a\s*)?(?:>>?\s*)?("?)(\/[^\s"'<>;|&]+)\1[^\n]*?<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\3[^\n]*\n/g;
  for (const m of script.matchAll(re)) {
    const start = (m.index ?? 0) + m[0].length;
    const endRe = new RegExp(`^\\t*${m[4]}\\s*$`, "m");
    const rest = script.slice(start);
    const e = endRe.exec(rest);
    out.push({ path: m[2], content: rest.slice(0, e ? e.index : rest.length) });
  }
  return out;
}

/** Whether `text` holds the marker, as written or inside a base64 blob. */
function holdsMarker(text: string, marker: string): boolean {
  return text.includes(marker) || decodedBlobs(text).some((d) => d.includes(marker));
}

/** The base64 blobs of a text, decoded (the last few texts kept: each is asked about every agent's marker). */
const blobCache = new Map<string, string[]>();
function decodedBlobs(text: string): string[] {
  let blobs = blobCache.get(text);
  if (!blobs) {
    blobs = [...text.matchAll(BASE64_BLOB)].map((m) => Buffer.from(m[0], "base64").toString("utf8"));
    if (blobCache.size >= 16) blobCache.delete(blobCache.keys().next().value!);
    blobCache.set(text, blobs);
  }
  return blobs;
}

/**
 * Files a script writes with the init script in them: `echo <base64> | base64 -d > /path`,
 * `echo '<script>' > /path`, `printf … | tee /path` (heredocs are read by heredocFiles).
 */
function writtenCarriers(text: string, markers: string[]): Carrier[] {
  const out: Carrier[] = [];
  for (const c of parsed(text)) {
    for (const w of c.words) {
      const raw = markers.some((k) => w.text.includes(k));
      const blob = raw ? undefined : decodedBlobs(w.text).find((d) => markers.some((k) => d.includes(k)));
      if (!raw && blob === undefined) continue;
      const rest = text.slice(w.end);
      const target = /^[^\n]*?(?:>|\btee\s+(?:-a\s+)?)\s*["']?([^\s;&|"']+)/.exec(rest)?.[1];
      if (target) out.push({ path: target, content: raw ? w.text : blob! });
    }
  }
  return out;
}

export interface BootAnalysis {
  /** Starts per agent name. */
  starts: Map<string, AgentStart[]>;
  /** The interpreted user data, for VMs. */
  userData?: UserDataPlan;
  /** Whether the marker of an agent appears in the payload at all (used by the init-script-unused rule for Windows). */
  mentioned: Set<string>;
}

const CLOUD_INIT_ENV: Env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/**
 * @param markerOf a text unique to each agent's init_script as planned (validate plants
 *   initScriptMarker; e2e finds the comment line of its bootstrap).
 * @param instanceFiles files the platform puts into the instance (they can carry env files).
 */
export function analyzeBoot(boot: BootPayload, agents: string[], markerOf: (agent: string) => string = initScriptMarker, instanceFiles: InstanceFile[] = [], tokenOf: (agent: string) => string = plannedToken): BootAnalysis {
  const starts = new Map<string, AgentStart[]>(agents.map((a) => [a, []]));
  const markers = agents.map(markerOf);
  const mentioned = new Set<string>();
  const add = (agent: string, s: AgentStart) => {
    const list = starts.get(agent)!;
    if (!list.some((x) => x.origin === s.origin && x.name === s.name && x.token === s.token)) list.push(s);
  };
  const result = (st: State, origin: string, command: string, missing?: Record<string, string>): AgentStart => ({ origin, command, name: st.env.CODER_AGENT_NAME, token: st.env.CODER_AGENT_TOKEN ?? (st.env.CODER_AGENT_TOKEN_FILE !== undefined ? "<file>" : undefined), socketPath: st.env.CODER_AGENT_SOCKET_PATH, dropped: st.dropped, user: st.user, ...(missing ? { missing } : {}) });

  if (boot.kind === "containers") {
    for (const c of boot.containers) {
      if (!c.argv.known) continue;
      const env: Env = {};
      const missing: Record<string, string> = {};
      const unknownEnv: string[] = [];
      for (const [k, v] of Object.entries(c.env)) {
        if (v.known) env[k] = v.value;
        else if (v.absent) missing[k] = v.reason;
        // Set, but known only after apply; an element whose name is unknown may be any variable.
        else unknownEnv.push(/^[A-Za-z_]/.test(k) ? k : "*");
      }
      const argv = c.argv.value;
      for (const [i, agent] of agents.entries()) {
        const idx = argv.findIndex((a) => a.includes(markers[i]));
        if (idx < 0) continue;
        mentioned.add(agent);
        // The container's process: entrypoint/command words, run without a shell unless it is `sh -c`.
        const script = argv.map(shellQuote).join(" ");
        const p = script.indexOf(markers[i]) >= 0 ? script.indexOf(markers[i]) : 0;
        const st = stateAt(script, p, { env, user: c.user ?? "root", dropped: [] });
        add(agent, { ...result(st, `container ${c.name}${c.via ? ` (${c.via})` : ""}`, argv.slice(0, 3).join(" ").split("\n")[0].slice(0, 120), Object.keys(missing).length ? missing : undefined), ...(unknownEnv.length ? { unknownEnv } : {}) });
      }
    }
    return { starts, mentioned };
  }
  if (boot.kind !== "user-data") return { starts, mentioned };
  const text = boot.text;
  agents.forEach((a, i) => {
    if (holdsMarker(text, markers[i])) mentioned.add(a);
  });
  if (boot.windows) return { starts, mentioned };
  const ud = interpretUserData(text, boot.asScript);
  const scripts = ud.commands.map((c) => ({ origin: c.origin, text: commandText(c) }));
  const files = [...ud.files.map((f) => ({ path: f.path, content: f.content })), ...instanceFiles];
  // Files that carry an init script: write_files, heredocs in scripts, echo/base64 writes to a path.
  const carriers: Carrier[] = files.filter((f) => markers.some((m) => holdsMarker(f.content, m)));
  for (const s of scripts) {
    carriers.push(...heredocFiles(s.text).filter((h) => markers.some((m) => h.content.includes(m))));
    carriers.push(...writtenCarriers(s.text, markers));
  }
  const units = [...files, ...scripts.flatMap((s) => heredocFiles(s.text))].filter((f) => /\/systemd\/(system|user)\/[^/]+\.service$/.test(f.path));
  const started = (unitName: string) => scripts.find((s) => new RegExp(`systemctl\\s+(?:--\\S+\\s+)*(?:start|restart|reload-or-restart|enable\\s+(?:--now|[^\\n]*--now))[^\\n;&|]*\\b${unitName.replace(/\.service$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:\\.service)?\\b`).test(s.text));
  /** The manager that runs a unit file: a user's (…/.config/systemd/user/ under their home) or the system's. */
  const managerOf = (path: string): UnitManager => {
    const m = /^\/home\/([^/]+)\/\.config\/systemd\/user\//.exec(path) ?? (/^\/root\/\.config\/systemd\/user\//.test(path) ? ["", "root"] : null);
    if (!m) return SYSTEM_MANAGER;
    const u = anyUser(m[1])!;
    return { user: u.name, uid: u.uid, home: m[1] === "root" ? "/root" : `/home/${m[1]}` };
  };
  const unitEnv = (unit: ServiceUnit, manager: UnitManager): Env => {
    const user = unit.user ?? manager.user;
    const env: Env = { ...SYSTEMD_ENV, HOME: user === "root" ? "/root" : `/home/${user}`, USER: user, ...unit.environment };
    for (const f of unit.environmentFiles) {
      const file = files.find((x) => x.path === f.path);
      if (file) Object.assign(env, parseEnvironmentFile(file.content));
    }
    return env;
  };

  agents.forEach((agent, i) => {
    const marker = markers[i];
    const own = carriers.filter((c) => holdsMarker(c.content, marker));
    // 1. Inline: the init script is part of a script's text that runs (not an argument written to a file).
    for (const s of scripts) {
      const at = s.text.indexOf(marker);
      if (at < 0 || heredocFiles(s.text).some((h) => h.content.includes(marker))) continue;
      const r = runAt(s.text, at, { env: CLOUD_INIT_ENV, user: "root", dropped: [] });
      if (r.inArgument) continue;
      add(agent, result(r.state, s.origin, commandAt(s.text, at)));
    }
    // 2. Decoded and run in one pipeline: `echo <base64> | base64 -d | sudo -u coder bash -s`.
    for (const s of scripts) {
      const commands = parsed(s.text);
      commands.forEach((c, k) => {
        if (!c.pipe || !c.words.some((w) => holdsMarker(w.text, marker) && !w.text.includes(marker))) return;
        for (let j = k + 1; j < commands.length && commands[j - 1].pipe; j++) {
          const r = runAt(s.text, commands[j].start, { env: CLOUD_INIT_ENV, user: "root", dropped: [] });
          if (shellReadingStdin(r.argv)) {
            add(agent, result(r.state, s.origin, commandAt(s.text, c.start)));
            break;
          }
        }
      });
    }
    // 3. A container the instance starts (`docker run … -e ENVBUILDER_INIT_SCRIPT=… IMAGE`): the init
    // script is in its environment or command, and it runs with the container's environment only.
    for (const s of scripts) {
      for (const c of parsed(s.text)) {
        const r = runAt(s.text, c.start, { env: CLOUD_INIT_ENV, user: "root", dropped: [] });
        const run = containerRun(r.argv, r.state.env);
        if (!run || ![...Object.values(run.env), ...run.args].some((x) => holdsMarker(x, marker))) continue;
        add(agent, { ...result({ env: run.env, user: run.user ?? "root", dropped: [] }, s.origin, commandAt(s.text, c.start)), container: `${r.argv[0].split("/").pop()} run ${run.image}` });
      }
    }
    // 4. A command that executes a file carrying it (the carrier's own exports apply after the command's).
    for (const carrier of own) {
      const inCarrier = (st: State): State => {
        const p = carrier.content.indexOf(marker);
        return p < 0 ? st : stateAt(carrier.content, p, st);
      };
      for (const s of scripts) {
        for (const m of s.text.matchAll(new RegExp(carrier.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"))) {
          const r = runAt(s.text, m.index ?? 0, { env: CLOUD_INIT_ENV, user: "root", dropped: [] });
          if (!executes(r.argv, carrier.path)) continue;
          add(agent, result(inCarrier(r.state), s.origin, lineAt(s.text, m.index ?? 0).slice(0, 200)));
        }
      }
      // 5. A systemd unit whose ExecStart runs it (or holds it), started by a command.
      for (const u of units) {
        const manager = managerOf(u.path);
        const unit = parseUnit(u.path.split("/").pop()!, u.content, manager);
        if (!unit.execStart.some((l) => l.includes(carrier.path)) && !u.content.includes(marker)) continue;
        const runner = started(unit.name);
        if (!runner) continue;
        const exec = unit.execStart.map((l) => execCommand(l).argv.join(" ")).join("\n");
        const st = stateAt(exec, Math.max(0, exec.indexOf(carrier.path)), { env: unitEnv(unit, manager), user: unit.user ?? manager.user, dropped: [] });
        add(agent, result(inCarrier(st), `unit ${u.path} (${runner.origin})`, exec.split("\n")[0]));
      }
    }
    // 6. A unit holding the marker inline.
    for (const u of units) {
      if (!u.content.includes(marker)) continue;
      const manager = managerOf(u.path);
      const unit = parseUnit(u.path.split("/").pop()!, u.content, manager);
      const runner = started(unit.name);
      if (!runner) continue;
      add(agent, result({ env: unitEnv(unit, manager), user: unit.user ?? manager.user, dropped: [] }, `unit ${u.path}`, unit.execStart[0] ?? ""));
    }
  });
  // 7. No init_script at all: the boot downloads the agent itself and runs `coder agent` with an
  // agent's token (or, for instance identity, its name; or it is the instance's only agent).
  const agentOf = (env: Env): string | undefined => {
    const byToken = agents.find((a) => env.CODER_AGENT_TOKEN !== undefined && env.CODER_AGENT_TOKEN === tokenOf(a));
    if (byToken) return byToken;
    if (env.CODER_AGENT_AUTH && env.CODER_AGENT_AUTH !== "token") return env.CODER_AGENT_NAME !== undefined ? agents.find((a) => a === env.CODER_AGENT_NAME) : agents.length === 1 ? agents[0] : undefined;
    return undefined;
  };
  const runsAgent = (argv: string[]) => argv[0]?.split("/").pop() === "coder" && argv[1] === "agent";
  for (const s of scripts) {
    for (const c of parsed(s.text)) {
      const r = runAt(s.text, c.start, { env: CLOUD_INIT_ENV, user: "root", dropped: [] });
      const agent = runsAgent(r.argv) ? agentOf(r.state.env) : undefined;
      if (agent) add(agent, result(r.state, s.origin, commandAt(s.text, c.start)));
    }
  }
  for (const u of units) {
    const manager = managerOf(u.path);
    const unit = parseUnit(u.path.split("/").pop()!, u.content, manager);
    const env = unitEnv(unit, manager);
    const agent = unit.execStart.some((l) => runsAgent(execCommand(l).argv)) ? agentOf(env) : undefined;
    const runner = agent && started(unit.name);
    if (agent && runner) add(agent, result({ env, user: unit.user ?? manager.user, dropped: [] }, `unit ${u.path} (${runner.origin})`, unit.execStart[0] ?? ""));
  }
  return { starts, userData: ud, mentioned };
}

/** The token validate plans for an agent (e2e passes the real ones). */
export const plannedToken = (agent: string): string => `token-of-${agent}-4c0d3e`;

/** Whether a start's value of `variable` is not known before apply (then no rule judges it). */
export const envUnknown = (start: AgentStart, variable: string): boolean => !!start.unknownEnv && (start.unknownEnv.includes("*") || start.unknownEnv.includes(variable));

/** A loop in the boot that waits for a device to appear (`until [ -e /dev/… ]; do sleep 1; done`). */
export interface DeviceWait {
  device: string;
  origin: string;
}

const WAIT_LOOP = /\b(?:until|while)\s+(!\s*)?(?:\[\[?|test)\s+(!\s*)?-[ebLS]\s+["']?(\/dev\/[^\s"';)\]]+)/g;

/** Loops of the user data's scripts that wait for a device (until it exists, or while it does not). */
export function deviceWaits(ud: UserDataPlan): DeviceWait[] {
  const out: DeviceWait[] = [];
  for (const c of ud.commands) {
    for (const m of commandText(c).matchAll(WAIT_LOOP)) {
      const isUntil = m[0].startsWith("until");
      const negated = !!m[1] !== !!m[2];
      // `until [ -e d ]` and `while [ ! -e d ]` wait for d; the others wait for it to go away.
      if (isUntil !== negated) out.push({ device: m[3], origin: c.origin });
    }
  }
  return out;
}

/** "… is set before `sudo -u coder`, which does not pass it on" — when a wrapper dropped the variable. */
export function droppedNote(start: AgentStart, variable: string): string {
  const d = start.dropped.find((x) => x.variable === variable);
  return d ? `: ${variable}=${d.value} is set before \`${d.wrapper}\`, which does not pass it on (sudo resets the environment; su - and runuser -l start a clean one)` : "";
}

/** How to give an agent its name where it is started. */
export function nameFix(agent: string, start: AgentStart): string {
  return start.dropped.some((d) => d.variable === "CODER_AGENT_NAME")
    ? `pass it through the wrapper: \`sudo -u ${start.user} CODER_AGENT_NAME=${agent} sh -c "…"\` or \`sudo --preserve-env=CODER_AGENT_NAME -u ${start.user} …\``
    : start.name === undefined
      ? `start it with CODER_AGENT_NAME=${agent}, e.g. \`sudo -u coder CODER_AGENT_NAME=${agent} sh -c "…"\``
      : `set CODER_AGENT_NAME=${agent} where "${agent}"'s init_script is started`;
}

/** Where a finding about an instance's boot points: the user data attribute, else the instance. */
export function bootLocation(instance: PlannedInstance): SourceLine {
  const b = instance.boot;
  const attr = b.kind === "none" ? undefined : b.attr;
  return attr ? { file: attr.file, line: attr.pos.line } : { file: instance.resource.file, line: instance.resource.pos.line };
}

export interface SourceLine {
  /** Relative to the template directory. */
  file: string;
  line: number;
}

const SKIP_DIRS = new Set(["node_modules", ".terraform", ".git"]);

/** Text files of a template directory (its .tf, templates, scripts), for locating a command's line. */
function sourceFiles(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (rel: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= 500) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < 4 && !e.name.startsWith(".") && !SKIP_DIRS.has(e.name)) walk(r, depth + 1);
      } else if (e.isFile()) {
        try {
          if (statSync(join(dir, r)).size > 1 << 20) continue;
          const text = readFileSync(join(dir, r), "utf8");
          if (!text.includes("\0")) out.push({ file: r, text });
        } catch {
          // unreadable: not a place a command is written
        }
      }
    }
  };
  walk("", 0);
  return out;
}

/**
 * The template line where a start's command is written: in the boot attribute's source, else in the
 * one file of the template directory that holds it (a templatefile, a cloud-init part). Falls back to
 * the boot attribute when the command is assembled by interpolation.
 */
export function startLocation(instance: PlannedInstance, start: AgentStart, dir: string): SourceLine {
  const fallback = bootLocation(instance);
  const command = start.command.replace(/ …$/, "").split("\n")[0].trim().slice(0, 120);
  const b = instance.boot;
  const attr = b.kind === "none" ? undefined : b.attr;
  const inAttr = attr && uniquePrefixAt(attr.source, command);
  if (attr && inAttr !== undefined) return { file: attr.file, line: attr.expr.pos.line + countLines(attr.source.slice(0, inAttr)) };
  const hits = sourceFiles(dir).flatMap((f) => {
    const at = uniquePrefixAt(f.text, command);
    return at === undefined ? [] : [{ ...f, at }];
  });
  if (hits.length !== 1) return fallback;
  return { file: hits[0].file, line: 1 + countLines(hits[0].text.slice(0, hits[0].at)) };
}

/**
 * Where the longest prefix of `command` (at least 12 characters: the part before the first
 * interpolation, as the template writes it) occurs exactly once in `text`.
 */
function uniquePrefixAt(text: string, command: string): number | undefined {
  // A prefix occurs whenever a longer one does: binary search for the longest that occurs.
  let lo = 12;
  let hi = command.length;
  if (hi < lo || !text.includes(command.slice(0, lo))) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (text.includes(command.slice(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  const prefix = command.slice(0, lo);
  const at = text.indexOf(prefix);
  return text.indexOf(prefix, at + 1) < 0 ? at : undefined;
}

const countLines = (s: string) => s.split("\n").length - 1;

export type { UserEntry };
