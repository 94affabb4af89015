import { readdir, readFile } from "node:fs/promises";
import { UsageError } from "../../errors.js";

/** One interface over PGlite (embedded) and a Postgres server (pg Pool). Parameterised SQL only. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Transaction extends Queryable {
  /** Runs `fn` once the transaction has committed (never when it rolls back). */
  afterCommit(fn: () => void): void;
}

export type Health = { ok: true } | { ok: false; reason: string };

export interface Database extends Queryable {
  readonly kind: "pglite" | "postgres";
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Whether the database can serve now, and why not (disk full, unreachable, stopped after a fatal error). */
  health(): Promise<Health>;
  close(): Promise<void>;
  /** Queries run so far (tests assert the auth lookup is O(1) queries). */
  readonly queryCount: number;
}

export interface DatabaseOptions {
  log?: (event: Record<string, unknown>) => void;
}

const MIGRATIONS_DIR = new URL("../../../src/coordinator/migrations/", import.meta.url);

/** Applies pending migrations under an advisory lock, so replicas starting together do not race. */
export async function migrate(db: Database): Promise<void> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(7080)");
    await tx.query("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const done = new Set((await tx.query<{ version: string }>("SELECT version FROM schema_migrations")).map((r) => r.version));
    for (const f of files) {
      if (done.has(f)) continue;
      const sql = await readFile(new URL(f, MIGRATIONS_DIR), "utf8");
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version) VALUES ($1)", [f]);
    }
  });
}

/** Splits a migration into statements (extended-protocol queries take one statement each). */
function splitStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((l) => !l.trim().startsWith("--"))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export type DatabaseSpec = { kind: "memory" } | { kind: "postgres"; url: string } | { kind: "dir"; dir: string };

/** Reads `--db`: `memory`, `postgres://…` (or `postgresql://`), or a directory; any other URL scheme is refused. */
export function parseDatabaseSpec(spec: string): DatabaseSpec {
  if (spec === "memory") return { kind: "memory" };
  if (/^postgres(ql)?:\/\//i.test(spec)) return { kind: "postgres", url: spec };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme) throw new UsageError(`--db ${spec}: unknown database URL scheme "${scheme[1]}:"`, "use memory, a directory for the embedded database, or postgres://USER@HOST:PORT/DB", "E_DB_SPEC");
  if (spec.trim() === "") throw new UsageError("--db is empty", "use memory, a directory (e.g. .provisioner/db), or postgres://…", "E_DB_SPEC");
  return { kind: "dir", dir: spec };
}

/** Opens `memory`, a PGlite data directory (locked to this process), or `postgres://…`. */
export async function openDatabase(spec: string, opts: DatabaseOptions = {}): Promise<Database> {
  const parsed = parseDatabaseSpec(spec);
  if (parsed.kind === "postgres") {
    const { openPostgres } = await import("./postgres.js");
    return openPostgres(parsed.url);
  }
  const { openPglite } = await import("./pglite.js");
  return openPglite(parsed.kind === "dir" ? parsed.dir : undefined, opts);
}
