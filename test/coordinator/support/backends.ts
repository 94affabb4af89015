import { createTestDatabase, testPostgresUrl } from "../../support/postgres.js";

/** The database backends every coordinator suite runs against: embedded PGlite, and Postgres 15 when available. */
export interface Backend {
  name: string;
  available: boolean;
  /** A fresh database spec for startCoordinator's `db`, and its cleanup. */
  create(): Promise<{ db: string; drop: () => Promise<void> }>;
}

export const BACKENDS: Backend[] = [
  { name: "pglite", available: true, create: async () => ({ db: "memory", drop: async () => undefined }) },
  {
    name: "postgres",
    available: testPostgresUrl !== undefined,
    create: async () => {
      const t = await createTestDatabase();
      return { db: t.url, drop: t.drop };
    },
  },
];
