import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./index.js";

/** Embedded Postgres (WASM). One connection: PGlite serialises queries itself. */
export async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = new PGlite(dataDir);
  await pg.waitReady;
  let count = 0;
  const run = async <T>(q: { query: PGlite["query"] }, sql: string, params?: unknown[]): Promise<T[]> => {
    count++;
    return (await q.query<T>(sql, params)).rows;
  };
  return {
    kind: "pglite",
    get queryCount() {
      return count;
    },
    query: (sql, params) => run(pg, sql, params),
    transaction: (fn) => pg.transaction((tx) => fn({ query: (sql, params) => run(tx as unknown as { query: PGlite["query"] }, sql, params) } as Queryable)),
    close: () => pg.close(),
  };
}
