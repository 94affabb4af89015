/**
 * A sandbox that behaves like the instance, without touching this machine: each instance gets its
 * own root filesystem (the host's /usr through an overlay, its own /etc, /home, /opt, /var, …) in
 * its own user, mount, PID and network namespaces. Its network has only loopback; the coordinator and
 * the instance's metadata service are forwarded into it on their usual ports through unix sockets.
 * sudo, su, runuser, systemctl, account and package tools are the machine shims (src/machine/shim.ts).
 * When the run ends (or the runner dies), the namespace's processes all end with it.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Accounts } from "../machine/accounts.js";
import { shellQuote as q } from "../machine/shell.js";

/** The package root (bin/, dist/): bound read-only into every sandbox so shims and the agent run. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHIM = join(PACKAGE_ROOT, "dist/machine/shim.js");

/** Tools replaced in the sandbox, by their path under /usr. */
const SHIMMED: Record<string, string> = {
  sudo: "bin/sudo",
  su: "bin/su",
  runuser: "sbin/runuser",
  systemctl: "bin/systemctl",
  service: "sbin/service",
  useradd: "sbin/useradd",
  adduser: "sbin/adduser",
  usermod: "sbin/usermod",
  userdel: "sbin/userdel",
  groupadd: "sbin/groupadd",
  addgroup: "sbin/addgroup",
  groupmod: "sbin/groupmod",
  gpasswd: "bin/gpasswd",
  chpasswd: "sbin/chpasswd",
  passwd: "bin/passwd",
  chown: "bin/chown",
  chgrp: "bin/chgrp",
  curl: "local/bin/curl",
  wget: "local/bin/wget",
  "apt-get": "bin/apt-get",
  apt: "bin/apt",
  yum: "bin/yum",
  dnf: "bin/dnf",
  apk: "sbin/apk",
  snap: "bin/snap",
  "dpkg-reconfigure": "sbin/dpkg-reconfigure",
  "cloud-init": "bin/cloud-init",
  hostnamectl: "bin/hostnamectl",
  timedatectl: "bin/timedatectl",
  loginctl: "bin/loginctl",
  journalctl: "bin/journalctl",
  mount: "bin/mount",
  umount: "bin/umount",
  swapon: "sbin/swapon",
  swapoff: "sbin/swapoff",
  mkswap: "sbin/mkswap",
  mkfs: "sbin/mkfs",
  "mkfs.ext4": "sbin/mkfs.ext4",
  "mkfs.xfs": "sbin/mkfs.xfs",
  wipefs: "sbin/wipefs",
  growpart: "bin/growpart",
  resize2fs: "sbin/resize2fs",
  "xfs_growfs": "sbin/xfs_growfs",
  sysctl: "sbin/sysctl",
  modprobe: "sbin/modprobe",
  reboot: "sbin/reboot",
  shutdown: "sbin/shutdown",
  poweroff: "sbin/poweroff",
  ufw: "sbin/ufw",
  iptables: "sbin/iptables",
  udevadm: "bin/udevadm",
  docker: "bin/docker",
  "update-ca-certificates": "sbin/update-ca-certificates",
  logger: "bin/logger",
};

/** A process and its descendants (host PIDs), from /proc. */
function processTree(root: number): { pid: number; ppid: number; cmdline: string }[] {
  const all: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      all.push({ pid: Number(entry), ppid, cmdline: readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ") });
    } catch {
      // exited while listed
    }
  }
  const out = all.filter((p) => p.pid === root);
  for (let i = 0; i < out.length; i++) out.push(...all.filter((p) => p.ppid === out[i].pid));
  return out;
}

