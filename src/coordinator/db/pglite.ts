import { PGlite } from "@electric-sql/pglite";
import { UsageError } from "../../errors.js";
import { checkDataDir, dataDirError, freeBytes, lockDataDir, wipeFreshDataDir } from "./data-dir.js";
import { databaseErrorKind, DatabaseUnavailableError, errnoName } from "./errors.js";
import type { Database, DatabaseOptions, Health, Transaction } from "./index.js";

/** Below this much free space the WAL cannot begin a new segment (16 MiB): health says degraded. */
const LOW_SPACE_BYTES = 16 << 20;
/** A stopped database is reopened once this much is free again (a few WAL segments). */
const RECOVERY_SPACE_BYTES = 64 << 20;
const RECOVERY_INTERVAL_MS = 1_000;

/**
 * Errors after which a PGlite instance must never be called again: a PANIC or FATAL (e.g. the WAL
 * could not be written on a full disk), a fault of its file system, or a WebAssembly trap. The next
 * call into such an instance spins for ever and blocks the event loop (no request, no SIGTERM).
 */
function isFatal(err: unknown): boolean {
  const severity = (err as { severity?: unknown } | undefined)?.severity;
  if (typeof severity === "string") return severity === "PANIC" || severity === "FATAL";
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === "ErrnoError" || name === "RuntimeError";
}

async function start(dataDir: string | undefined): Promise<PGlite> {
  const pg = new PGlite(dataDir);
  await pg.waitReady;
  return pg;
}

/**
 * Embedded Postgres (WASM) with one connection. Statements and transactions are serialised here
 * rather than by PGlite, whose transaction() runs ROLLBACK after any error — on a failed instance
 * that call never returns. After a fatal error every call is refused at once (disk full → 507,
 * otherwise 503); a data directory is reopened by itself once space is free again.
 */
class PgliteDatabase implements Database {
  readonly kind = "pglite" as const;
  private count = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private failure?: DatabaseUnavailableError;
  private recovery?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private pg: PGlite,
    private readonly dataDir: string | undefined,
    private readonly log: (event: Record<string, unknown>) => void,
    private readonly lock?: { release(): void },
  ) {}

  get queryCount(): number {
    return this.count;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run<T>(sql: string, params?: unknown[]): Promise<T[]> {
    if (this.failure) throw this.failure;
    this.count++;
    try {
      return (await this.pg.query<T>(sql, params)).rows;
    } catch (err) {
      if (isFatal(err)) throw this.fail(err);
      throw err;
    }
  }

  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.exclusive(() => this.run<T>(sql, params));
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.run("BEGIN");
      const committed: (() => void)[] = [];
      let result: T;
      try {
        result = await fn({ query: (sql, params) => this.run(sql, params), afterCommit: (f) => committed.push(f) });
        await this.run("COMMIT");
      } catch (err) {
        if (!this.failure) await this.run("ROLLBACK").catch(() => undefined);
        throw err;
      }
      for (const f of committed) f();
      return result;
    });
  }

  private fail(err: unknown): DatabaseUnavailableError {
    const where = this.dataDir ?? "memory";
    const diskFull = databaseErrorKind(err) === "disk-full";
    const cause = diskFull ? "no space left on device" : (errnoName(err) ?? (err instanceof Error ? err.message : "storage error"));
    this.failure = new DatabaseUnavailableError(diskFull ? "disk-full" : "unavailable", `the database in ${where} stopped: ${cause}`);
    this.log({ level: "error", msg: "database stopped after a fatal error; requests are refused until it is reopened", data_dir: where, error: cause });
    if (this.dataDir && !this.closed && !this.recovery) this.reopenWhenPossible(this.dataDir);
    return this.failure;
  }

  /** Reopens the data directory (Postgres recovers from its WAL) once there is room again. */
  private reopenWhenPossible(dir: string): void {
    let attempting = false;
    this.recovery = setInterval(() => {
      const free = freeBytes(dir);
      if (attempting || this.closed || (free !== undefined && free < RECOVERY_SPACE_BYTES)) return;
      attempting = true;
      start(dir)
        .then(async (pg) => {
          await pg.query("SELECT 1");
          if (this.closed) return pg.close();
          this.pg = pg;
          this.failure = undefined;
          clearInterval(this.recovery);
          this.recovery = undefined;
          this.log({ level: "info", msg: "database reopened", data_dir: dir });
        })
        .catch((err: unknown) => this.log({ level: "warn", msg: "database could not be reopened yet", data_dir: dir, error: errnoName(err) ?? String((err as Error)?.message ?? err) }))
        .finally(() => (attempting = false));
    }, RECOVERY_INTERVAL_MS);
    this.recovery.unref();
  }

  async health(): Promise<Health> {
    if (this.failure) return { ok: false, reason: `${this.failure.message}${this.dataDir ? " (it reopens by itself once space is free)" : ""}` };
    const free = this.dataDir ? freeBytes(this.dataDir) : undefined;
    if (free !== undefined && free < LOW_SPACE_BYTES) return { ok: false, reason: `only ${free} bytes free for the database in ${this.dataDir}` };
    return { ok: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.recovery);
    // A failed instance never returns from a call, and on a full disk the shutdown checkpoint could
    // fail the same way. Committed work is in the WAL either way: the next start recovers it.
    const free = this.dataDir ? freeBytes(this.dataDir) : undefined;
    if (!this.failure && !(free !== undefined && free < LOW_SPACE_BYTES)) await this.exclusive(() => this.pg.close()).catch(() => undefined);
    this.lock?.release();
  }
}

/** Opens PGlite in memory, or in a data directory that this process then owns (see lockDataDir). */
export async function openPglite(dataDir: string | undefined, opts: DatabaseOptions = {}): Promise<Database> {
  const log = opts.log ?? (() => undefined);
  if (!dataDir) return new PgliteDatabase(await start(undefined), undefined, log);
  const { fresh } = checkDataDir(dataDir);
  const lock = lockDataDir(dataDir);
  try {
    return new PgliteDatabase(await start(dataDir), dataDir, log, lock);
  } catch (err) {
    // A first start that failed (full disk, …) leaves no half-made database behind.
    if (fresh) {
      try {
        wipeFreshDataDir(dataDir);
      } catch {
        // what remains is refused or reused by the next start
      }
    }
    lock.release();
    throw err instanceof UsageError ? err : dataDirError("open the database in", dataDir, err);
  }
}
