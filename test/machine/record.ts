/**
 * What the real `sudo`, `su` and `runuser` of this machine do to the environment: every scenario of
 * test/fixtures/machine/scenarios.ts runs `env` through them (as root, from a fixed environment).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ENVIRONMENT_SCENARIOS, type EnvironmentCase } from "../fixtures/machine/scenarios.js";

export interface MachineRecording {
  recordedWith: string;
  cases: EnvironmentCase[];
}

/** Why this machine cannot record (not root, a tool missing), or undefined. */
export function cannotRecord(): string | undefined {
  if (process.getuid?.() !== 0) return "recording runs the tools as root";
  for (const tool of ["/usr/bin/sudo", "/bin/su", "/sbin/runuser"]) if (!existsSync(tool) && !existsSync(tool.replace(/^\/(s?bin)/, "/usr/$1"))) return `${tool} is not installed`;
  return undefined;
}

export function recordMachineSemantics(): MachineRecording {
  const cases = ENVIRONMENT_SCENARIOS.map((s) => {
    const out = execFileSync("/usr/bin/env", ["-i", ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`), ...s.argv], { cwd: "/tmp", encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const env = Object.fromEntries(
      out
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    return { ...s, result: env };
  });
  return { recordedWith: execFileSync("sudo", ["-V"], { encoding: "utf8" }).split("\n")[0], cases };
}