/** Why this machine cannot run the sandbox, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.platform !== "linux") return `e2e runs instances in Linux namespaces; this is ${process.platform}`;
  if (!existsSync(SHIM)) return `the build is missing (${SHIM}): run npm run build`;
  for (const tool of ["unshare", "ip", "chroot"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (util-linux and iproute2 provide it)`;
    }
  }
  try {
    execFileSync("unshare", ["--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "sh", "-c", "ip link set lo up"], { stdio: "pipe" });
  } catch (err) {
    return `user namespaces are not available here (${String((err as { stderr?: Buffer }).stderr ?? err).trim().split("\n")[0]}): enable them (sysctl kernel.unprivileged_userns_clone=1) or run e2e as root`;
  }
  return undefined;
}

/** Serves the host's loopback ports on unix sockets, for the sandboxes' forwarders. */
export class NetworkBridge {
  private readonly servers: Server[] = [];
  readonly sockets = new Map<number, string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async expose(port: number): Promise<string> {
    const existing = this.sockets.get(port);
    if (existing) return existing;
    const path = join(this.dir, `${port}.sock`);
    const server = createServer((c) => {
      const t = createConnection(port, "127.0.0.1");
      c.pipe(t).pipe(c);
      const close = () => {
        c.destroy();
        t.destroy();
      };
      c.on("error", close);
      t.on("error", close);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    this.servers.push(server);
    this.sockets.set(port, path);
    return path;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export interface InstanceRootOptions {
  /** Accounts the image has before boot (besides root and the system users). */
  users: { name: string; uid: number; home: string; shell: string; groups?: string[] }[];
  /** Device paths the template attaches (wait loops find them). */
  devices: string[];
  /** Extra /etc/hosts names (docker `host` entries); all resolve to loopback. */
  hosts: string[];
  hostname: string;
  osRelease: string;
}

const SYSTEM_PASSWD = ["root:x:0:0:root:/root:/bin/bash", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin", "bin:x:2:2:bin:/bin:/usr/sbin/nologin", "sys:x:3:3:sys:/dev:/usr/sbin/nologin", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"];
const SYSTEM_GROUP = ["root:x:0:", "daemon:x:1:", "bin:x:2:", "sys:x:3:", "adm:x:4:", "tty:x:5:", "disk:x:6:", "sudo:x:27:", "users:x:100:", "nogroup:x:65534:"];

/** One instance's root filesystem and the namespaces it runs in. */
export class InstanceSandbox {
  readonly root: string;
  private readonly usrUpper: string;
  private readonly usrWork: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly dir: string,
    readonly bridge: NetworkBridge,
  ) {
    this.root = join(dir, "root");
    this.usrUpper = join(dir, "usr-upper");
    this.usrWork = join(dir, "usr-work");
  }

  /** The accounts of the sandbox's /etc. */
  accounts(): Accounts {
    return new Accounts(this.root);
  }

  /** A path inside the sandbox, on the host. */
  hostPath(p: string): string {
    return join(this.root, p);
  }

  prepare(o: InstanceRootOptions): void {
    const r = this.root;
    for (const d of ["etc/sudoers.d", "etc/systemd/system/multi-user.target.wants", "etc/systemd/user", "etc/profile.d", "etc/cloud", "etc/default", "etc/alternatives", "etc/ssl", "home", "opt", "srv", "mnt", "media", "proc", "dev", "sys", "usr", "run/user", "var/lib/cloud/instance/scripts", "var/log/provisioner/units", "var/cache", "var/spool", "var/mail", "tmp", "var/tmp", "root", ".provisioner"]) {
      mkdirSync(join(r, d), { recursive: true });
    }
    chmodSync(join(r, "tmp"), 0o1777);
    chmodSync(join(r, "var/tmp"), 0o1777);
    chmodSync(join(r, "root"), 0o700);
    for (const l of ["bin", "sbin", "lib", "lib64", "lib32", "libx32"]) if (existsSync(`/usr/${l}`)) symlinkSync(`usr/${l}`, join(r, l));
    symlinkSync("../run", join(r, "var/run"));
    symlinkSync("../run/lock", join(r, "var/lock"));
    for (const d of ["usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin", "usr/lib/systemd/system"]) mkdirSync(join(this.usrUpper, d.slice(4)), { recursive: true });
    mkdirSync(this.usrWork, { recursive: true });
    const etc = (p: string, text: string, mode?: number) => {
      writeFileSync(join(r, "etc", p), text, mode === undefined ? undefined : { mode });
    };
    etc("passwd", [...SYSTEM_PASSWD, ...o.users.map((u) => `${u.name}:x:${u.uid}:${u.uid}::${u.home}:${u.shell}`)].join("\n") + "\n");
    const groups = [...SYSTEM_GROUP, ...o.users.map((u) => `${u.name}:x:${u.uid}:`)];
    etc("group", groups.map((g) => {
      const name = g.split(":")[0];
      const members = o.users.filter((u) => u.groups?.includes(name)).map((u) => u.name);
      return members.length ? g + members.join(",") : g;
    }).join("\n") + "\n");
    etc("shadow", "root:*:19000:0:99999:7:::\n", 0o640);
    etc("hostname", `${o.hostname}\n`);
    etc("hosts", `127.0.0.1 localhost ${o.hostname} ${["host.docker.internal", ...o.hosts].join(" ")}\n::1 localhost ip6-localhost ip6-loopback\n`);
    etc("resolv.conf", "nameserver 127.0.0.53\n");
    etc("nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n");
    etc("os-release", o.osRelease);
    etc("sudoers", 'Defaults\tenv_reset\nDefaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n', 0o440);
    etc("environment", 'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n');
    for (const f of ["login.defs", "profile", "bash.bashrc", "ld.so.cache", "localtime", "shells", "mime.types"]) {
      if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(r, "etc", f));
    }
    if (existsSync("/etc/skel")) cpSync("/etc/skel", join(r, "etc/skel"), { recursive: true });
    else mkdirSync(join(r, "etc/skel"), { recursive: true });
    for (const u of o.users) {
      mkdirSync(join(r, u.home), { recursive: true });
      cpSync(join(r, "etc/skel"), join(r, u.home), { recursive: true });
    }
    for (const [tool, path] of Object.entries(SHIMMED)) {
      const file = join(this.usrUpper, path);
      const plan = tool === "sudo" || tool === "su" || tool === "runuser";
      const body = plan
        ? `#!/bin/sh\n# provisioner sandbox: ${tool} with the machine's environment rules\nplan=$(${q(process.execPath)} ${q(SHIM)} plan-${tool} "$@") || exit $?\neval "$plan"\n`
        : `#!/bin/sh\n# provisioner sandbox: ${tool}\nexec ${q(process.execPath)} ${q(SHIM)} ${tool} "$@"\n`;
      writeFileSync(file, body);
      chmodSync(file, 0o755);
    }
  }

  /** Writes a file inside the sandbox (cloud-init write_files). */
  writeFile(path: string, content: Buffer | string, permissions?: string, append = false): void {
    // /usr is an overlay of the host's: what the instance writes there belongs in its upper layer.
    const abs = /^\/usr\//.test(path) ? join(this.usrUpper, path.slice("/usr/".length)) : this.hostPath(path);
    mkdirSync(dirname(abs), { recursive: true });
    if (append && existsSync(abs)) writeFileSync(abs, Buffer.concat([readFileSync(abs), Buffer.from(content)]));
    else writeFileSync(abs, content);
    if (permissions) chmodSync(abs, parseInt(permissions, 8));
  }

  /**
   * Starts the instance: `boot` is a shell script run as root inside (cloud-init's or the container's
   * start), with `env` as its whole environment. `forwards` are loopback ports of the host, served
   * inside on the same port or on `listen` (a metadata service that moved keeps its address inside).
   */
  async start(boot: string, env: Record<string, string>, forwards: (number | { port: number; listen: number })[], devices: string[]): Promise<void> {
    const r = this.root;
    const sockets = await Promise.all(forwards.map(async (f): Promise<[number, string]> => (typeof f === "number" ? [f, await this.bridge.expose(f)] : [f.listen, await this.bridge.expose(f.port)])));
    writeFileSync(this.hostPath("/.provisioner/boot.sh"), boot);
    const nodeDir = dirname(process.execPath);
    const init = [
      "#!/bin/sh",
      "# pid 1 of the instance: forwarders, the boot script, then wait for ever (its exit ends every process).",
      `${q(process.execPath)} ${q(SHIM)} forward /.provisioner/network.ready ${sockets.map(([p, s]) => q(`127.0.0.1:${p}=${s}`)).join(" ")} &`,
      "n=0; while [ ! -e /.provisioner/network.ready ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n + 1)); done",
      "/bin/sh /.provisioner/boot.sh > /var/log/provisioner/boot.log 2>&1 &",
      "while :; do sleep 3600 & wait $!; done",
      "",
    ].join("\n");
    writeFileSync(this.hostPath("/.provisioner/init.sh"), init);
    const mounts = [
      "#!/bin/sh",
      "set -e",
      `R=${q(r)}`,
      "ip link set lo up",
      `mount -t overlay overlay -o lowerdir=/usr,upperdir=${q(this.usrUpper)},workdir=${q(this.usrWork)} "$R/usr"`,
      'mount -t tmpfs -o mode=0755 tmpfs "$R/dev"',
      'for n in null zero full random urandom tty; do : > "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done',
      // Boot scripts log to the console (`2>/dev/console`); here it goes nowhere, as on a headless VM.
      ': > "$R/dev/console"; mount --bind /dev/null "$R/dev/console"',
      'mkdir -p "$R/dev/pts" "$R/dev/shm"; ln -s /proc/self/fd "$R/dev/fd"',
      ...devices.map((d) => `mkdir -p "$R"${q(dirname(d))} && : > "$R"${q(d)}`),
      'mount -t proc proc "$R/proc"',
      'mount --bind /etc/alternatives "$R/etc/alternatives"',
      'mount --bind /etc/ssl "$R/etc/ssl"',
      `mkdir -p "$R"${q(PACKAGE_ROOT)} && mount --bind ${q(PACKAGE_ROOT)} "$R"${q(PACKAGE_ROOT)} && mount -o remount,bind,ro "$R"${q(PACKAGE_ROOT)}`,
      ...(nodeDir.startsWith("/usr/") ? [] : [`mkdir -p "$R"${q(nodeDir)} && mount --bind ${q(nodeDir)} "$R"${q(nodeDir)}`]),
      `mkdir -p "$R"${q(this.bridge.dir)} && mount --bind ${q(this.bridge.dir)} "$R"${q(this.bridge.dir)}`,
      `exec chroot "$R" /usr/bin/env -i ${Object.entries(env).map(([k, v]) => q(`${k}=${v}`)).join(" ")} /bin/sh /.provisioner/init.sh`,
      "",
    ].join("\n");
    const launcher = join(this.dir, "launch.sh");
    writeFileSync(launcher, mounts);
    const out = join(this.dir, "launch.log");
    writeFileSync(out, "");
    this.child = spawn("unshare", ["--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child", "/bin/sh", launcher], {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    this.child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child!.once("exit", () => resolve()));
    // A launch that fails does so at once (a mount refused, chroot missing).
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 300))]);
    if (this.child.exitCode !== null) throw new Error(`the sandbox of ${this.dir} did not start: ${stderr.trim() || `exit ${this.child.exitCode}`}`);
  }

  /** Whether the instance is running (started and not stopped). */
  get running(): boolean {
    return !!this.child?.pid && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Shuts the instance down as a machine does: SIGTERM to every process but its init and its network
   * (agents report shutting down and run their stop scripts), then, once they are gone or after
   * `graceMs`, everything. The root file system stays: `start` boots it again.
   */
  async shutdown(graceMs: number): Promise<void> {
    const c = this.child;
    if (!c?.pid || !this.running) return;
    const tree = processTree(c.pid);
    const init = tree.find((p) => p.ppid === c.pid)?.pid;
    const victims = tree.filter((p) => p.pid !== c.pid && p.pid !== init && !p.cmdline.includes(" forward ")).map((p) => p.pid);
    for (const pid of victims) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone already
      }
    }
    const deadline = Date.now() + graceMs;
    const alive = () =>
      victims.filter((pid) => {
        try {
          return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
          return false; // gone (ENOENT, or ESRCH while it exits)
        }
      });
    while (Date.now() < deadline && alive().length > 0) await new Promise((r) => setTimeout(r, 100));
    await this.stop();
  }

  /** Ends every process of the instance (the namespace's init first, so nothing survives). */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c?.pid || c.exitCode !== null) return;
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      // already gone
    }
    // At most 2 s; the timer must not outlive the wait (it would hold the process open).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }

  /** Removes the sandbox's files (overlayfs leaves a work directory without permissions). */
  remove(): void {
    try {
      execFileSync("chmod", ["-R", "u+rwx", this.dir], { stdio: "ignore" });
    } catch {
      // best effort: rmSync reports what is left
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
