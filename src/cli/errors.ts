import { CheckFailedError, UserError, UsageError } from "../errors.js";

export { CheckFailedError, UsageError, UserError };

/**
 * Exit codes, decided here only:
 *   2 — usage / unusable input (the user must change the command or the input),
 *   1 — the command ran and what it checked failed (findings, a refused agent, a failed e2e check),
 *  70 — anything else is internal (a bug): one line, the stack only with --debug or PROVISIONER_DEBUG=1.
 */
export const EXIT_USAGE = 2;
export const EXIT_FAILED = 1;
export const EXIT_INTERNAL = 70;

export function exitCodeOf(err: unknown): number {
  if (err instanceof CheckFailedError) return EXIT_FAILED;
  if (err instanceof UserError) return EXIT_USAGE;
  return EXIT_INTERNAL;
}
