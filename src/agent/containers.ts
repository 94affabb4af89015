import { execFile } from "node:child_process";
import type { ContainerPort, WorkspaceAgentContainer } from "../sdk/containers.js";

/** The parts of `docker inspect` output the conversion reads. */
export interface DockerInspect {
  Id: string;
  Created: string;
  Name: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Running: boolean; Status: string };
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  Mounts?: { Source: string; Destination: string }[] | null;
}

/** "8080/tcp" → [8080, "tcp"]; a bare "8080" is TCP (coderd's convertDockerPort). */
function containerPort(key: string): [number, string] {
  const parts = key.split("/");
  const port = /^\d+$/.test(parts[0]) ? Number(parts[0]) : NaN;
  if (!(port >= 0 && port <= 65535) || parts.length > 2) throw new Error(`invalid port format: ${key}`);
  return [port, parts[1] ?? "tcp"];
}

const loopbackOrUnspecified = (ip: string) => ip === "" || ip === "0.0.0.0" || ip === "::" || /^127\./.test(ip) || ip === "::1";

/**
 * Converts `docker inspect` output as Coder's agent does: one port per live host binding from
 * `NetworkSettings.Ports` (not the exposed ports), sorted by container port key; a host port bound
 * on both the IPv4 and IPv6 loopback/unspecified addresses to the same container port counts once;
 * bad ports are skipped with a warning; volumes map mount source → destination.
 */
export function convertDockerInspect(items: DockerInspect[]): { containers: WorkspaceAgentContainer[]; warnings: string[] } {
  const warnings: string[] = [];
  const containers = items.map((c) => {
    const ports: ContainerPort[] = [];
    const bindings = c.NetworkSettings?.Ports ?? {};
    const seenLoopback = new Map<number, number>();
    for (const key of Object.keys(bindings).sort()) {
      for (const b of bindings[key] ?? []) {
        let port: number;
        let network: string;
        try {
          [port, network] = containerPort(key);
        } catch (err) {
          warnings.push(`convert docker port: ${(err as Error).message}`);
          continue;
        }
        const hostPort = /^-?\d+$/.test(b.HostPort) ? Number(b.HostPort) : NaN;
        if (Number.isNaN(hostPort)) {
          warnings.push(`convert docker host port: strconv.Atoi: parsing ${JSON.stringify(b.HostPort)}: invalid syntax`);
          continue;
        }
        if (hostPort > 65535 || hostPort < 1) {
          warnings.push(`convert docker host port: invalid host port ${hostPort}`);
          continue;
        }
        if (loopbackOrUnspecified(b.HostIp)) {
          if (seenLoopback.get(hostPort) === port) continue;
          seenLoopback.set(hostPort, port);
        }
        ports.push({ port, network, host_ip: b.HostIp, host_port: hostPort });
      }
    }
    const mounts = [...(c.Mounts ?? [])].sort((a, b) => (a.Source < b.Source ? -1 : a.Source > b.Source ? 1 : 0));
    return {
      created_at: new Date(c.Created).toISOString(),
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      image: c.Config.Image,
      labels: c.Config.Labels ?? {},
      running: c.State.Running,
      ports,
      status: c.State.Status,
      volumes: Object.fromEntries(mounts.map((m) => [m.Source, m.Destination])),
    };
  });
  return { containers, warnings };
}

/** A command that failed; its stdout may still say why (the devcontainer CLI prints its outcome there). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/** Runs a command and resolves with its stdout; rejects with a CommandError carrying stderr and stdout. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError(`${cmd} ${args[0] ?? ""}: ${(stderr || err.message).trim()}`, stdout));
      else resolve(stdout);
    });
  });
}

/** Lists every container with the docker CLI (`docker ps --all --quiet --no-trunc`, then `docker inspect`). */
export async function listContainers(env?: NodeJS.ProcessEnv): Promise<{ containers: WorkspaceAgentContainer[]; warnings: string[] }> {
  const ids = (await run("docker", ["ps", "--all", "--quiet", "--no-trunc"], { env })).split("\n").map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) return { containers: [], warnings: [] };
  try {
    return convertDockerInspect(JSON.parse(await run("docker", ["inspect", ...ids], { env })) as DockerInspect[]);
  } catch (err) {
    // A container removed between `ps` and `inspect`: docker still prints the others (and exits 1).
    if (!(err instanceof CommandError) || !err.stdout.trim().startsWith("[")) throw err;
    const converted = convertDockerInspect(JSON.parse(err.stdout) as DockerInspect[]);
    return { containers: converted.containers, warnings: [...converted.warnings, err.message] };
  }
}
