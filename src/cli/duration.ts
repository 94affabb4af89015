import { UsageError } from "./errors.js";

/** Parses durations like 500ms, 15s, 2m, 1h (a bare number is seconds). */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration ${JSON.stringify(text)} for ${flag}`, "use e.g. 500ms, 15s, 2m");
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}
