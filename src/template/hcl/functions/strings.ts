/** String functions, with Go's semantics (byte order, simple case mapping, grapheme clusters). */
import { RE2JS } from "re2js";
import { STRING, tupleOf, objectOf, listOf, type Type } from "../types.js";
import { UnknownSignal } from "../diagnostics.js";
import { type Unknown, Value } from "../value.js";
import { elems, FunctionError, type FunctionTable, int, known, str } from "./support.js";

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Extended grapheme clusters, as cty counts "characters". */
export function graphemes(s: string): string[] {
  return Array.from(segmenter.segment(s), (x) => x.segment);
}

/** Go's unicode simple case mapping (strings.ToUpper/ToLower): one code point to one. */
function mapCase(s: string, upper: boolean): string {
  let out = "";
  for (const ch of s) {
    if (ch === "\u0130" && !upper) {
      out += "i";
      continue;
    }
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

/** Go's unicode.IsSpace. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const GO_SPACE_LEADING = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const GO_SPACE_TRAILING = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;

/** Go's strings.Title word separators. */
function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (/[\p{L}\p{Nd}\p{Nl}\p{No}]/u.test(ch)) return false;
  return GO_SPACE.test(ch);
}

/** Go's strings.Replace(s, old, new, -1), including the empty `old` case (between every rune). */
export function replaceAll(s: string, old: string, rep: string): string {
  if (old === "") return rep + [...s].join(rep) + (s === "" ? "" : rep);
  return s.split(old).join(rep);
}

/** Go's regexp template expansion ($1, ${1}, $name, ${name}, $$) for a match. */
function expandTemplate(template: string, groups: (string | null)[], names: Record<string, number>): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== "$" || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close < 0 ? "" : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      end = close + 1;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      name = m[0];
      end = i + 1 + name.length;
    }
    let g = -1;
    if (/^[0-9]+$/.test(name)) g = Number(name);
    else if (name in names) g = names[name];
    if (g >= 0 && g < groups.length) out += groups[g] ?? "";
    i = end - 1;
  }
  return out;
}

/** An RE2 pattern; regex()/regexall() report a bad one as an argument error, replace() as a call error. */
export function compileRegex(pattern: string, arg?: number): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    const msg = (err as Error).message;
    throw new FunctionError(arg === undefined ? msg : `invalid regexp pattern: ${msg}`, arg);
  }
}

interface MatchResult {
  start: number;
  end: number;
  groups: { start: number; end: number }[];
}

function allMatches(re: RE2JS, s: string, limit = Infinity): MatchResult[] {
  const m = re.matcher(s);
  const out: MatchResult[] = [];
  let from = 0;
  let prevEnd = -1;
  while (out.length < limit && from <= s.length && m.find(from)) {
    const start = m.start();
    const end = m.end();
    // Go skips an empty match right after the previous match.
    if (start === end && start === prevEnd) {
      if (from >= s.length) break;
      from = start + (s.codePointAt(start)! > 0xffff ? 2 : 1);
      continue;
    }
    const groups = [];
    for (let g = 1; g <= re.groupCount(); g++) groups.push({ start: m.start(g), end: m.end(g) });
    out.push({ start, end, groups });
    prevEnd = end;
    from = end > start ? end : end + (end < s.length && s.codePointAt(end)! > 0xffff ? 2 : 1);
  }
  return out;
}

/** The result type of regex() for a pattern: string, tuple of strings, or object of named groups. */
function regexResultType(re: RE2JS, arg: number): Type {
  const n = re.groupCount();
  if (n === 0) return STRING;
  const named = re.namedGroups() as Record<string, number>;
  const names = Object.keys(named);
  if (names.length === 0) return tupleOf(Array.from({ length: n }, () => STRING));
  if (names.length !== n) throw new FunctionError("invalid regular expression pattern: can't mix both named and unnamed capture groups", arg);
  return objectOf(names.map((k) => [k, STRING]));
}

function regexResult(re: RE2JS, s: string, m: MatchResult, t: Type): Value {
  if (t.kind === "string") return Value.string(s.slice(m.start, m.end));
  const groupVal = (g: { start: number; end: number }) => (g.start < 0 ? Value.nullOf(STRING) : Value.string(s.slice(g.start, g.end)));
  if (t.kind === "tuple") return Value.tuple(m.groups.map(groupVal));
  const named = re.namedGroups() as Record<string, number>;
  return Value.object(Object.entries(named).map(([k, i]) => [k, groupVal(m.groups[i - 1])]));
}

