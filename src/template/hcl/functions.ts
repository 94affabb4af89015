import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { stringify as yamlStringify } from "yaml";
import type { Expr } from "./ast.js";
import { EvalError, type Evaluator, type HclValue, deepEqual, formatNumber, iterate, toBool, toNumber, toStr, typeName } from "./evaluate.js";
import { parseTemplate } from "./parser.js";

type Fn = (args: HclValue[], line: number, ev: Evaluator) => HclValue;

const list = (v: HclValue, fn: string, line: number): HclValue[] => {
  if (Array.isArray(v)) return v;
  throw new EvalError(`${fn}: a list is required, got ${typeName(v)}`, line);
};
const obj = (v: HclValue, fn: string, line: number): Record<string, HclValue> => {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return v;
  throw new EvalError(`${fn}: a map or object is required, got ${typeName(v)}`, line);
};

/** Terraform's jsonencode: keys sorted, HTML-sensitive characters escaped like Go's encoder. */
export function jsonencode(v: HclValue): string {
  const enc = (x: HclValue): string => {
    if (x === null) return "null";
    if (typeof x === "string") return JSON.stringify(x).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    if (Array.isArray(x)) return `[${x.map(enc).join(",")}]`;
    return `{${Object.keys(x).sort().map((k) => `${enc(k)}:${enc(x[k])}`).join(",")}}`;
  };
  return enc(v);
}

