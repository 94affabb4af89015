import { leadingAssignments, parseScript } from "../../machine/shell.js";
import type { Attr, ResourceConfig } from "../../template/config.js";
import { convert, STRING } from "../../template/hcl/index.js";
import type { Rule, RuleContext, RuleFinding } from "../rule.js";

/** Programs that serve until stopped, by their argv (a one-shot use such as `--version` excluded). */
const DAEMONS: { name: string; is: (argv: string[]) => boolean }[] = [
  { name: "code-server", is: ([c, ...a]) => c === "code-server" && !a.some((x) => /^(--(install-extension|uninstall-extension|list-extensions|show-versions|version|help)|-v|-h)$/.test(x)) },
  { name: "jupyter", is: ([c, sub, next]) => c === "jupyter" && ["lab", "notebook", "server"].includes(sub) && !/^(build|clean|path|paths|extension|workspaces|list|stop|password|--version|--help)$/.test(next ?? "") },
  { name: "jupyter", is: ([c, next]) => /^jupyter-(lab|notebook|server)$/.test(c) && !/^(build|list|stop|--version|--help)$/.test(next ?? "") },
  { name: "python -m http.server", is: ([c, ...a]) => /^python[0-9.]*$/.test(c) && a[a.indexOf("-m") + 1] === "http.server" && a.includes("-m") },
  { name: "jupyter", is: ([c, ...a]) => /^python[0-9.]*$/.test(c) && a.includes("-m") && /^(jupyter|jupyterlab|notebook)$/.test(a[a.indexOf("-m") + 1]) },
  { name: "filebrowser", is: ([c, sub]) => c === "filebrowser" && (sub === undefined || (sub.startsWith("-") && !/^(--version|-h|--help)$/.test(sub))) },
  { name: "ttyd", is: ([c, ...a]) => c === "ttyd" && !a.some((x) => /^(--version|-v|--help|-h)$/.test(x)) },
  { name: "gotty", is: ([c]) => c === "gotty" },
  { name: "marimo", is: ([c, sub]) => c === "marimo" && (sub === "edit" || sub === "run") },
  { name: "streamlit", is: ([c, sub]) => c === "streamlit" && sub === "run" },
  { name: "rserver", is: ([c]) => c === "rserver" },
  { name: "dockerd", is: ([c]) => c === "dockerd" },
  { name: "sleep infinity", is: ([c, a]) => c === "sleep" && a === "infinity" },
  { name: "tail -f", is: ([c, ...a]) => c === "tail" && a.some((x) => /^(-f|-F|--follow)/.test(x)) },
];

/** Wrappers that run their command in the foreground. */
const FOREGROUND_WRAPPERS = new Set(["exec", "nohup", "nice", "ionice", "stdbuf", "command", "time"]);

/** The program a command runs in the end (through sudo, env, nohup, …), or a `-c` script it runs. */
function innermost(words: string[]): { argv: string[] } | { script: string } | undefined {
  let w = words;
  for (let guard = 0; guard < 12 && w.length > 0; guard++) {
    const name = w[0].split("/").pop()!;
    if (name === "timeout") return undefined; // bounded: it ends
    if (/^(ba|da|z)?sh$/.test(name)) {
      const c = w.findIndex((x, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(x));
      if (c > 0 && w[c + 1] !== undefined) return { script: w[c + 1] };
    }
    if (name === "sudo" || name === "su" || name === "runuser") {
      if (name !== "sudo") {
        const c = w.findIndex((x, i) => i > 0 && (x === "-c" || x === "--command"));
        return c > 0 && w[c + 1] !== undefined ? { script: w[c + 1] } : undefined;
      }
      let i = 1;
      while (i < w.length && w[i].startsWith("-")) i += /^-[ugCDhprTU]$/.test(w[i]) ? 2 : 1;
      w = w.slice(i);
      continue;
    }
    if (name === "env") {
      let i = 1;
      while (i < w.length && (w[i].startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[i]))) i += /^-[uSC]$/.test(w[i]) ? 2 : 1;
      w = w.slice(i);
      continue;
    }
    if (FOREGROUND_WRAPPERS.has(name)) {
      w = w.slice(1).filter((x, i) => !(i === 0 && x.startsWith("-")));
      continue;
    }
    return { argv: [name, ...w.slice(1)] };
  }
  return undefined;
}

interface Blocker {
  daemon: string;
  command: string;
  /** Offset in the script where the command starts. */
  at: number;
}

