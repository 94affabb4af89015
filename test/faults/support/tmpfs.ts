import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCli, type Spawned } from "../../support/process.js";

/**
 * A small tmpfs the fault tests can fill to the last byte, mounted in a private mount namespace: the
 * host's mount table never changes, and the file system vanishes with the last process inside it.
 * A holder shell keeps the namespace alive until `close()` (or until this test process dies and its
 * stdin closes). The test reaches the files through /proc/<holder>/root.
 */
export interface Tmpfs {
  /** The mount point as processes inside the namespace see it. */
  dir: string;
  /** The same path as this (outside) process reaches it. */
  outside(path: string): string;
  /** Starts the CLI inside the namespace. */
  spawnCli(args: string[], env?: Record<string, string | undefined>): Spawned;
  /** Runs a shell command inside the namespace (e.g. `mount -o remount,ro`); throws unless it exits 0. */
  run(command: string): void;
  /** Runs a command inside the namespace and returns its exit code and output. */
  exec(argv: string[]): { status: number | null; stdout: string; stderr: string };
  /** Writes a filler file until the file system has not one byte left; returns the bytes written. */
  fill(name?: string): number;
  close(): Promise<void>;
}

/** Why a tmpfs cannot be mounted here (not root, no unshare), or undefined when it can. */
export function tmpfsUnavailable(): string | undefined {
  if (process.platform !== "linux") return `mount namespaces need Linux (this is ${process.platform})`;
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\""], { encoding: "utf8" });
  if (r.error) return `unshare is not available: ${r.error.message}`;
  if (r.status !== 0) return `cannot mount a tmpfs in a private mount namespace (root or CAP_SYS_ADMIN needed): ${r.stderr.trim()}`;
  return undefined;
}

export async function mountTmpfs(size: string): Promise<Tmpfs> {
  const base = mkdtempSync(join(tmpdir(), "faults-tmpfs-"));
  const dir = join(base, "mnt");
  const holder: ChildProcess = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mkdir -p "$1" && mount -t tmpfs -o size=${size},mode=0755 tmpfs "$1" && echo mounted && exec cat >/dev/null`, "sh", dir], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  holder.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => holder.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once("data", () => resolve());
    holder.once("exit", (code) => reject(new Error(`cannot mount a tmpfs (exit ${code}): ${stderr.trim()}`)));
  });
  const root = `/proc/${holder.pid}/root`;
  const nsenter = ["nsenter", "-t", String(holder.pid), "-m", "--"];
  return {
    dir,
    outside: (path) => root + path,
    spawnCli: (args, env = {}) => spawnCli(args, env, { wrap: nsenter }),
    run(command) {
      const r = spawnSync(nsenter[0], [...nsenter.slice(1), "sh", "-c", command], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
    },
    exec(argv) {
      const r = spawnSync(nsenter[0], [...nsenter.slice(1), ...argv], { encoding: "utf8", timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    fill(name = "filler") {
      const fd = openSync(root + join(dir, name), "a");
      const chunk = Buffer.alloc(1 << 20, 0x5a);
      let total = 0;
      try {
        // Big writes, then ever smaller ones: not one byte is left.
        for (const size of [1 << 20, 4096, 1]) {
          try {
            for (;;) total += writeSync(fd, chunk, 0, size);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
      return total;
    },
    async close() {
      holder.stdin!.end();
      await exited;
      rmSync(base, { recursive: true, force: true });
    },
  };
}
