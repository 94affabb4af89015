import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    testTimeout: 30_000,
    // tsx (synth) would keep a compile cache in TMPDIR: `npm test` leaves nothing there.
    env: { TSX_DISABLE_CACHE: "1" },
    hookTimeout: 60_000,
    // PGlite instances and child processes are heavy; two cores on CI.
    pool: "forks",
    maxWorkers: 2,
  },
});
