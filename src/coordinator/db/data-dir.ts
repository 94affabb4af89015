import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describeErrno, UsageError } from "../../errors.js";
import { databaseErrorKind, errnoName } from "./errors.js";

/** The lock file inside a PGlite data directory: `{pid, host, started_at}` of the coordinator that owns it. */
export const LOCK_FILE = "provisioner.lock";
const TAKEOVER_FILE = "provisioner.lock.takeover";
/** What a fresh volume or an interrupted start leaves in a directory that is still ours to use. */
const IGNORABLE = /^(lost\+found|provisioner\.lock.*|admin-token.*)$/;

interface LockOwner {
  pid: number;
  host: string;
  started_at?: string;
}

/** Directories this process holds, so a lock naming our own pid is told apart from a stale one of an earlier process. */
const held = new Set<string>();

/** Why a file-system call failed, in words, for one-line startup errors. */
export function describeFsError(err: unknown): string {
  const code = databaseErrorKind(err) === "disk-full" ? "ENOSPC" : errnoName(err);
  return describeErrno(code, err instanceof Error ? err.message : String(err));
}

/** The fix that goes with a file-system failure on the data directory. */
function fixFor(err: unknown, dir: string): string {
  switch (databaseErrorKind(err) === "disk-full" ? "ENOSPC" : errnoName(err)) {
    case "EACCES":
    case "EPERM":
      return `make ${dir} writable by this user, or choose another --db`;
    case "EROFS":
      return "choose a --db on a writable file system";
    case "ENOSPC":
    case "EDQUOT":
      return `free space on the file system of ${dir}, or choose another --db`;
    default:
      return "check the directory, or choose another --db";
  }
}

/** A one-line startup error naming the path and the cause. */
export function dataDirError(what: string, path: string, err: unknown): UsageError {
  return new UsageError(`cannot ${what} ${path}: ${describeFsError(err)}`, fixFor(err, path), "E_DB_DIR");
}

/**
 * Checks `--db DIR` before anything is written: a file is refused, and so is a non-empty directory
 * that is not a coordinator database (so `--db .` never writes among the user's files). Returns
 * whether the directory is new (created now or empty), i.e. whether a failed first start may wipe it.
 */
export function checkDataDir(dir: string): { fresh: boolean } {
  let entries: string[];
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new UsageError(`--db ${dir} is not a directory`, "give a directory for the embedded database (created if missing), e.g. --db .provisioner/db", "E_DB_DIR");
    entries = readdirSync(dir);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (errnoName(err) !== "ENOENT") throw dataDirError("read the database directory", dir, err);
    try {
      // The parents first: a recursive mkdir reports ENOENT where the leaf fails with EROFS or EACCES.
      mkdirSync(dirname(resolve(dir)), { recursive: true });
      mkdirSync(dir, { mode: 0o700 });
    } catch (mkErr) {
      throw dataDirError("create the database directory", dir, mkErr);
    }
    return { fresh: true };
  }
  if (entries.includes("PG_VERSION")) return { fresh: false };
  const foreign = entries.filter((e) => !IGNORABLE.test(e));
  if (foreign.length > 0) {
    throw new UsageError(
      `--db ${dir} is not empty and is not a coordinator database (it holds ${foreign.slice(0, 3).map((e) => JSON.stringify(e)).join(", ")}${foreign.length > 3 ? ", …" : ""})`,
      "give a new or empty directory, e.g. --db .provisioner/db",
      "E_DB_DIR",
    );
  }
  return { fresh: true };
}

/** Removes what a failed first start wrote into a directory that was new or empty. */
export function wipeFreshDataDir(dir: string): void {
  for (const entry of readdirSync(dir)) if (entry !== LOCK_FILE && entry !== "lost+found") rmSync(join(dir, entry), { recursive: true, force: true });
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates `file` with `content` exclusively (O_EXCL, 0600), written and synced before anyone can see it empty. */
export function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if (errnoName(err) === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Makes this process the one owner of a PGlite data directory: a lock file with our pid and host,
 * created exclusively. Another live owner → a one-line refusal naming it; the lock of a process that
 * is gone (same host) is taken over, under a takeover file so two starting processes cannot both.
 */
export function lockDataDir(dir: string): { release(): void } {
  const path = resolve(dir);
  const file = join(path, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  const content = JSON.stringify(me) + "\n";
  const refuse = (owner: LockOwner) =>
    new UsageError(
      `${dir} is in use by another coordinator (pid ${owner.pid}${owner.host === me.host ? "" : ` on ${owner.host}`})`,
      owner.host === me.host ? "stop that coordinator, or give this one another --db" : `stop it; if it is gone, delete ${file}`,
      "E_DB_LOCKED",
    );
  if (held.has(path)) throw refuse(me);
  for (let attempt = 0; ; attempt++) {
    try {
      if (createExclusive(file, content)) break;
    } catch (err) {
      throw dataDirError("lock the database directory", dir, err);
    }
    const owner = readOwner(file);
    if (owner && (owner.host !== me.host || (owner.pid !== me.pid && alive(owner.pid)))) throw refuse(owner);
    // Gone (or unreadable, e.g. cut short by a full disk): take it over, one process at a time.
    if (attempt >= 20) throw new UsageError(`cannot take over the stale lock ${file}`, `delete ${file} if no coordinator uses ${dir}`, "E_DB_LOCKED");
    const takeover = join(path, TAKEOVER_FILE);
    let mine = false;
    try {
      mine = createExclusive(takeover, content);
      if (!mine) {
        // Another process is taking over; a takeover file older than 10 s was left by a crash.
        const t = lstatSync(takeover, { throwIfNoEntry: false });
        if (t && Date.now() - t.mtimeMs > 10_000) unlinkSync(takeover);
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        continue;
      }
      const again = readOwner(file);
      if (JSON.stringify(again) === JSON.stringify(owner)) unlinkSync(file);
    } catch (err) {
      if (errnoName(err) !== "ENOENT") throw dataDirError("take over the stale lock in", dir, err);
    } finally {
      if (mine) rmSync(takeover, { force: true });
    }
  }
  held.add(path);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      held.delete(path);
      // Only our own lock: never remove one another process took over.
      if (readOwner(file)?.pid === me.pid && readOwner(file)?.started_at === me.started_at) rmSync(file, { force: true });
    },
  };
}

/** Bytes available to this user on the file system of `dir` (undefined where statfs is unavailable). */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}
