import { Cron } from "croner";

/**
 * `coder_script.cron` as Coder's agent parses it (robfig/cron with Second | Minute | Hour | Dom |
 * Month | DowOptional): six fields with seconds first, or five fields meaning seconds … month with
 * any weekday. So "0 22 * * *" is minute 22 of every hour, exactly as in Coder.
 */
export function coderCronPattern(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  return fields.length === 5 ? `${fields.join(" ")} *` : fields.join(" ");
}

/** Why a cron expression is invalid, or undefined when Coder's agent would accept it. */
export function cronError(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `expected 5 or 6 fields (seconds first), got ${fields.length}`;
  try {
    new Cron(coderCronPattern(expr), { paused: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Runs `fn` on a `coder_script.cron` schedule; a run still going makes the next tick skip. */
export function coderCron(expr: string, fn: () => Promise<void>): Cron {
  return new Cron(coderCronPattern(expr), { protect: true }, fn);
}
