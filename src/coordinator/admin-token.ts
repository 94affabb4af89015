import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { UsageError } from "../errors.js";
import { createExclusive, dataDirError, describeFsError } from "./db/data-dir.js";
import { errnoName } from "./db/errors.js";

/** Shorter tokens are refused: the admin token guards every workspace. Generated ones have 32 characters. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
const MAX_TOKEN_FILE_BYTES = 4096;

export function generateAdminToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * Refuses an empty token (it would match an empty header) and, from an operator (flag, environment,
 * file), a short one. Programs embedding the coordinator (tests, e2e) choose their own.
 */
export function checkAdminToken(token: string, source: string, minLength = MIN_ADMIN_TOKEN_LENGTH): string {
  if (token.length === 0) throw new UsageError(`the admin token from ${source} is empty`, "give a token of at least 16 characters, or none to have one generated", "E_ADMIN_TOKEN");
  if (token.length < minLength) {
    throw new UsageError(`the admin token from ${source} is too short (${token.length} characters)`, `use at least ${minLength} characters, e.g. \`openssl rand -base64 24\``, "E_ADMIN_TOKEN");
  }
  if (/\s/.test(token)) throw new UsageError(`the admin token from ${source} contains whitespace`, "use a token without spaces or line breaks inside", "E_ADMIN_TOKEN");
  return token;
}

/**
 * Reads a token file only if it is the operator's alone: a regular file owned by this user (or root,
 * who can read anything anyway) that no group or other user can access. A token another local user
 * could plant or read is refused. `followSymlinks` is for a file the operator named (Kubernetes
 * secrets are symlinks); the data directory's own file must be a plain file.
 */
export function readAdminTokenFile(file: string, opts: { followSymlinks: boolean }): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (opts.followSymlinks ? 0 : constants.O_NOFOLLOW));
  } catch (err) {
    if (errnoName(err) === "ELOOP") throw new UsageError(`refusing the admin token file ${file}: it is a symbolic link`, `delete it to have a new token generated, or pass --admin-token-file`, "E_ADMIN_TOKEN");
    throw new UsageError(`cannot read the admin token file ${file}: ${errnoName(err) === "ENOENT" ? "no such file" : describeFsError(err)}`, "check the path (or omit it to have a token generated)", "E_ADMIN_TOKEN");
  }
  try {
    const st = fstatSync(fd);
    const fix = `run \`chmod 600 ${file}\` as its owner, or delete it to have a new token generated`;
    if (!st.isFile()) throw new UsageError(`refusing the admin token file ${file}: not a regular file`, "give a regular file", "E_ADMIN_TOKEN");
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
      throw new UsageError(`refusing the admin token file ${file}: it belongs to uid ${st.uid}, not to this user (uid ${uid})`, `delete it to have a new token generated, or create your own with mode 0600`, "E_ADMIN_TOKEN");
    }
    if ((st.mode & 0o077) !== 0) throw new UsageError(`refusing the admin token file ${file}: group or others may access it (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`, fix, "E_ADMIN_TOKEN");
    if (st.size > MAX_TOKEN_FILE_BYTES) throw new UsageError(`refusing the admin token file ${file}: ${st.size} bytes is not a token`, "give a file holding only the token", "E_ADMIN_TOKEN");
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return checkAdminToken(buf.subarray(0, n).toString("utf8").trim(), file);
  } finally {
    closeSync(fd);
  }
}

/**
 * The token kept in the data directory: generated and created exclusively (mode 0600, written and
 * synced before it is visible, so a full disk never leaves an empty one), or the existing one if it
 * passes readAdminTokenFile's checks.
 */
export function adminTokenInDataDir(file: string): { token: string; generated: boolean } {
  const fresh = generateAdminToken();
  let created: boolean;
  try {
    created = createExclusive(file, fresh + "\n");
  } catch (err) {
    throw dataDirError("create the admin token file", file, err);
  }
  if (created) return { token: fresh, generated: true };
  return { token: readAdminTokenFile(file, { followSymlinks: false }), generated: false };
}

/**
 * Compares a presented token with the admin token in constant time (both hashed first, so neither
 * the length nor the content leaks through timing). An empty or missing header never matches.
 */
export function adminTokenMatcher(token: string): (presented: string | undefined) => boolean {
  const expected = createHash("sha256").update(token).digest();
  return (presented) => Boolean(presented) && token.length > 0 && timingSafeEqual(createHash("sha256").update(presented!).digest(), expected);
}
