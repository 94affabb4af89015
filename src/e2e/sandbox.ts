import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The sandbox an instance's user data runs in: a temporary root under which absolute paths land,
 * and shims first on PATH so the user data never changes the machine: sudo/su run the command as
 * the current user with the environment asked for; account, service and package tools only log.
 */

const LOG_ONLY = ["useradd", "usermod", "groupadd", "adduser", "addgroup", "chown", "chpasswd", "passwd", "systemctl", "service", "hostnamectl", "apt-get", "apt", "yum", "dnf", "cloud-init", "reboot", "shutdown", "mount"];

/** Top-level directories whose absolute paths are moved under the sandbox root. */
const REMAPPED = ["opt", "home", "var", "etc", "srv", "root", "run", "usr/local/share", "usr/local/etc", "data", "workspace", "mnt"];

const SHIMS: Record<string, string> = {
  sudo: `#!/bin/sh
# provisioner e2e shim: sudo runs the command as the current user, keeping the environment.
echo "sudo $*" >> "$PROVISIONER_E2E_LOG"
login=""
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-D|-h|-p|-r|-t|-U|-T) shift 2 ;;
    -i|--login|-s|--shell) login=1; shift ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && exit 0
if [ -n "$login" ]; then exec sh -c "$*"; fi
exec "$@"
`,
  su: `#!/bin/sh
# provisioner e2e shim: su runs -c COMMAND as the current user.
echo "su $*" >> "$PROVISIONER_E2E_LOG"
cmd=""
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--command) cmd="$2"; shift 2 ;;
    --command=*) cmd="\${1#--command=}"; shift ;;
    -s|--shell|-g|--group|-G) shift 2 ;;
    *) shift ;;
  esac
done
[ -z "$cmd" ] && exit 0
exec sh -c "$cmd"
`,
};

for (const tool of LOG_ONLY) {
  SHIMS[tool] = `#!/bin/sh\n# provisioner e2e shim: ${tool} only logs (the e2e never changes this machine).\necho "${tool} $*" >> "$PROVISIONER_E2E_LOG"\nexit 0\n`;
}

export interface Sandbox {
  dir: string;
  root: string;
  shims: string;
  logs: string;
  shimLog: string;
  remap(text: string): string;
  /** A clean environment for user data. */
  env(extra?: Record<string, string>): Record<string, string>;
}

export function createSandbox(dir: string, users: string[] = []): Sandbox {
  const root = join(dir, "root");
  const shims = join(dir, "shims");
  const logs = join(dir, "logs");
  for (const d of [root, shims, logs, join(root, "tmp"), join(root, "root"), join(root, "var/log"), join(root, "opt"), join(root, "etc")]) mkdirSync(d, { recursive: true });
  for (const u of users) mkdirSync(join(root, "home", u), { recursive: true });
  for (const [name, body] of Object.entries(SHIMS)) {
    writeFileSync(join(shims, name), body);
    chmodSync(join(shims, name), 0o755);
  }
  const shimLog = join(logs, "shims.log");
  writeFileSync(shimLog, "");
  const pattern = new RegExp(`(^|[\\s"'=>:\\[,(])/(${REMAPPED.map((p) => p.replace("/", "\\/")).join("|")})(?=/|[\\s"';&|)\\],]|$)`, "g");
  // Paths already inside the sandbox (its logs, say) stay as they are.
  const remap = (text: string) =>
    text.replace(pattern, (m: string, pre: string, top: string, offset: number) => (text.startsWith(dir, offset + pre.length) ? m : `${pre}${root}/${top}`));
  return {
    dir,
    root,
    shims,
    logs,
    shimLog,
    remap,
    env: (extra = {}) => ({
      PATH: `${shims}:/usr/local/bin:/usr/bin:/bin`,
      HOME: join(root, "root"),
      TMPDIR: join(root, "tmp"),
      USER: "root",
      LANG: "C.UTF-8",
      PROVISIONER_E2E_LOG: shimLog,
      ...extra,
    }),
  };
}

/** Writes a file of the user data under the sandbox root. */
export function writeSandboxFile(sandbox: Sandbox, path: string, content: string, permissions?: string): string {
  const target = sandbox.remap(path.startsWith("/") ? path : `/${path}`);
  const abs = target.startsWith(sandbox.root) ? target : join(sandbox.root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, sandbox.remap(content));
  if (permissions) chmodSync(abs, parseInt(permissions, 8));
  return abs;
}
