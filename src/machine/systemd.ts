/**
 * systemd unit files as systemd reads them (the parts a service's start depends on): ExecStart,
 * ExecStartPre, User, Group, Environment, EnvironmentFile, WorkingDirectory, Restart, RestartSec.
 */

export interface ServiceUnit {
  name: string;
  execStart: string[];
  execStartPre: string[];
  user?: string;
  group?: string;
  /** Environment= assignments in order (later ones win). */
  environment: Record<string, string>;
  /** EnvironmentFile= paths; `optional` for the "-" prefix. */
  environmentFiles: { path: string; optional: boolean }[];
  workingDirectory?: string;
  restart: "no" | "always" | "on-failure" | "on-abnormal" | "on-abort" | "on-success" | "on-watchdog";
  restartSec: number;
  type: string;
  wantedBy: string[];
}

/** The environment systemd gives a service before its own Environment= settings. */
export const SYSTEMD_ENV: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/** Splits a line into words the way systemd does (double/single quotes, backslash escapes). */
export function splitQuoted(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      const close = s.indexOf(c, i + 1);
      const end = close < 0 ? s.length : close;
      cur += s.slice(i + 1, end).replace(/\\(.)/g, "$1");
      inWord = true;
      i = end;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Who runs the service manager: root for the system instance, the user for `systemctl --user`. */
export interface UnitManager {
  user: string;
  uid: number;
  home: string;
}

export const SYSTEM_MANAGER: UnitManager = { user: "root", uid: 0, home: "/root" };

/**
 * systemd's specifiers in unit settings: %h/%u/%U are the *manager's* user (root for system units,
 * whatever User= says), %n/%N/%p/%i the unit's name, %t the runtime directory, %% a percent sign.
 */
export function expandSpecifiers(value: string, unitName: string, m: UnitManager): string {
  const base = unitName.replace(/\.[^.]+$/, "");
  const at = base.indexOf("@");
  const table: Record<string, string> = {
    h: m.home,
    u: m.user,
    U: String(m.uid),
    n: unitName,
    N: base,
    p: at >= 0 ? base.slice(0, at) : base,
    i: at >= 0 ? base.slice(at + 1) : "",
    t: m.uid === 0 ? "/run" : `/run/user/${m.uid}`,
    S: m.uid === 0 ? "/var/lib" : `${m.home}/.local/state`,
    C: m.uid === 0 ? "/var/cache" : `${m.home}/.cache`,
    E: m.uid === 0 ? "/etc" : `${m.home}/.config`,
    "%": "%",
  };
  return value.replace(/%(.)/g, (all, c: string) => table[c] ?? all);
}

/** Parses a unit file's text (specifiers expanded for the manager that runs it). */
export function parseUnit(name: string, text: string, manager: UnitManager = SYSTEM_MANAGER): ServiceUnit {
  const unit: ServiceUnit = { name, execStart: [], execStartPre: [], environment: {}, environmentFiles: [], restart: "no", restartSec: 0.1, type: "simple", wantedBy: [] };
  let section = "";
  // Backslash-newline continues a line.
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = expandSpecifiers(line.slice(eq + 1).trim(), name, manager);
    if (section === "Service") {
      switch (key) {
        case "ExecStart":
          // An empty assignment resets the list (drop-ins use it).
          if (value === "") unit.execStart = [];
          else unit.execStart.push(value);
          break;
        case "ExecStartPre":
          if (value === "") unit.execStartPre = [];
          else unit.execStartPre.push(value);
          break;
        case "User":
          unit.user = value;
          break;
        case "Group":
          unit.group = value;
          break;
        case "Environment":
          for (const assignment of splitQuoted(value)) {
            const e = assignment.indexOf("=");
            if (e > 0) unit.environment[assignment.slice(0, e)] = assignment.slice(e + 1);
          }
          break;
        case "EnvironmentFile":
          unit.environmentFiles.push({ path: value.replace(/^-/, ""), optional: value.startsWith("-") });
          break;
        case "WorkingDirectory":
          unit.workingDirectory = value.replace(/^-/, "");
          break;
        case "Restart":
          unit.restart = value as ServiceUnit["restart"];
          break;
        case "RestartSec":
          unit.restartSec = parseSeconds(value);
          break;
        case "Type":
          unit.type = value;
          break;
      }
    } else if (section === "Install" && key === "WantedBy") unit.wantedBy.push(...value.split(/\s+/));
  }
  return unit;
}

/** systemd time spans: "5", "5s", "500ms", "1min 30s". */
export function parseSeconds(v: string): number {
  let total = 0;
  let matched = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)\s*(ms|us|s|sec|m|min|h|hr)?/g)) {
    matched = true;
    const n = Number(m[1]);
    const unit = m[2] ?? "s";
    total += unit === "ms" ? n / 1000 : unit === "us" ? n / 1e6 : unit === "m" || unit === "min" ? n * 60 : unit === "h" || unit === "hr" ? n * 3600 : n;
  }
  return matched ? total : 0.1;
}

/** EnvironmentFile= content: KEY=value lines, quotes removed, comments skipped. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** systemd's ExecStart= prefixes: "-" (failure ignored), "@", "+", "!", "!!", ":". */
export function execCommand(line: string): { argv: string[]; ignoreFailure: boolean } {
  const m = /^([-@+!:]*)/.exec(line)!;
  const argv = splitQuoted(line.slice(m[0].length));
  if (m[0].includes("@")) argv.splice(1, 1);
  return { argv, ignoreFailure: m[0].includes("-") };
}
