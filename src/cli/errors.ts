/**
 * Error classes for the CLI. Every error carries a stable code so tests and
 * scripts can match on it, and an exit code:
 *   2 — usage / unreadable input (the user must change the command or the input),
 *   1 — the check ran and failed (validation findings, failed e2e assertion),
 *   any other thrown error is internal (exit 70) and printed with its stack.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    readonly code: string,
    /** How to fix it, printed on its own line after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, bad arguments or unreadable input: exit 2. Nothing must have been written. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string, code = "E_USAGE") {
    super(message, 2, code, hint);
  }
}

/** The command ran and what it checked failed: exit 1. */
export class CheckFailedError extends CliError {
  constructor(message: string, code = "E_CHECK_FAILED", hint?: string) {
    super(message, 1, code, hint);
  }
}

export const EXIT_INTERNAL = 70;
