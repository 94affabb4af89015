/**
 * The tools the e2e sandbox puts in place of the machine's own (run inside the sandbox, as
 * `node shim.js TOOL ARGS…`): sudo, su and runuser with the real environment rules; systemctl that
 * runs units as systemd would; account tools that edit the sandbox's /etc; network tools that pass
 * loopback through and refuse the rest; everything that would change a machine only logs.
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { Accounts } from "./accounts.js";
import { createConnection, createServer } from "node:net";
import { delimiter, join } from "node:path";
import { envCommand, passwdLookup, ROOT, su, sudo, SYSTEMD_PATH, type Env, WrapperError } from "./environment.js";
import { shellQuote } from "./shell.js";
import { execCommand, parseEnvironmentFile, parseUnit, SYSTEM_MANAGER } from "./systemd.js";

const LOG = "/var/log/provisioner/shims.log";
const UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"];

function log(line: string): void {
  try {
    mkdirSync("/var/log/provisioner", { recursive: true });
    appendFileSync(LOG, `${new Date().toISOString()} ${line}\n`);
  } catch {
    // logging never breaks the tool
  }
}


function users() {
  return passwdLookup(existsSync("/etc/passwd") ? readFileSync("/etc/passwd", "utf8") : "");
}

/** The command's path as the wrapper's PATH finds it. */
function which(cmd: string, path: string): string {
  if (cmd.includes("/")) return cmd;
  for (const dir of path.split(delimiter)) {
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return cmd;
}

/**
 * sudo/su/runuser print the shell line that runs the command (the sh shim evals it and execs), so
 * no Node process stays behind as the command's parent.
 */
function wrapperPlan(tool: string, args: string[]): string {
  const env = process.env as Env;
  const lookup = users();
  const w = tool === "sudo" ? sudo(args, env, lookup, (c) => which(c, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")) : su(args, env, lookup, tool === "runuser");
  log(`${tool} ${args.join(" ")} → as ${w.user.name}: ${w.argv.join(" ")}`);
  const cwd = w.cwd && existsSync(w.cwd) ? `cd ${shellQuote(w.cwd)} && ` : "";
  const assignments = Object.entries(w.env).map(([k, v]) => shellQuote(`${k}=${v}`));
  // In the sandbox every user is the same uid: the user shows in HOME, USER and LOGNAME, as on the machine.
  return `${cwd}exec /usr/bin/env -i ${assignments.join(" ")} ${w.argv.map(shellQuote).join(" ")}`;
}

// ---- accounts -----------------------------------------------------------------------------------

const accounts = new Accounts("/");

function useradd(args: string[], debianAdduser: boolean): number {
  let home: string | undefined;
  let shell: string | undefined;
  let uid: number | undefined;
  let createHome = debianAdduser;
  let system = false;
  const groups: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-m" || a === "--create-home") createHome = true;
    else if (a === "-M" || a === "--no-create-home") createHome = false;
    else if (a === "-r" || a === "--system") system = true;
    else if (a === "-d" || a === "--home-dir" || a === "--home") home = args[++i];
    else if (a === "-s" || a === "--shell") shell = args[++i];
    else if (a === "-u" || a === "--uid") uid = Number(args[++i]);
    else if (a === "-G" || a === "--groups") groups.push(...args[++i].split(","));
    else if (a === "-g" || a === "--gid" || a === "-c" || a === "--comment" || a === "--gecos" || a === "-p" || a === "--password" || a === "-e" || a === "-f" || a === "-k" || a === "--ingroup") i++;
    else if (a.startsWith("-")) continue;
    else name = a;
  }
  if (!name) {
    log(`useradd ${args.join(" ")}: no user name`);
    return 2;
  }
  if (accounts.lookup(name)) {
    process.stderr.write(`useradd: user '${name}' already exists\n`);
    return 9;
  }
  accounts.addUser(name, { home, shell, uid, groups, createHome, system });
  log(`useradd ${args.join(" ")}`);
  return 0;
}

function usermod(args: string[]): number {
  const name = args[args.length - 1];
  const gi = args.findIndex((a) => a === "-G" || a === "--groups" || a === "-aG");
  if (gi >= 0 && accounts.lookup(name)) accounts.addToGroups(name, args[gi + 1].split(","));
  log(`usermod ${args.join(" ")}`);
  return 0;
}

// ---- systemd ------------------------------------------------------------------------------------

function findUnit(name: string, userMode: boolean): string | undefined {
  const file = name.includes(".") ? name : `${name}.service`;
  const dirs = userMode ? [join(process.env.HOME ?? "/root", ".config/systemd/user"), "/etc/systemd/user", "/usr/lib/systemd/user"] : UNIT_DIRS;
  for (const d of dirs) if (existsSync(join(d, file))) return join(d, file);
  return undefined;
}

/** `systemctl enable`: a link to the unit in each of its WantedBy= targets' .wants directory. */
function enableUnit(path: string, userMode: boolean): void {
  const unit = parseUnit(path.split("/").pop()!, readFileSync(path, "utf8"));
  const base = userMode ? join(process.env.HOME ?? "/root", ".config/systemd/user") : "/etc/systemd/system";
  for (const target of unit.wantedBy) {
    const dir = join(base, `${target}.wants`);
    mkdirSync(dir, { recursive: true });
    const link = join(dir, unit.name);
    if (!existsSync(link)) symlinkSync(path, link);
    log(`systemctl: enabled ${unit.name} (${link})`);
  }
}

/** Starts a unit as systemd would: a supervisor that runs ExecStartPre, ExecStart as User=, restarting per Restart=. */
function startUnit(path: string, userMode: boolean): number {
  const me = userMode ? users()(process.env.USER ?? "root") : undefined;
  const unit = parseUnit(path.split("/").pop()!, readFileSync(path, "utf8"), me ? { user: me.name, uid: me.uid, home: me.home } : SYSTEM_MANAGER);
  if (unit.execStart.length === 0) {
    process.stderr.write(`Failed to start ${unit.name}: Unit ${unit.name} has no ExecStart= setting.\n`);
    return 1;
  }
  const lookup = users();
  const user = (unit.user ? lookup(unit.user) : undefined) ?? (userMode ? lookup(process.env.USER ?? "root") : undefined) ?? ROOT;
  if (unit.user && !lookup(unit.user)) {
    process.stderr.write(`Failed to start ${unit.name}: user ${unit.user} does not exist\n`);
    log(`systemctl start ${unit.name}: User=${unit.user} does not exist`);
    return 1;
  }
  const env: Env = { PATH: SYSTEMD_PATH, LANG: "C.UTF-8", HOME: user.home, USER: user.name, LOGNAME: user.name, SHELL: user.shell, INVOCATION_ID: "provisioner", ...unit.environment };
  for (const f of unit.environmentFiles) {
    if (existsSync(f.path)) Object.assign(env, parseEnvironmentFile(readFileSync(f.path, "utf8")));
    else if (!f.optional) {
      process.stderr.write(`Failed to start ${unit.name}: EnvironmentFile ${f.path} not found\n`);
      log(`systemctl start ${unit.name}: EnvironmentFile=${f.path} is missing`);
      return 1;
    }
  }
  const cwd = unit.workingDirectory === "~" ? user.home : (unit.workingDirectory ?? (userMode ? user.home : "/"));
  const runDir = "/run/provisioner/units";
  mkdirSync(runDir, { recursive: true });
  const script = [
    "#!/bin/sh",
    `# supervisor of ${unit.name} (Restart=${unit.restart})`,
    `cd ${shellQuote(cwd)} || exit 200`,
    ...unit.execStartPre.map((l) => {
      const c = execCommand(l);
      return `/usr/bin/env -i ${Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${c.argv.map(shellQuote).join(" ")}${c.ignoreFailure ? " || true" : " || exit $?"}`;
    }),
    "while :; do",
    `  /usr/bin/env -i ${Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${execCommand(unit.execStart[unit.execStart.length - 1]).argv.map(shellQuote).join(" ")}`,
    "  code=$?",
    `  echo "${unit.name}: main process exited, code=$code" >&2`,
    unit.restart === "always"
      ? "  :"
      : unit.restart === "on-failure" || unit.restart === "on-abnormal" || unit.restart === "on-abort"
        ? '  [ "$code" -eq 0 ] && exit 0'
        : unit.restart === "on-success"
          ? '  [ "$code" -ne 0 ] && exit "$code"'
          : '  exit "$code"',
    `  sleep ${unit.restartSec}`,
    "done",
    "",
  ].join("\n");
  const file = join(runDir, `${unit.name}.sh`);
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  const logFile = `/var/log/provisioner/units/${unit.name}.log`;
  mkdirSync("/var/log/provisioner/units", { recursive: true });
  const fd = openSync(logFile, "a");
  const child = spawn("/bin/sh", [file], { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  closeSync(fd);
  writeFileSync(join(runDir, `${unit.name}.pid`), String(child.pid));
  log(`systemctl: started ${unit.name} as ${user.name}: ${unit.execStart[unit.execStart.length - 1]} (log ${logFile})`);
  return 0;
}

function systemctl(args: string[]): number {
  const userMode = args.includes("--user");
  const words = args.filter((a) => !a.startsWith("-"));
  const now = args.includes("--now");
  const [verb, ...units] = words;
  log(`systemctl ${args.join(" ")}`);
  switch (verb) {
    case "start":
    case "restart":
    case "reload-or-restart":
    case "try-restart":
    case "enable":
    case "reenable": {
      let code = 0;
      for (const u of units) {
        const path = findUnit(u, userMode);
        // enable links the unit into its WantedBy= targets, as systemd does: it starts at every boot.
        if (path && (verb === "enable" || verb === "reenable")) enableUnit(path, userMode);
        if ((verb === "enable" || verb === "reenable") && !now && path) continue;
        if (!path) {
          if (verb === "enable" || verb === "reenable") {
            process.stderr.write(`Failed to enable unit: Unit file ${u}${u.includes(".") ? "" : ".service"} does not exist.\n`);
          } else process.stderr.write(`Failed to start ${u}${u.includes(".") ? "" : ".service"}: Unit ${u}${u.includes(".") ? "" : ".service"} not found.\n`);
          code = verb === "enable" ? 1 : 5;
          continue;
        }
        const pidFile = `/run/provisioner/units/${path.split("/").pop()}.pid`;
        if (verb.includes("start") || !existsSync(pidFile)) code = startUnit(path, userMode) || code;
      }
      return code;
    }
    case "is-active":
      return units.every((u) => existsSync(`/run/provisioner/units/${u.includes(".") ? u : `${u}.service`}.pid`)) ? 0 : 3;
    default:
      // daemon-reload, stop, disable, status, mask, … change nothing the run depends on.
      return 0;
  }
}

// ---- syslog -------------------------------------------------------------------------------------

/**
 * logger(1): the message (its arguments, else every line of stdin, read to the end as the real one
 * does) goes to the machine's log, and to stderr with -s. Reading all of stdin matters: boot scripts
 * pipe their whole output through `tee | logger`, and a logger that quit early would SIGPIPE them.
 */
function logger(args: string[]): number {
  let tag = process.env.USER ?? "root";
  let toStderr = false;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-t" || a === "--tag") tag = args[++i] ?? tag;
    else if (a === "-s" || a === "--stderr") toStderr = true;
    else if (["-p", "--priority", "-f", "--file", "-n", "--server", "-P", "--port", "-u", "--socket", "--id"].includes(a)) i++;
    else if (a === "--") {
      words.push(...args.slice(i + 1));
      break;
    } else if (!a.startsWith("-")) words.push(a);
  }
  const emit = (line: string) => {
    const entry = `${new Date().toISOString()} ${tag}: ${line}\n`;
    try {
      appendFileSync("/var/log/syslog", entry);
    } catch {
      // no log directory: the message is only printed
    }
    if (toStderr) process.stderr.write(`<13>${new Date().toUTCString().slice(5, 25)} ${tag}: ${line}\n`);
  };
  if (words.length > 0) {
    emit(words.join(" "));
    return 0;
  }
  const chunk = Buffer.alloc(65536);
  let rest = "";
  for (;;) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") continue;
      break;
    }
    if (n === 0) break;
    const lines = (rest + chunk.subarray(0, n).toString("utf8")).split("\n");
    rest = lines.pop()!;
    lines.forEach(emit);
  }
  if (rest !== "") emit(rest);
  return 0;
}

// ---- network ------------------------------------------------------------------------------------

const LOOPBACK = /^(localhost|127(?:\.\d+){3}|\[?::1\]?|host\.docker\.internal)$/i;

/** curl/wget: loopback URLs go to the real tool; any other host is a machine without network. */
function network(tool: string, args: string[]): number {
  const urls = args.filter((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a));
  const external = urls.filter((u) => {
    try {
      return !LOOPBACK.test(new URL(u).hostname);
    } catch {
      return true;
    }
  });
  if (external.length === 0) {
    const r = spawnSync(`/usr/bin/${tool}`, args, { stdio: "inherit" });
    return r.status ?? 1;
  }
  log(`${tool}: no network outside loopback in the sandbox, not fetched: ${external.join(" ")}`);
  process.stderr.write(`${tool}: provisioner e2e sandbox: no network outside loopback (${external.join(" ")})\n`);
  return tool === "curl" ? 6 : 4;
}

/**
 * Forwards TCP ports inside the sandbox's network namespace to unix sockets the host serves; creates
 * `readyFile` once every port listens (a machine's network is up before its boot scripts run).
 */
function forward([readyFile, ...specs]: string[]): void {
  let listening = 0;
  const ready = () => {
    if (++listening >= specs.length) writeFileSync(readyFile, "");
  };
  if (specs.length === 0) ready();
  for (const spec of specs) {
    const [listen, socket] = spec.split("=");
    const port = Number(listen.split(":").pop());
    createServer((c) => {
      const u = createConnection(socket);
      c.pipe(u).pipe(c);
      const close = () => {
        c.destroy();
        u.destroy();
      };
      c.on("error", close);
      u.on("error", close);
    }).listen(port, "127.0.0.1", ready);
  }
}

// ---- entry --------------------------------------------------------------------------------------

const LOG_ONLY_OK = new Set(["chown", "chgrp", "chpasswd", "passwd", "groupmod", "userdel", "gpasswd", "hostnamectl", "timedatectl", "localectl", "apt-get", "apt", "yum", "dnf", "apk", "zypper", "snap", "dpkg-reconfigure", "update-alternatives", "cloud-init", "mount", "umount", "swapon", "swapoff", "mkswap", "sysctl", "modprobe", "reboot", "shutdown", "poweroff", "halt", "ufw", "iptables", "setenforce", "fallocate", "growpart", "resize2fs", "xfs_growfs", "tune2fs", "wipefs", "udevadm", "loginctl", "journalctl", "docker", "ssh-keygen", "update-ca-certificates"]);

function main(): number {
  const [tool, ...args] = process.argv.slice(2);
  try {
    switch (tool) {
      case "plan-sudo":
      case "plan-su":
      case "plan-runuser":
        process.stdout.write(wrapperPlan(tool.slice(5), args) + "\n");
        return 0;
      case "systemctl":
        return systemctl(args);
      case "service": {
        const [name, action] = args;
        return systemctl([action === "start" || action === "restart" ? action : "status", name]);
      }
      case "useradd":
        return useradd(args, false);
      case "adduser":
        return useradd(args, true);
      case "usermod":
        return usermod(args);
      case "groupadd":
      case "addgroup":
        accounts.addGroup(args.filter((a) => !a.startsWith("-")).pop() ?? "");
        log(`${tool} ${args.join(" ")}`);
        return 0;
      case "logger":
        return logger(args);
      case "curl":
      case "wget":
        return network(tool, args);
      case "forward":
        forward(args);
        return -1;
      case "env-plan": {
        const r = envCommand(args, process.env as Env);
        process.stdout.write(`exec /usr/bin/env -i ${Object.entries(r.env).map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${r.argv.map(shellQuote).join(" ")}\n`);
        return 0;
      }
      default:
        if (/^mkfs(\.|$)/.test(tool ?? "") || LOG_ONLY_OK.has(tool ?? "")) {
          log(`${tool} ${args.join(" ")} (only logged: the sandbox changes no machine)`);
          return 0;
        }
        process.stderr.write(`provisioner shim: unknown tool ${tool}\n`);
        return 127;
    }
  } catch (err) {
    if (err instanceof WrapperError) {
      process.stderr.write(`${err.message}\n`);
      log(`${tool} ${args.join(" ")}: ${err.message}`);
      // sudo/su print a shell line; make it fail the way the tool would.
      if (tool?.startsWith("plan-")) process.stdout.write("exit 1\n");
      return 1;
    }
    throw err;
  }
}

const code = main();
if (code >= 0) process.exitCode = code;
