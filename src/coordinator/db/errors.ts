/**
 * What a database error means for the request that hit it, whatever its text (clients never see it).
 * Postgres and PGlite report SQLSTATE codes; the pg driver and Node report connection trouble by
 * errno code or message; emscripten (PGlite's file system) throws plain `ErrnoError` objects.
 */
export type DatabaseErrorKind =
  /** No space left for the database: retry once space is freed. */
  | "disk-full"
  /** The database cannot serve now (connection lost, server shutting down, I/O error, stopped): retry later. */
  | "unavailable"
  /** A value the database refused (bad text for a type, NUL byte, value too long): the client's mistake. */
  | "invalid-input"
  /** A uniqueness or foreign-key conflict. */
  | "conflict";

/** The database stopped serving (disk full, I/O error, connection lost); the message names the cause and place. */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly kind: "disk-full" | "unavailable",
    message: string,
  ) {
    super(message);
    this.name = "DatabaseUnavailableError";
  }
}

/** errno names of emscripten's (WASI's) numbering, for the ones storage failures produce. */
const EMSCRIPTEN_ERRNO: Record<number, string> = { 2: "EACCES", 19: "EDQUOT", 29: "EIO", 51: "ENOSPC", 63: "EPERM", 69: "EROFS" };

/** The errno name of a Node or emscripten file-system error (`ENOSPC`, …), if it is one. */
export function errnoName(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as { code?: unknown; errno?: unknown; name?: unknown };
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
  if (e.name === "ErrnoError" && typeof e.errno === "number") return EMSCRIPTEN_ERRNO[e.errno] ?? `errno ${e.errno}`;
  return undefined;
}

const CONNECTION_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const CONNECTION_MESSAGE = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i;

export function databaseErrorKind(err: unknown): DatabaseErrorKind | undefined {
  if (err instanceof DatabaseUnavailableError) return err.kind;
  const errno = errnoName(err);
  if (errno === "ENOSPC" || errno === "EDQUOT") return "disk-full";
  if (errno && (CONNECTION_ERRNO.has(errno) || errno === "EIO" || errno === "EROFS" || errno === "EACCES" || errno === "EPERM")) return "unavailable";
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === "53100") return "disk-full";
    // Connection exceptions, insufficient resources, operator intervention, system errors, and
    // transaction rollbacks (serialization failure, deadlock): nothing the client did.
    if (/^(08|53|57|58|40)/.test(code)) return "unavailable";
    if (code.startsWith("22")) return "invalid-input";
    if (code.startsWith("23")) return "conflict";
    // 54xxx: a value over a limit (index row size, too many columns…).
    if (code.startsWith("54")) return "invalid-input";
    return undefined;
  }
  if (err instanceof Error && CONNECTION_MESSAGE.test(err.message)) return "unavailable";
  return undefined;
}
