import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** The admin token of the coordinators the benchmarks start (given through PROVISIONER_ADMIN_TOKEN). */
export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789";

/** Starts a child that prints a JSON ready line on stdout; resolves with it. */
export async function startJsonChild(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; ready: Record<string, any> }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "ignore"] });
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (l) => l.startsWith("{") && resolve(JSON.parse(l)));
    child.once("exit", (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
  return { child, ready };
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
