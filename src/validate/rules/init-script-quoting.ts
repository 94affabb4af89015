import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentStart, initScriptMarker, startLocation } from "../../plan/agent-starts.js";
import type { PlannedInstance } from "../../plan/plan.js";
import { quotingAt, type Quoting } from "../../machine/shell.js";
import type { Attr, BlockConfig } from "../../template/config.js";
import type { Rule, RuleFinding } from "../rule.js";

/** What each quoting does to a pasted init script. */
const BREAKS: Partial<Record<Quoting, string>> = {
  single: "inside single quotes: it works only while Coder's bootstrap holds no `'` — the first one would end the string (the bootstrap once gained an apostrophe and every such template stopped starting its agents)",
  double: 'inside double quotes: the shell expands its `$VARIABLES` and `$(…)` and its first `"` ends the string before the script runs',
  backquote: "inside backquotes: the shell runs and expands it as a command substitution",
  heredoc: "inside an unquoted heredoc: the shell expands its `$VARIABLES`, `$(…)` and backquotes while writing the file",
};

const FIX = "write the init script base64-encoded and run the file: cloud-config `write_files` with `encoding: b64` and `content: ${base64encode(coder_agent.<name>.init_script)}` (as `provisioner init` scaffolds), or `echo ${base64encode(…)} | base64 -d > /opt/coder/init`, then `sudo -u coder /opt/coder/init`";

/** The scripts of a boot payload: cloud-init commands, written files, container arguments. */
function scriptsOf(instance: PlannedInstance, userData: ReturnType<Parameters<Rule["check"]>[0]["boot"]>["userData"]): { origin: string; text: string }[] {
  const b = instance.boot;
  if (b.kind === "containers") return b.containers.flatMap((c) => (c.argv.known ? c.argv.value.map((a, i) => ({ origin: `container ${c.name} argument ${i}`, text: a })) : []));
  if (b.kind !== "user-data" || b.windows || !userData) return [];
  return [
    // A list-form command (runcmd `[sh, -c, "…"]`) passes each element as it is: each is its own text.
    ...userData.commands.flatMap((c) => (c.script !== undefined ? [{ origin: c.origin, text: c.script }] : (c.argv ?? []).map((a, i) => ({ origin: `${c.origin}[${i}]`, text: a })))),
    ...userData.files.map((f) => ({ origin: `file ${f.path}`, text: f.content })),
  ];
}

