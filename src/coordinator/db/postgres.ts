import pg from "pg";
import { databaseErrorKind, errnoName } from "./errors.js";
import type { Database, Health, Transaction } from "./index.js";

/** How long a request waits for a connection before it is answered 503 (the server may be gone). */
const CONNECT_TIMEOUT_MS = 5_000;
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * A Postgres server through a pool; several coordinator replicas may share it. Connections the
 * server drops (pg_terminate_backend, a failover, an idle timeout) are replaced: an idle one is
 * discarded by the pool, one in use fails its request (503) and is destroyed on release — its
 * `'error'` event never goes unhandled, which would end the process.
 */
export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on("error", () => {
    // An idle client lost its connection: the pool drops it; the next query opens a new one.
  });
  // Fail fast with a clear error when the server is unreachable.
  const probe = await pool.connect().catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  probe.release();
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
    transaction: async <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (err: Error) => (broken = err);
      client.on("error", onError);
      const committed: (() => void)[] = [];
      try {
        await client.query("BEGIN");
        const result = await fn({ query: (sql, params) => run(client, sql, params), afterCommit: (f) => committed.push(f) });
        await client.query("COMMIT");
        for (const f of committed) f();
        return result;
      } catch (err) {
        if (databaseErrorKind(err) === "unavailable") broken ??= err as Error;
        if (!broken) await client.query("ROLLBACK").catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.off("error", onError);
        // A client whose connection failed is destroyed, not returned to the pool.
        client.release(broken);
      }
    },
    health: async (): Promise<Health> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pool.query("SELECT 1"),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS))),
        ]);
        return { ok: true };
      } catch (err) {
        const code = errnoName(err) ?? (err as { code?: string }).code;
        return { ok: false, reason: `cannot reach the database: ${code ?? (err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => pool.end(),
  };
}
