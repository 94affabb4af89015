/** Date and time functions over RFC 3339 timestamps, as Terraform's (Go's time package). */
import { Value } from "../value.js";
import { FunctionError, type FunctionTable, str } from "./support.js";

interface Timestamp {
  /** Milliseconds since the epoch, UTC. */
  ms: number;
  /** Nanoseconds within the millisecond. */
  subNanos: number;
  /** Offset from UTC in minutes, and whether it was written as Z. */
  offset: number;
  utc: boolean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function parseTimestamp(s: string, arg: number): Timestamp {
  const m = RFC3339.exec(s);
  const bad = () => new FunctionError(`not a valid RFC3339 timestamp: cannot use ${JSON.stringify(s)} as year`, arg);
  if (!m) throw bad();
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) throw new FunctionError(`not a valid RFC3339 timestamp: ${JSON.stringify(s)} is out of range`, arg);
  const frac = (m[7] ?? "").padEnd(9, "0");
  const utc = m[8] === "Z";
  const offset = utc ? 0 : (m[8][0] === "-" ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) + Number(frac.slice(0, 3)) - offset * 60_000;
  return { ms, subNanos: Number(frac.slice(3)), offset, utc };
}

/** Calendar fields of the timestamp in its own offset. */
function fields(t: Timestamp) {
  const local = new Date(t.ms + t.offset * 60_000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth(),
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function zoneOffset(t: Timestamp, colon: boolean): string {
  const sign = t.offset < 0 ? "-" : "+";
  const a = Math.abs(t.offset);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ":" : ""}${pad(a % 60)}`;
}

/** Go's time.RFC3339 layout (no fractional seconds). */
function formatRfc3339(t: Timestamp): string {
  const f = fields(t);
  return `${pad(f.year, 4)}-${pad(f.month + 1)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${t.utc ? "Z" : zoneOffset(t, true)}`;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function formatDate(spec: string, t: Timestamp): string {
  const f = fields(t);
  let out = "";
  let i = 0;
  while (i < spec.length) {
    const c = spec[i];
    if (c === "'") {
      // A quoted literal; '' is a literal quote, inside or outside quotes.
      if (spec[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      for (;;) {
        if (j >= spec.length) throw new FunctionError("unterminated literal '", 0);
        if (spec[j] === "'" && spec[j + 1] === "'") {
          out += "'";
          j += 2;
        } else if (spec[j] === "'") break;
        else out += spec[j++];
      }
      i = j + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      out += c;
      i++;
      continue;
    }
    let j = i;
    while (j < spec.length && spec[j] === c) j++;
    const tok = spec.slice(i, j);
    const h12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
    const table: Record<string, () => string> = {
      YYYY: () => pad(f.year, 4),
      YY: () => pad(f.year % 100),
      MMMM: () => MONTHS[f.month],
      MMM: () => MONTHS[f.month].slice(0, 3),
      MM: () => pad(f.month + 1),
      M: () => String(f.month + 1),
      DD: () => pad(f.day),
      D: () => String(f.day),
      EEEE: () => DAYS[f.weekday],
      EEE: () => DAYS[f.weekday].slice(0, 3),
      hh: () => pad(f.hour),
      h: () => String(f.hour),
      HH: () => pad(h12),
      H: () => String(h12),
      AA: () => (f.hour < 12 ? "AM" : "PM"),
      aa: () => (f.hour < 12 ? "am" : "pm"),
      mm: () => pad(f.minute),
      m: () => String(f.minute),
      ss: () => pad(f.second),
      s: () => String(f.second),
      ZZZZZ: () => zoneOffset(t, true),
      ZZZZ: () => zoneOffset(t, false),
      ZZZ: () => (t.utc ? "UTC" : zoneOffset(t, false)),
      Z: () => (t.utc ? "Z" : zoneOffset(t, true)),
    };
    const fn = table[tok];
    if (!fn) throw new FunctionError(`invalid date format verb ${JSON.stringify(tok)}: must be one of YYYY, YY, MMMM, MMM, MM, M, DD, D, EEEE, EEE, hh, h, HH, H, AA, aa, mm, m, ss, s, ZZZZZ, ZZZZ, ZZZ, or Z`, 0);
    out += fn();
    i = j;
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
function parseDuration(s: string): number {
  const orig = s;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new FunctionError(`time: invalid duration ${JSON.stringify(orig)}`);
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(\.\d*)?/.exec(s)!;
    if (m[0] === "" || m[0] === ".") throw new FunctionError(`time: invalid duration ${JSON.stringify(orig)}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new FunctionError(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new FunctionError(`time: unknown unit ${JSON.stringify(u[0])} in duration ${JSON.stringify(orig)}`);
    total += Number(m[0]) * unit;
    s = s.slice(u[0].length);
  }
  return neg ? -total : total;
}

export function timestampNow(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const DATETIME_FUNCTIONS: FunctionTable = {
  formatdate: { impl: ([spec, ts]) => Value.string(formatDate(str(spec), parseTimestamp(str(ts), 1))) },
  timeadd: {
    impl: ([ts, d]) => {
      const t = parseTimestamp(str(ts), 0);
      const nanos = parseDuration(str(d)) + t.subNanos;
      const ms = t.ms + Math.floor(nanos / 1e6);
      return Value.string(formatRfc3339({ ...t, ms, subNanos: ((nanos % 1e6) + 1e6) % 1e6 }));
    },
  },
  timecmp: {
    impl: ([a, b]) => {
      const x = parseTimestamp(str(a), 0);
      const y = parseTimestamp(str(b), 1);
      const c = x.ms - y.ms || x.subNanos - y.subNanos;
      return Value.int(c < 0 ? -1 : c > 0 ? 1 : 0);
    },
  },
  timestamp: { impl: (_args, ctx) => Value.string(timestampNow(ctx.evaluator.scope.now)) },
  plantimestamp: { impl: (_args, ctx) => Value.string(timestampNow(ctx.evaluator.scope.now)) },
};
