/**
 * Records what the real `sudo`, `su` and `runuser` of this machine do to the environment, for the
 * sandbox's differential test (test/fixtures/machine/environment.json). Run as root on a Debian or
 * Ubuntu machine with sudo installed (CI does: .ci/run installs it):
 *   npx tsx scripts/record-machine-semantics.ts
 * Every scenario runs `env` as the user `nobody` (or root), from a fixed starting environment.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { ENVIRONMENT_SCENARIOS, type EnvironmentCase } from "../test/fixtures/machine/scenarios.js";

const cases: EnvironmentCase[] = ENVIRONMENT_SCENARIOS.map((s) => {
  const out = execFileSync("/usr/bin/env", ["-i", ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`), ...s.argv], { cwd: "/tmp", encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const env = Object.fromEntries(
    out
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { ...s, result: env };
});
const sudo = execFileSync("sudo", ["-V"], { encoding: "utf8" }).split("\n")[0];
writeFileSync(new URL("../test/fixtures/machine/environment.json", import.meta.url), JSON.stringify({ recordedWith: sudo, cases }, null, 1) + "\n");
console.log(`${cases.length} scenarios recorded with ${sudo}`);
