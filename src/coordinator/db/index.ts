import { readdir, readFile } from "node:fs/promises";

/** One interface over PGlite (embedded) and a Postgres server (pg Pool). Parameterised SQL only. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: "pglite" | "postgres";
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Queries run so far (tests assert the auth lookup is O(1) queries). */
  readonly queryCount: number;
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

/** Opens `memory`, a PGlite data directory, or `postgres://…`. */
export async function openDatabase(spec: string): Promise<Database> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { openPostgres } = await import("./postgres.js");
    return openPostgres(spec);
  }
  const { openPglite } = await import("./pglite.js");
  return openPglite(spec === "memory" ? undefined : spec);
}
