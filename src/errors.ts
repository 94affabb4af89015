/**
 * Errors a user can fix, for every layer (scaffold, synth, coordinator startup, e2e…). Each carries a
 * one-line message, how to fix it, and a stable code scripts and tests match on. They say nothing
 * about exit codes: the CLI maps them in one place (src/cli/errors.ts).
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** How to fix it, printed on its own line after the message. */
    readonly hint: string | undefined,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, bad arguments or unusable input (a path, a file, a directory): nothing was written. */
export class UsageError extends UserError {
  constructor(message: string, hint?: string, code = "E_USAGE") {
    super(message, hint, code);
  }
}

/** The command ran and what it checked or asked for failed (findings, a refused agent, a failed e2e check). */
export class CheckFailedError extends UserError {
  constructor(message: string, code = "E_CHECK_FAILED", hint?: string) {
    super(message, hint, code);
  }
}

/** A file-system errno code (EACCES, ENOSPC, …) in words, for one-line messages. */
export function describeErrno(code: string | undefined, fallback: string): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
    case "EDQUOT":
      return "no space left on device";
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
    case "EEXIST":
      return "not a directory";
    case "EISDIR":
      return "is a directory";
    case "ELOOP":
      return "too many symbolic links";
    case "EIO":
      return "I/O error";
    default:
      return code ?? fallback;
  }
}
