/**
 * Records what the real `sudo`, `su` and `runuser` of this machine do to the environment, for the
 * sandbox's differential test (test/fixtures/machine/environment.json). Run as root on a Debian or
 * Ubuntu machine with sudo installed (CI installs it and checks nothing drifted):
 *   npm run machine:record
 */
import { writeFileSync } from "node:fs";
import { cannotRecord, recordMachineSemantics } from "../test/machine/record.js";

const why = cannotRecord();
if (why) {
  console.error(`cannot record here: ${why}`);
  process.exit(2);
}
const r = recordMachineSemantics();
writeFileSync(new URL("../test/fixtures/machine/environment.json", import.meta.url), JSON.stringify(r, null, 1) + "\n");
console.log(`${r.cases.length} scenarios recorded with ${r.recordedWith}`);
