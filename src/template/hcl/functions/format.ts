/**
 * format() and formatlist() as cty implements them: its verb syntax, Go's fmt rules for numbers
 * (big.Float and big.Int formatting), grapheme-counted widths for strings, JSON for %q, %#v and
 * collections.
 */
import { convert } from "../convert.js";
import type { BigFloat } from "../number.js";
import { BOOL, NUMBER, STRING } from "../types.js";
import { Value } from "../value.js";
import { jsonEncode } from "./encoding.js";
import { graphemes } from "./strings.js";
import { elems, FunctionError, type FunctionTable, str, whollyKnown } from "./support.js";
import { UnknownSignal } from "../diagnostics.js";

interface Verb {
  raw: string;
  offset: number;
  argNum: number;
  sharp: boolean;
  zero: boolean;
  plus: boolean;
  minus: boolean;
  space: boolean;
  width: number;
  prec: number;
  mode: string;
}

/** cty's formatFSM: renders `format` with `args` (all known). */
export function formatString(format: string, args: Value[]): string {
  let out = "";
  let next = 0;
  let used = 0;
  const bytes = Buffer.from(format, "utf8");
  const byteOffset = (i: number) => Buffer.byteLength(format.slice(0, i), "utf8");
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    if (format[i + 1] === "%") {
      out += "%";
      i += 2;
      continue;
    }
    const m = /^%([ +\-#0]*)(?:\[([0-9]+)\])?([0-9]+)?(?:\.([0-9]*))?([A-Za-z])?/.exec(format.slice(i));
    if (!m || !m[5]) throw new FunctionError(`invalid format string starting at offset ${byteOffset(i)}`);
    const flags = m[1];
    const verb: Verb = {
      raw: m[0],
      offset: byteOffset(i),
      argNum: m[2] !== undefined ? Number(m[2]) : next + 1,
      sharp: flags.includes("#"),
      zero: flags.includes("0"),
      plus: flags.includes("+"),
      minus: flags.includes("-"),
      space: flags.includes(" "),
      width: m[3] !== undefined ? Number(m[3]) : -1,
      prec: m[4] !== undefined ? Number(m[4] || "0") : -1,
      mode: m[5],
    };
    next = verb.argNum;
    used = Math.max(used, verb.argNum);
    out += formatVerb(verb, args);
    i += m[0].length;
  }
  void bytes;
  if (used < args.length) throw new FunctionError(`too many arguments; only ${used} used by format string`, used + 1);
  return out;
}

function formatVerb(verb: Verb, args: Value[]): string {
  const idx = verb.argNum - 1;
  if (idx < 0 || idx >= args.length) {
    throw new FunctionError(`not enough arguments for ${JSON.stringify(verb.raw)} at ${verb.offset}: need index ${verb.argNum} but have ${args.length} total`);
  }
  let arg = args[idx];
  if (verb.mode !== "v" && arg.isNull) throw new FunctionError(`unsupported value for ${JSON.stringify(verb.raw)} at ${verb.offset}: null value cannot be formatted`);
  const convertTo = (t: typeof STRING) => {
    try {
      return convert(arg, t);
    } catch (err) {
      throw new FunctionError(`unsupported value for ${JSON.stringify(verb.raw)} at ${verb.offset}: ${(err as Error).message}`);
    }
  };
  switch (verb.mode) {
    case "v":
      if (!verb.sharp && !arg.isNull) {
        if (arg.type.kind === "string") return padWidth(verb, arg.asString());
        if (arg.type.kind === "number") return padWidth(verb, arg.asNumber().toText("g", -1));
      }
      return padWidth(verb, jsonEncode(arg));
    case "t":
      return convertTo(BOOL).asBool() ? "true" : "false";
    case "b":
    case "d":
    case "o":
    case "x":
    case "X":
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G": {
      arg = convertTo(NUMBER);
      const n = arg.asNumber();
      if ("bdoxX".includes(verb.mode)) {
        if (!n.isInt()) throw new FunctionError(`unsupported value for ${JSON.stringify(verb.raw)} at ${verb.offset}: an integer is required`);
        return formatInt(verb, n.toBigInt());
      }
      return formatFloat(verb, n);
    }
    case "s":
    case "q": {
      let s = convertTo(STRING).asString();
      if (verb.prec > 0) s = graphemes(s).slice(0, verb.prec).join("");
      return padWidth(verb, verb.mode === "q" ? jsonEncode(Value.string(s)) : s);
    }
    default:
      throw new FunctionError(`unsupported format verb ${JSON.stringify(verb.mode)} in ${JSON.stringify(verb.raw)} at offset ${verb.offset}`);
  }
}

function padWidth(verb: Verb, s: string): string {
  if (verb.width < 0) return s;
  const len = graphemes(s).length;
  if (len >= verb.width) return s;
  const pad = (verb.zero ? "0" : " ").repeat(verb.width - len);
  return verb.minus ? s + pad : pad + s;
}

