import { UsageError } from "./errors.js";

/** Longer timers overflow Node's 32-bit timeout and fire at once. */
const MAX_MS = 2 ** 31 - 1;

/** Parses durations like 500ms, 15s, 2m, 1h (a bare number is seconds); zero, negative and overlong ones are refused. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration ${JSON.stringify(text)} for ${flag}`, "use e.g. 500ms, 15s, 2m");
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1) throw new UsageError(`${flag} ${text} is zero`, `give a positive duration, e.g. ${flag} 15s`);
  if (ms > MAX_MS) throw new UsageError(`${flag} ${text} is too long`, `give at most 24 days (e.g. ${flag} 1h)`);
  return ms;
}