export const STRING_FUNCTIONS: FunctionTable = {
  chomp: { impl: ([s]) => Value.string(str(s).replace(/(?:\r\n?|\n)*$/, "")) },
  endswith: { impl: ([s, suffix]) => Value.bool(str(s).endsWith(str(suffix))) },
  startswith: {
    allowUnknown: true,
    impl: ([s, prefix]) => {
      const p = str(prefix);
      if (!s.isKnown) {
        // cty: a string known to start with a prefix can already answer.
        const known = (s.raw as Unknown).prefix ?? "";
        if (known.startsWith(p)) return Value.bool(true);
        if (!p.startsWith(known)) return Value.bool(false);
        throw new UnknownSignal(s.unknownReason ?? "");
      }
      return Value.bool(str(s).startsWith(p));
    },
  },
  strcontains: { impl: ([s, sub]) => Value.bool(str(s).includes(str(sub))) },
  indent: {
    impl: ([n, s]) => {
      const spaces = int(n, "number of spaces", 0);
      return Value.string(str(s).replace(/\n/g, "\n" + " ".repeat(Math.max(0, spaces))));
    },
  },
  join: {
    impl: ([sep, ...lists]) => {
      if (lists.length === 0) throw new FunctionError("at least one list is required");
      const parts: string[] = [];
      lists.forEach((l, li) => {
        elems(l).forEach((e, i) => {
          if (e.isNull) throw new FunctionError(`element ${i} is null`, li + 1);
          parts.push(str(e));
        });
      });
      return Value.string(parts.join(str(sep)));
    },
  },
  lower: { impl: ([s]) => Value.string(mapCase(str(s), false)) },
  upper: { impl: ([s]) => Value.string(mapCase(str(s), true)) },
  title: {
    impl: ([s]) => {
      let prev = " ";
      let out = "";
      for (const ch of str(s)) {
        out += isSeparator(prev) ? mapCase(ch, true) : ch;
        prev = ch;
      }
      return Value.string(out);
    },
  },
  replace: {
    impl: ([s, search, rep]) => {
      const text = str(s);
      const pattern = str(search);
      const replacement = str(rep);
      if (pattern.length > 1 && pattern.startsWith("/") && pattern.endsWith("/")) {
        const re = compileRegex(pattern.slice(1, -1));
        const names = re.namedGroups() as Record<string, number>;
        let out = "";
        let last = 0;
        for (const m of allMatches(re, text)) {
          out += text.slice(last, m.start);
          const groups = [text.slice(m.start, m.end), ...m.groups.map((g) => (g.start < 0 ? null : text.slice(g.start, g.end)))];
          out += expandTemplate(replacement, groups, names);
          last = m.end;
        }
        return Value.string(out + text.slice(last));
      }
      return Value.string(replaceAll(text, pattern, replacement));
    },
  },
  regex: {
    impl: ([p, s]) => {
      const re = compileRegex(str(p), 0);
      const t = regexResultType(re, 0);
      const text = str(s);
      const [m] = allMatches(re, text, 1);
      if (!m) throw new FunctionError("pattern did not match any part of the given string");
      return regexResult(re, text, m, t);
    },
    returnType: ([p]) => {
      try {
        return p.isKnown ? regexResultType(compileRegex(p.asString(), 0), 0) : STRING;
      } catch {
        return STRING;
      }
    },
  },
  regexall: {
    impl: ([p, s]) => {
      const re = compileRegex(str(p), 0);
      const t = regexResultType(re, 0);
      const text = str(s);
      return Value.list(
        allMatches(re, text).map((m) => regexResult(re, text, m, t)),
        t,
      );
    },
    returnType: ([p]) => {
      try {
        return listOf(p.isKnown ? regexResultType(compileRegex(p.asString(), 0), 0) : STRING);
      } catch {
        return listOf(STRING);
      }
    },
  },
  split: {
    impl: ([sep, s]) => {
      const sp = str(sep);
      const text = str(s);
      const parts = sp === "" ? [...text] : text.split(sp);
      return Value.list(
        parts.map((x) => Value.string(x)),
        STRING,
      );
    },
  },
  strrev: { impl: ([s]) => Value.string(graphemes(str(s)).reverse().join("")) },
  substr: {
    impl: ([s, o, l]) => {
      const g = graphemes(str(s));
      let offset = int(o, "offset", 1);
      const length = int(l, "length", 2);
      if (offset < 0) offset = Math.max(0, offset + g.length);
      const rest = g.slice(offset);
      return Value.string((length < 0 ? rest : rest.slice(0, length)).join(""));
    },
  },
  trim: {
    impl: ([s, cut]) => {
      const set = new Set([...str(cut)]);
      const chars = [...str(s)];
      let a = 0;
      let b = chars.length;
      while (a < b && set.has(chars[a])) a++;
      while (b > a && set.has(chars[b - 1])) b--;
      return Value.string(chars.slice(a, b).join(""));
    },
  },
  trimprefix: {
    impl: ([s, p]) => {
      const text = str(s);
      const prefix = str(p);
      return Value.string(text.startsWith(prefix) ? text.slice(prefix.length) : text);
    },
  },
  trimsuffix: {
    impl: ([s, p]) => {
      const text = str(s);
      const suffix = str(p);
      return Value.string(suffix !== "" && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text);
    },
  },
  trimspace: { impl: ([s]) => Value.string(str(s).replace(GO_SPACE_LEADING, "").replace(GO_SPACE_TRAILING, "")) },
};

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export { known };
