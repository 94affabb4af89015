import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A real Postgres server for the tests that need one (several coordinator replicas, LISTEN/NOTIFY).
 * `.ci/run` starts a throwaway Postgres 15 cluster and exports PROVISIONER_TEST_PG_URL.
 * Locally the suites run when the variable is set; on CI a missing server is an error, not a skip.
 */
export const testPostgresUrl: string | undefined = process.env.PROVISIONER_TEST_PG_URL || undefined;

if (process.env.CI === "true" && !testPostgresUrl) {
  throw new Error("CI=true but PROVISIONER_TEST_PG_URL is not set: .ci/run must start Postgres 15");
}

/** Creates a fresh, empty database and returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!testPostgresUrl) throw new Error("PROVISIONER_TEST_PG_URL is not set");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: testPostgresUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