/** Known daemons a script runs in the foreground (not followed by `&`, alone or at the end of a list or pipeline). */
export function foregroundDaemons(script: string, base = 0, depth = 0): Blocker[] {
  const out: Blocker[] = [];
  const commands = parseScript(script);
  const backgrounded = (i: number): boolean => {
    for (let j = i; j < commands.length; j++) {
      if (commands[j].background) return true;
      const rest = script.slice(commands[j].end).replace(/^[ \t)}]*/, "");
      if (!/^(\|\||&&|\|)/.test(rest)) return /^&(?!&)/.test(rest);
    }
    return false;
  };
  commands.forEach((cmd, i) => {
    if (backgrounded(i)) return;
    const inner = innermost(leadingAssignments(cmd.words).rest.map((w) => w.text));
    if (!inner) return;
    if ("script" in inner) {
      if (depth < 3) out.push(...foregroundDaemons(inner.script, base + cmd.start, depth + 1).map((b) => ({ ...b, at: base + cmd.start, command: script.slice(cmd.start, cmd.end).trim() })));
      return;
    }
    const d = DAEMONS.find((x) => x.is(inner.argv));
    if (d) out.push({ daemon: d.name, command: script.slice(cmd.start, cmd.end).trim().split("\n")[0], at: base + cmd.start });
  });
  return out;
}

/** The source line of an offset into an evaluated script (heredocs keep their lines). */
function lineOf(attr: Attr, script: string, at: number): number {
  return attr.source.trimStart().startsWith("<<") ? attr.pos.line + 1 + (script.slice(0, at).match(/\n/g)?.length ?? 0) : attr.pos.line;
}

function text({ value }: RuleContext, a: Attr | undefined): string | undefined {
  const v = value(a);
  return v && v.isKnown && !v.isNull && v.type.kind !== "object" ? convert(v.unmarkDeep(), STRING).asString() : undefined;
}

const truthy = (ctx: RuleContext, r: ResourceConfig, name: string) => {
  const v = ctx.value(r.attrs[name]);
  return !!v && v.isKnown && v.type.kind === "bool" && v.asBool();
};

export const startupBlocks: Rule = {
  id: "coder/startup-blocks",
  title: "Startup scripts do not run a server in the foreground",
  severity: "warning",
  description: "A known long-running server (`code-server`, `jupyter lab`, `python -m http.server`, `filebrowser`, `ttyd`, …) started in the foreground of a coder_agent `startup_script` or a `run_on_start` coder_script — without `&`, `nohup … &` or a service.",
  why: "Coder's agent waits for every start script to exit before the agent is `ready`. A server in the foreground never exits: the agent stays `starting` (or ends `start_timeout`), the dashboard shows the workspace as still starting, and when the script blocks login (`start_blocks_login`, `startup_script_behavior = \"blocking\"`) nobody can connect at all.",
  fix: "Start the server in the background with its output in a file (`code-server --auth none --port 13337 >/tmp/code-server.log 2>&1 &`), or as a systemd unit.",
  example: {
    bad: `resource "coder_script" "code_server" {
  agent_id     = coder_agent.main.id
  display_name = "code-server"
  run_on_start = true
  script       = "code-server --auth none --port 13337"
}`,
    good: `resource "coder_script" "code_server" {
  agent_id     = coder_agent.main.id
  display_name = "code-server"
  run_on_start = true
  script       = "code-server --auth none --port 13337 >/tmp/code-server.log 2>&1 &"
}`,
  },
  check(ctx) {
    const out: RuleFinding[] = [];
    const report = (r: ResourceConfig, attr: Attr, blocking: boolean) => {
      const script = text(ctx, attr);
      if (script === undefined) return;
      for (const b of foregroundDaemons(script)) {
        out.push({
          file: attr.file,
          line: lineOf(attr, script, b.at),
          severity: blocking ? "error" : "warning",
          message: `${r.address}.${attr.name} runs ${b.daemon} in the foreground (\`${b.command.slice(0, 100)}\`): the script never exits, so the agent stays "starting"${blocking ? " and users cannot log in (the script blocks login)" : ""}`,
          hint: `start it in the background with its output in a file: \`${b.command.split("\n")[0].replace(/\s*[;&]*\s*$/, "").slice(0, 80)} >/tmp/${b.daemon.split(" ")[0].replace(/[^a-z-]/g, "")}.log 2>&1 &\`, or as a systemd unit`,
        });
      }
    };
    for (const r of ctx.plan.config.resources.filter((x) => x.mode === "managed")) {
      if (r.type === "coder_agent" && r.attrs.startup_script) {
        const behavior = text(ctx, r.attrs.startup_script_behavior);
        const loginBeforeReady = ctx.value(r.attrs.login_before_ready);
        const blocking = behavior === "blocking" || (!!loginBeforeReady && loginBeforeReady.isKnown && loginBeforeReady.type.kind === "bool" && !loginBeforeReady.asBool());
        report(r, r.attrs.startup_script, blocking);
      }
      if (r.type === "coder_script" && r.attrs.script && truthy(ctx, r, "run_on_start")) report(r, r.attrs.script, truthy(ctx, r, "start_blocks_login"));
    }
    return out;
  },
};
