/**
 * The recorded behaviour of sudo/su/runuser (test/fixtures/machine/environment.json) is still what
 * the real tools do. CI (root, sudo installed by .ci/run) always checks; elsewhere only where it can.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cannotRecord, type MachineRecording, recordMachineSemantics } from "./record.js";

const stored = JSON.parse(readFileSync(new URL("../fixtures/machine/environment.json", import.meta.url), "utf8")) as MachineRecording;

describe("machine semantics recording", () => {
  it.runIf(process.env.CI === "true" || !cannotRecord())("matches what this machine's sudo, su and runuser do (else: npm run machine:record)", () => {
    expect(cannotRecord(), "CI runs as root with sudo installed").toBeUndefined();
    const now = recordMachineSemantics();
    expect(now.cases.map((c) => ({ argv: c.argv, result: c.result }))).toEqual(stored.cases.map((c) => ({ argv: c.argv, result: c.result })));
  });
});
