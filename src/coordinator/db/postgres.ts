import pg from "pg";
import type { Database, Queryable } from "./index.js";

/** A Postgres server through a pool; several coordinator replicas may share it. */
export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Fail fast with a clear error when the server is unreachable.
  const probe = await pool.connect();
  probe.release();
  pool.on("error", () => {
    // Idle client errors (server restart) are reported by the next query instead.
  });
  let count = 0;
  const run = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<T[]> => {
    count++;
    return (await q.query(sql, params)).rows as T[];
  };
  return {
    kind: "postgres",
    get queryCount() {
      return count;
    },
    query: (sql, params) => run(pool, sql, params),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn({ query: (sql, params) => run(client, sql, params) } as Queryable);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