/** `${NAME}` (shell style) and `%{` that is no directive, in files read by templatefile(). */
function templateFileEscapes(dir: string, attrs: Attr[]): RuleFinding[] {
  const out: RuleFinding[] = [];
  // Each file, with the source of the calls that read it (their vars maps name the template's variables).
  const files = new Map<string, string>();
  for (const a of attrs) {
    for (const m of a.source.matchAll(/templatefile\(\s*"(?:\$\{path\.(?:module|root)\}\/)?([^"$]+)"/g)) {
      const file = m[1].replace(/^\.\//, "");
      files.set(file, (files.get(file) ?? "") + a.source);
    }
  }
  for (const [file, calls] of files) {
    const abs = join(dir, file);
    if (!existsSync(abs)) continue;
    const text = readFileSync(abs, "utf8");
    const lineOf = (i: number) => text.slice(0, i).split("\n").length;
    for (const m of text.matchAll(/(?<!\$)\$\{\s*([A-Z_][A-Z0-9_]*|[#!]?[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+]|%%?|##?|\/)[^}]*)\s*\}/g)) {
      if (/^[A-Z_][A-Z0-9_]*$/.test(m[1]) && new RegExp(`\\b${m[1]}\\s*[=:]`).test(calls)) continue;
      out.push({
        file,
        line: lineOf(m.index ?? 0),
        message: `${file} is read by templatefile(), which takes \`${m[0]}\` as a Terraform interpolation, not the shell's: the build fails ("vars map does not contain key") or the shell gets Terraform's value`,
        hint: `write \`$${m[0]}\` for the shell (\`$\${\` is templatefile's escape)`,
      });
    }
    for (const m of text.matchAll(/(?<!%)%\{(?!~?\s*(?:if|for|else|endif|endfor)\b)/g)) {
      out.push({
        file,
        line: lineOf(m.index ?? 0),
        message: `${file} is read by templatefile(), which takes \`%{\` as the start of a template directive: the build fails ("Invalid template control keyword")`,
        hint: "write `%%{` for a literal `%{` (e.g. curl -w '%%{http_code}')",
      });
    }
  }
  return out;
}

export const initScriptQuoting: Rule = {
  id: "coder/init-script-quoting",
  title: "The init script is never pasted into a quoted shell string",
  severity: "error",
  description:
    "An agent's init_script interpolated inside single quotes (`sh -c '${coder_agent.main.init_script}'`: a warning, as today's bootstrap holds no `'`), double quotes, backquotes or an unquoted heredoc of a shell command (errors: they expand the bootstrap's `$VAR`s and `$(…)` now), and `${NAME}`/`%{` meant for the shell in a file read by templatefile() (errors).",
  why: "The init script is Coder's bootstrap: its text changes with Coder releases. Pasted into a quoted string, it works only while it happens to contain none of the quote's special characters — 21 template files in 6 public repositories (Coder's own aws-linux and gcp-linux among them) use `sh -c '${…init_script}'`, and every one of them stopped starting agents the day Coder's bootstrap gained an apostrophe. In a templatefile(), `${HOME}` or `%{` written for the shell is Terraform's syntax and fails the build.",
  fix: "Write the init script to a file base64-encoded and run that file (cloud-config `write_files` with `encoding: b64`, the pattern `provisioner init` scaffolds; or `echo ${base64encode(…)} | base64 -d > /opt/coder/init`); escape shell syntax in template files as `$${HOME}` and `%%{`. `provisioner e2e --fuzz-bootstrap` proves a template survives quotes, `$`, backquotes and `%{` in the bootstrap.",
  example: {
    bad: `user_data = <<-EOT
  #!/bin/bash
  sudo -u coder sh -c '\${coder_agent.main.init_script}'
EOT`,
    good: `user_data = <<-EOT
  #!/bin/bash
  echo "\${base64encode(coder_agent.main.init_script)}" | base64 -d > /opt/coder/init
  chmod 0755 /opt/coder/init
  sudo -u coder /opt/coder/init
EOT`,
  },
  check({ plan, boot, dir }) {
    const out: RuleFinding[] = [];
    const seen = new Set<string>();
    for (const instance of plan.instances) {
      const agents = instance.agents.filter((a) => a.count > 0);
      if (agents.length === 0) continue;
      const scripts = scriptsOf(instance, instance.boot.kind === "user-data" ? boot(instance).userData : undefined);
      for (const agent of agents) {
        const marker = initScriptMarker(agent.name);
        for (const s of scripts) {
          const at = s.text.indexOf(marker);
          if (at < 0) continue;
          const shebang = s.text.lastIndexOf("#!/usr/bin/env sh", at);
          const start = shebang >= 0 ? shebang : at;
          const quoting = quotingAt(s.text, start);
          const why = BREAKS[quoting];
          if (!why) continue;
          // The text that opens the quote: the start of the line, or the line before (a heredoc's).
          const lineStart = s.text.lastIndexOf("\n", start - 1) + 1;
          const before = s.text.slice(0, lineStart).trimEnd();
          const command = s.text.slice(lineStart, start).trim() || before.slice(before.lastIndexOf("\n") + 1).trim();
          const where: AgentStart = { origin: s.origin, command, dropped: [], user: "root" };
          const loc = startLocation(instance, where, dir);
          const key = `${agent.name}:${loc.file}:${loc.line}:${quoting}`;
          if (seen.has(key)) continue;
          seen.add(key);
          // Single quotes hold today's bootstrap (it has no `'`): fragile, not broken. The other quotings
          // expand its `$VAR`s and `$(…)` now.
          out.push({ ...loc, ...(quoting === "single" ? { severity: "warning" as const } : {}), message: `agent "${agent.name}"'s init_script is pasted ${why} (${s.origin}: \`${command.slice(0, 80)}\`)`, hint: FIX });
        }
      }
    }
    const attrs: Attr[] = [...Object.values(plan.config.locals)];
    const walk = (blocks: BlockConfig[]) => blocks.forEach((b) => (attrs.push(...Object.values(b.attrs)), walk(b.blocks)));
    for (const r of plan.config.resources) {
      attrs.push(...Object.values(r.attrs));
      walk(r.blocks);
    }
    out.push(...templateFileEscapes(dir, attrs));
    return out;
  },
};