function format(spec: string, args: HclValue[], line: number): string {
  let n = 0;
  return spec.replace(/%([-+ #0]*)(\d+)?(?:\.(\d+))?([sdqvtfx%])/g, (_m, _flags, width, prec, verb: string) => {
    if (verb === "%") return "%";
    if (n >= args.length) throw new EvalError("format: not enough arguments for the format string", line);
    const a = args[n++];
    let s: string;
    switch (verb) {
      case "s":
        s = toStr(a, line);
        break;
      case "d":
        s = String(Math.trunc(toNumber(a, line)));
        break;
      case "f":
        s = toNumber(a, line).toFixed(prec ? Number(prec) : 6);
        break;
      case "x":
        s = Math.trunc(toNumber(a, line)).toString(16);
        break;
      case "q":
        s = JSON.stringify(toStr(a, line));
        break;
      case "t":
        s = String(toBool(a, line));
        break;
      default:
        s = typeof a === "object" && a !== null ? jsonencode(a) : toStr(a, line);
    }
    return width ? s.padStart(Number(width)) : s;
  });
}

const FUNCTIONS: Record<string, Fn> = {
  file: ([p], _l, ev) => ev.readFile(toStr(p)),
  base64encode: ([s]) => Buffer.from(toStr(s), "utf8").toString("base64"),
  base64decode: ([s], l) => {
    const str = toStr(s);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(str) || str.length % 4 !== 0) throw new EvalError("base64decode: the given value is not valid base64", l);
    return Buffer.from(str, "base64").toString("utf8");
  },
  base64gzip: ([s]) => gzipSync(Buffer.from(toStr(s), "utf8")).toString("base64"),
  filebase64: ([p], _l, ev) => Buffer.from(ev.readFile(toStr(p)), "utf8").toString("base64"),
  jsonencode: ([v]) => jsonencode(v),
  jsondecode: ([s], l) => {
    try {
      return JSON.parse(toStr(s)) as HclValue;
    } catch (err) {
      throw new EvalError(`jsondecode: ${(err as Error).message}`, l);
    }
  },
  yamlencode: ([v]) => yamlStringify(v, { sortMapEntries: true }),
  join: ([sep, ...lists], l) => lists.flatMap((x) => list(x, "join", l)).map((x) => toStr(x, l)).join(toStr(sep)),
  split: ([sep, s]) => toStr(s).split(toStr(sep)),
  format: ([spec, ...args], l) => format(toStr(spec), args, l),
  formatlist: ([spec, ...args], l) => {
    const n = Math.max(1, ...args.filter(Array.isArray).map((a) => a.length));
    return Array.from({ length: n }, (_, i) => format(toStr(spec), args.map((a) => (Array.isArray(a) ? a[i] : a)), l));
  },
  lower: ([s]) => toStr(s).toLowerCase(),
  upper: ([s]) => toStr(s).toUpperCase(),
  title: ([s]) => toStr(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  replace: ([s, search, rep]) => {
    const str = toStr(s);
    const pattern = toStr(search);
    const replacement = toStr(rep);
    if (pattern.length > 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
      return str.replace(new RegExp(pattern.slice(1, -1), "g"), replacement.replace(/\$\{(\w+)\}/g, "$$<$1>"));
    }
    return str.split(pattern).join(replacement);
  },
  trimspace: ([s]) => toStr(s).trim(),
  trim: ([s, chars]) => {
    const set = new Set(toStr(chars));
    let str = toStr(s);
    while (str && set.has(str[0])) str = str.slice(1);
    while (str && set.has(str[str.length - 1])) str = str.slice(0, -1);
    return str;
  },
  trimprefix: ([s, p]) => (toStr(s).startsWith(toStr(p)) ? toStr(s).slice(toStr(p).length) : toStr(s)),
  trimsuffix: ([s, p]) => (toStr(p) && toStr(s).endsWith(toStr(p)) ? toStr(s).slice(0, -toStr(p).length) : toStr(s)),
  chomp: ([s]) => toStr(s).replace(/(\r?\n)+$/, ""),
  indent: ([n, s]) => toStr(s).replace(/\n/g, "\n" + " ".repeat(toNumber(n))),
  startswith: ([s, p]) => toStr(s).startsWith(toStr(p)),
  endswith: ([s, p]) => toStr(s).endsWith(toStr(p)),
  substr: ([s, off, len]) => {
    const chars = [...toStr(s)];
    const start = toNumber(off) < 0 ? chars.length + toNumber(off) : toNumber(off);
    const n = toNumber(len);
    return chars.slice(start, n < 0 ? undefined : start + n).join("");
  },
  strrev: ([s]) => [...toStr(s)].reverse().join(""),
  length: ([v], l) => {
    if (typeof v === "string") return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v !== null && typeof v === "object") return Object.keys(v).length;
    throw new EvalError(`length: cannot take the length of ${typeName(v)}`, l);
  },
  lookup: ([m, k, def], l) => {
    const o = obj(m, "lookup", l);
    const key = toStr(k, l);
    if (key in o) return o[key];
    if (def !== undefined) return def;
    throw new EvalError(`lookup: key ${JSON.stringify(key)} not found and no default given`, l);
  },
  merge: (args, l) => Object.assign({}, ...args.filter((a) => a !== null).map((a) => obj(a, "merge", l))),
  concat: (args, l) => args.flatMap((a) => list(a, "concat", l)),
  element: ([xs, i], l) => {
    const arr = list(xs, "element", l);
    if (arr.length === 0) throw new EvalError("element: cannot use element function with an empty list", l);
    return arr[((toNumber(i) % arr.length) + arr.length) % arr.length];
  },
  keys: ([m], l) => Object.keys(obj(m, "keys", l)).sort(),
  values: ([m], l) => Object.keys(obj(m, "values", l)).sort().map((k) => (m as Record<string, HclValue>)[k]),
  contains: ([xs, v], l) => list(xs, "contains", l).some((x) => deepEqual(x, v)),
  distinct: ([xs], l) => list(xs, "distinct", l).filter((x, i, arr) => arr.findIndex((y) => deepEqual(x, y)) === i),
  flatten: ([xs], l) => {
    const out: HclValue[] = [];
    const walk = (v: HclValue) => (Array.isArray(v) ? v.forEach(walk) : out.push(v));
    list(xs, "flatten", l).forEach(walk);
    return out;
  },
  range: (args) => {
    const nums = args.map((a) => toNumber(a));
    const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? (nums[1] >= nums[0] ? 1 : -1)];
    const out: number[] = [];
    for (let x = start; step > 0 ? x < end : x > end; x += step) out.push(x);
    return out;
  },
  slice: ([xs, a, b], l) => list(xs, "slice", l).slice(toNumber(a), toNumber(b)),
  reverse: ([xs], l) => [...list(xs, "reverse", l)].reverse(),
  sort: ([xs], l) => list(xs, "sort", l).map((x) => toStr(x, l)).sort(),
  zipmap: ([ks, vs], l) => Object.fromEntries(list(ks, "zipmap", l).map((k, i) => [toStr(k, l), list(vs, "zipmap", l)[i]])),
  coalesce: (args, l) => {
    const v = args.find((a) => a !== null && a !== "");
    if (v === undefined) throw new EvalError("coalesce: no non-null, non-empty argument", l);
    return v;
  },
  compact: ([xs], l) => list(xs, "compact", l).filter((x) => x !== null && x !== ""),
  one: ([xs], l) => {
    const arr = list(xs, "one", l);
    if (arr.length > 1) throw new EvalError("one: must be a list with no more than one element", l);
    return arr[0] ?? null;
  },
  tostring: ([v], l) => (v === null ? null : toStr(v, l)),
  tonumber: ([v], l) => (v === null ? null : toNumber(v, l)),
  tobool: ([v], l) => (v === null ? null : toBool(v, l)),
  tolist: ([v], l) => list(v, "tolist", l),
  toset: ([v], l) => FUNCTIONS.distinct([v], l, undefined as never),
  tomap: ([v], l) => obj(v, "tomap", l),
  abs: ([n]) => Math.abs(toNumber(n)),
  ceil: ([n]) => Math.ceil(toNumber(n)),
  floor: ([n]) => Math.floor(toNumber(n)),
  min: (args) => Math.min(...args.map((a) => toNumber(a))),
  max: (args) => Math.max(...args.map((a) => toNumber(a))),
  sha1: ([s]) => createHash("sha1").update(toStr(s)).digest("hex"),
  sha256: ([s]) => createHash("sha256").update(toStr(s)).digest("hex"),
  md5: ([s]) => createHash("md5").update(toStr(s)).digest("hex"),
  urlencode: ([s]) => encodeURIComponent(toStr(s)).replace(/%20/g, "+"),
  regex: ([p, s], l) => {
    const m = new RegExp(toStr(p)).exec(toStr(s));
    if (!m) throw new EvalError("regex: pattern did not match", l);
    if (m.groups) return m.groups as Record<string, HclValue>;
    return m.length > 1 ? m.slice(1) : m[0];
  },
};

