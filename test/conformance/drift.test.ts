/**
 * The stored expected outputs are still what terraform answers (a newer terraform, a changed case or
 * fixture without `npm run conformance:refresh`). Needs terraform: CI always has it; elsewhere the
 * test runs only when terraform is on PATH.
 */
import { describe, expect, it } from "vitest";
import { refreshConformance } from "./refresh.js";
import { hasTerraform } from "./suite.js";

const needed = process.env.CI === "true";

describe("conformance data", () => {
  it.runIf(needed || hasTerraform())("matches what terraform answers today (else: npm run conformance:refresh)", { timeout: 600_000 }, async () => {
    expect(hasTerraform(), "terraform must be on PATH in CI").toBe(true);
    const r = await refreshConformance({ check: true, jobs: 2 });
    expect(r.cases).toBeGreaterThan(800);
    expect(r.drift).toEqual([]);
  });
});
