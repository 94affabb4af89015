import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite instances and child processes are heavy; two cores on CI.
    pool: "forks",
    maxWorkers: 2,
  },
});