/** Calls a function. try() and can() take their arguments unevaluated so they can catch errors. */
export function callFunction(ev: Evaluator, e: Extract<Expr, { kind: "call" }>, vars: Map<string, HclValue>): HclValue {
  const line = e.pos.line;
  if (e.name === "try" || e.name === "can") {
    for (const arg of e.args) {
      try {
        const v = ev.eval(arg, vars);
        if (e.name === "can") return true;
        return v;
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
      }
    }
    if (e.name === "can") return false;
    throw new EvalError("try: no expression succeeded", line);
  }
  let args = e.args.map((a) => ev.eval(a, vars));
  if (e.expandLast && args.length > 0) args = [...args.slice(0, -1), ...list(args[args.length - 1], e.name, line)];
  if (e.name === "templatefile") {
    const [path, tvars] = args;
    const text = ev.readFile(toStr(path, line));
    const t = parseTemplate(text);
    if (t.kind !== "template") throw new EvalError("templatefile: not a template", line);
    const bound = new Map(Object.entries(tvars === undefined ? {} : obj(tvars, "templatefile", line)));
    // templatefile() sees only its own variables (plus functions), never the caller's scope.
    return ev.renderParts(t.parts, bound);
  }
  const fn = FUNCTIONS[e.name];
  if (!fn) throw new EvalError(`call to unknown function ${e.name}()`, line);
  try {
    return fn(args, line, ev);
  } catch (err) {
    if (err instanceof EvalError) throw err;
    throw new EvalError(`${e.name}: ${(err as Error).message}`, line);
  }
}

export { iterate, formatNumber };
