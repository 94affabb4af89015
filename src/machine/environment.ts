/**
 * What a real Linux machine (Debian/Ubuntu: sudo 1.9 with `env_reset`, util-linux su and runuser,
 * coreutils env) does to the environment of a command it runs for another user. The e2e sandbox's
 * shims run commands with these rules and `validate` reads scripts with them, so both agree with the
 * machine; test/fixtures/machine/environment.json holds what the real tools did (differential test).
 */

export type Env = Record<string, string>;

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export type UserLookup = (name: string) => UserEntry | undefined;

/** The caller of the wrappers in the sandbox and on a cloud VM's first boot: root. */
export const ROOT: UserEntry = { name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/bash" };

/** sudo's secure_path on Debian and Ubuntu. */
export const SUDO_SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** ENV_PATH and ENV_SUPATH of /etc/login.defs (login environments of su -, runuser -l). */
export const LOGIN_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games";
export const LOGIN_SUPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** systemd's default PATH for services. */
export const SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Variables sudo keeps under env_reset (`sudo -V`: env_keep plus the checked locale variables). */
const SUDO_KEEP = new Set(["COLORS", "DISPLAY", "HOSTNAME", "KRB5CCNAME", "LS_COLORS", "PATH", "PS1", "PS2", "XAUTHORITY", "XAUTHORIZATION", "XDG_CURRENT_DESKTOP", "DPKG_COLORS", "COLORTERM", "LANG", "LANGUAGE", "LINGUAS", "TERM", "TZ"]);
const keptBySudo = (k: string) => SUDO_KEEP.has(k) || k.startsWith("LC_");

/** A command a wrapper runs: its argv (or a shell script for `-c`), the user and the environment. */
export interface WrappedCommand {
  argv: string[];
  user: UserEntry;
  env: Env;
  /** The wrapper runs the command through the user's shell with `-c` (su, runuser -l, sudo -i/-s). */
  viaShell: boolean;
  cwd?: string;
}

export class WrapperError extends Error {}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

function needUser(users: UserLookup, name: string): UserEntry {
  const u = users(name) ?? (/^#?\d+$/.test(name) ? { name, uid: Number(name.replace("#", "")), gid: Number(name.replace("#", "")), home: "/", shell: "/bin/sh" } : undefined);
  if (!u) throw new WrapperError(`unknown user ${name}`);
  return u;
}

/** `sudo [options] [VAR=value...] command [args...]`. */
export function sudo(args: string[], env: Env, users: UserLookup, resolve: (command: string) => string, caller: UserEntry = ROOT): WrappedCommand {
  let target = "root";
  let preserveAll = false;
  const preserve = new Set<string>();
  let login = false;
  let shell = false;
  let i = 0;
  const value = (opt: string): string => {
    if (i + 1 >= args.length) throw new WrapperError(`sudo: option requires an argument -- '${opt}'`);
    return args[++i];
  };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    if (a.startsWith("--")) {
      const [name, v] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
      if (name === "--user") target = v ?? value("user");
      else if (name === "--preserve-env") {
        if (v === undefined) preserveAll = true;
        else v.split(",").forEach((x) => preserve.add(x));
      } else if (name === "--login") login = true;
      else if (name === "--shell") shell = true;
      else if (["--group", "--chdir", "--prompt", "--close-from", "--host", "--role", "--type", "--command-timeout", "--other-user"].includes(name) && v === undefined) i++;
      continue;
    }
    // Clustered short options: -Eu coder, -iu coder, -u coder, -ucoder.
    for (let k = 1; k < a.length; k++) {
      const o = a[k];
      if ("ugCDhprtTUg".includes(o)) {
        const rest = a.slice(k + 1);
        const v = rest !== "" ? rest : value(o);
        if (o === "u") target = v;
        break;
      }
      if (o === "E") preserveAll = true;
      else if (o === "i") login = true;
      else if (o === "s") shell = true;
    }
  }
  const assignments: Env = {};
  for (; i < args.length && ASSIGNMENT.test(args[i]); i++) {
    const eq = args[i].indexOf("=");
    assignments[args[i].slice(0, eq)] = args[i].slice(eq + 1);
  }
  const cmd = args.slice(i);
  const user = needUser(users, target);
  const out: Env = {};
  if (preserveAll) Object.assign(out, env);
  else {
    for (const [k, v] of Object.entries(env)) if (keptBySudo(k) || preserve.has(k)) out[k] = v;
    out.HOME = user.home;
    out.MAIL = `/var/mail/${user.name}`;
    out.SHELL = user.shell;
  }
  out.LOGNAME = user.name;
  out.USER = user.name;
  out.PATH = SUDO_SECURE_PATH;
  out.TERM ??= "unknown";
  out.SUDO_USER = caller.name;
  out.SUDO_UID = String(caller.uid);
  out.SUDO_GID = String(caller.gid);
  if (cmd.length > 0) out.SUDO_COMMAND = [resolve(cmd[0]), ...cmd.slice(1)].join(" ");
  if (login) {
    // sudo -i: the target's login shell, its home, a login environment (like su -).
    const le = loginEnv(user, env, user.shell, false);
    Object.assign(le, assignments, { SUDO_USER: caller.name, SUDO_UID: String(caller.uid), SUDO_GID: String(caller.gid) });
    return { argv: cmd.length > 0 ? [user.shell, "-c", cmd.join(" ")] : [user.shell, "-l"], user, env: le, viaShell: true, cwd: user.home };
  }
  Object.assign(out, assignments);
  if (shell) return { argv: cmd.length > 0 ? [out.SHELL ?? user.shell, "-c", cmd.join(" ")] : [out.SHELL ?? user.shell], user, env: out, viaShell: true };
  if (cmd.length === 0) throw new WrapperError("sudo: no command given");
  return { argv: cmd, user, env: out, viaShell: false };
}

/** The clean environment of a login shell (su -, runuser -l, sudo -i). */
function loginEnv(user: UserEntry, env: Env, shell: string, runuser: boolean): Env {
  const out: Env = {};
  if (env.TERM !== undefined) out.TERM = env.TERM;
  out.HOME = user.home;
  out.SHELL = shell;
  out.USER = user.name;
  out.LOGNAME = user.name;
  out.PATH = user.uid === 0 ? LOGIN_SUPATH : LOGIN_PATH;
  if (!runuser) out.MAIL = `/var/mail/${user.name}`;
  return out;
}

/**
 * util-linux `su` and `runuser`: `su [-|-l|--login] [-m|-p] [-s shell] [-c command] [user]`,
 * `runuser -u user [--] command…`.
 */
export function su(args: string[], env: Env, users: UserLookup, runuser = false): WrappedCommand {
  let login = false;
  let preserve = false;
  let shellOpt: string | undefined;
  let command: string | undefined;
  let target: string | undefined;
  let direct: string[] | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-" || a === "-l" || a === "--login") login = true;
    else if (a === "-m" || a === "-p" || a === "--preserve-environment") preserve = true;
    else if (a === "-s" || a === "--shell") shellOpt = args[++i];
    else if (a.startsWith("--shell=")) shellOpt = a.slice(8);
    else if (a === "-c" || a === "--command") command = args[++i];
    else if (a.startsWith("--command=")) command = a.slice(10);
    else if (runuser && a === "-u") {
      target = args[++i];
      const dd = args.indexOf("--", i + 1);
      direct = dd >= 0 ? args.slice(dd + 1) : args.slice(i + 1);
      break;
    } else if (a === "-g" || a === "-G" || a === "--group" || a === "--supp-group" || a === "-w" || a === "--whitelist-environment") i++;
    else if (a.startsWith("-") && a.length > 1) continue;
    else rest.push(a);
  }
  target ??= rest.shift() ?? "root";
  const user = needUser(users, target);
  if (direct) {
    // runuser -u: no shell; HOME, SHELL, USER and LOGNAME set (SHELL kept when given), the rest kept.
    const out: Env = { ...env, HOME: user.home, USER: user.name, LOGNAME: user.name };
    if (out.SHELL === undefined) out.SHELL = user.shell;
    if (direct.length === 0) throw new WrapperError("runuser: no command was specified");
    return { argv: direct, user, env: out, viaShell: false };
  }
  const shell = shellOpt ?? user.shell;
  let out: Env;
  if (login) out = loginEnv(user, env, shell, runuser);
  else if (preserve) {
    out = { ...env };
    if (!runuser) out.MAIL = `/var/mail/${user.name}`;
  } else {
    out = { ...env, HOME: user.home, SHELL: shell, USER: user.name, LOGNAME: user.name };
    if (!runuser) out.MAIL = `/var/mail/${user.name}`;
  }
  const argv = command !== undefined ? [shell, "-c", command, ...rest] : [shell, ...(login ? ["-l"] : [])];
  return { argv, user, env: out, viaShell: true, cwd: login ? user.home : undefined };
}

/** coreutils `env [-i] [-u NAME]... [NAME=VALUE]... [command]`. */
export function envCommand(args: string[], env: Env): { argv: string[]; env: Env } {
  let out: Env = { ...env };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "-i" || a === "-" || a === "--ignore-environment") out = {};
    else if (a === "-u" || a === "--unset") delete out[args[++i]];
    else if (a.startsWith("--unset=")) delete out[a.slice(8)];
    else if (a === "--") {
      i++;
      break;
    } else if (a.startsWith("-") && !ASSIGNMENT.test(a)) continue;
    else break;
  }
  for (; i < args.length && ASSIGNMENT.test(args[i]); i++) {
    const eq = args[i].indexOf("=");
    out[args[i].slice(0, eq)] = args[i].slice(eq + 1);
  }
  return { argv: args.slice(i), env: out };
}

/** Reads /etc/passwd text into a lookup. */
export function passwdLookup(text: string): UserLookup {
  const users = new Map<string, UserEntry>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7) continue;
    users.set(f[0], { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] || "/bin/sh" });
  }
  return (name) => users.get(name) ?? [...users.values()].find((u) => String(u.uid) === name);
}
