/**
 * Regenerates test/conformance/expected/*.json from terraform itself (see test/conformance/refresh.ts).
 * Usage: npm run conformance:refresh   (needs terraform on PATH; TF_CLI_CONFIG_FILE → .ci/terraformrc)
 *        npm run conformance:refresh -- --check   (compare with the stored files, exit 1 on drift)
 */
import { refreshConformance } from "../test/conformance/refresh.js";

const check = process.argv.includes("--check");
const r = await refreshConformance({ check, jobs: Number(process.env.CONFORMANCE_JOBS ?? 4), progress: (l) => console.log(l) });
for (const d of r.drift) console.log(`drift in ${d}`);
console.log(`${r.cases} cases, ${r.syntaxFiles} files${check ? `, ${r.drift.length} drifted` : " written"}`);
if (check && r.drift.length > 0) process.exit(1);