/** Go's big.Int Format. */
function formatInt(verb: Verb, x: bigint): string {
  const base = verb.mode === "b" ? 2 : verb.mode === "o" ? 8 : verb.mode === "d" ? 10 : 16;
  const neg = x < 0n;
  let digits = (neg ? -x : x).toString(base);
  if (verb.mode === "X") digits = digits.toUpperCase();
  const sign = neg ? "-" : verb.plus ? "+" : verb.space ? " " : "";
  let prefix = "";
  if (verb.sharp) prefix = verb.mode === "b" ? "0b" : verb.mode === "o" ? "0" : verb.mode === "x" ? "0x" : verb.mode === "X" ? "0X" : "";
  let zeros = 0;
  const precisionSet = verb.prec >= 0;
  if (precisionSet) {
    if (digits.length < verb.prec) zeros = verb.prec - digits.length;
    else if (digits === "0" && verb.prec === 0) return "";
  }
  const length = sign.length + prefix.length + zeros + digits.length;
  let left = 0;
  let right = 0;
  if (verb.width >= 0 && length < verb.width) {
    const d = verb.width - length;
    if (verb.minus) right = d;
    else if (verb.zero && !precisionSet) zeros = d;
    else left = d;
  }
  return " ".repeat(left) + sign + prefix + "0".repeat(zeros) + digits + " ".repeat(right);
}

/** Go's big.Float Format for e, E, f, F, g, G. */
function formatFloat(verb: Verb, x: BigFloat): string {
  const mode = verb.mode === "F" ? "f" : (verb.mode as "e" | "E" | "f" | "g" | "G");
  let prec = verb.prec;
  if (prec < 0) prec = mode === "g" || mode === "G" ? -1 : 6;
  let buf = x.toText(mode, prec);
  let sign = "";
  if (buf[0] === "-") {
    sign = "-";
    buf = buf.slice(1);
  } else if (buf[0] === "+") {
    sign = verb.space ? " " : "+";
    buf = buf.slice(1);
  } else if (verb.plus) sign = "+";
  else if (verb.space) sign = " ";
  let padding = 0;
  if (verb.width >= 0 && verb.width > sign.length + buf.length) padding = verb.width - sign.length - buf.length;
  if (verb.zero && !x.isInf()) return sign + "0".repeat(padding) + buf;
  if (verb.minus) return sign + buf + " ".repeat(padding);
  return " ".repeat(padding) + sign + buf;
}

export const FORMAT_FUNCTIONS: FunctionTable = {
  format: {
    allowUnknown: true,
    impl: ([spec, ...args]) => {
      const fmt = str(spec);
      // cty's format: any null or unknown argument makes the result unknown.
      for (const a of args) {
        if (a.isNull) throw new UnknownSignal("format() with a null argument");
        whollyKnown(a);
      }
      return Value.string(formatString(fmt, args));
    },
  },
  formatlist: {
    allowUnknown: true,
    impl: ([spec, ...args]) => {
      const fmt = str(spec);
      if (args.length === 0) return Value.list([Value.string(formatString(fmt, []))], STRING);
      let iterLen = -1;
      let chooser = -1;
      const lists: (Value[] | undefined)[] = [];
      let unknown: string | undefined;
      args.forEach((a, i) => {
        const t = a.type.kind;
        if ((t === "list" || t === "set" || t === "tuple") && !a.isNull) {
          if (!a.isKnown) {
            if (t === "tuple") {
              const n = a.type.kind === "tuple" ? a.type.elems.length : 0;
              if (iterLen === -1) {
                iterLen = n;
                chooser = i;
              } else if (n !== iterLen) throw new FunctionError(`argument ${i + 1} has length ${n}, which is inconsistent with argument ${chooser + 1} of length ${iterLen}`, i + 1);
            }
            unknown ??= a.unknownReason;
            lists.push(undefined);
            return;
          }
          const n = a.length();
          if (iterLen === -1) {
            iterLen = n;
            chooser = i;
          } else if (n !== iterLen) throw new FunctionError(`argument ${i + 1} has length ${n}, which is inconsistent with argument ${chooser + 1} of length ${iterLen}`, i + 1);
          lists.push(elems(a));
        } else {
          if (!a.isKnown && a.type.kind === "dynamic") unknown ??= a.unknownReason;
          lists.push(undefined);
        }
      });
      if (unknown !== undefined) throw new UnknownSignal(unknown);
      if (iterLen === 0) return Value.list([], STRING);
      if (iterLen === -1) iterLen = 1;
      const out: Value[] = [];
      for (let k = 0; k < iterLen; k++) {
        const fmtArgs = args.map((a, i) => lists[i]?.[k] ?? a);
        if (fmtArgs.some((a) => !a.isWhollyKnown())) {
          out.push(Value.unknown(STRING, fmtArgs.find((a) => !a.isWhollyKnown())!.unknownReason ?? ""));
          continue;
        }
        try {
          out.push(Value.string(formatString(fmt, fmtArgs)));
        } catch (err) {
          if (err instanceof FunctionError) throw new FunctionError(`error on format iteration ${k}: ${err.message}`);
          throw err;
        }
      }
      return Value.list(out, STRING);
    },
  },
};
