/**
 * Encoding functions with Terraform's exact output: jsonencode as Go's encoding/json (HTML-safe
 * escapes), yamlencode as go-cty-yaml's emitter (a port of go-yaml's: double-quoted strings folded
 * at 80 columns, literal blocks for multi-line strings), decoders that build cty values (numbers kept
 * exact), csvdecode as Go's encoding/csv, base64 as Go's strict decoder.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import iconv from "iconv-lite";
import { isMap, isScalar, isSeq, isAlias, parseAllDocuments, type Node as YamlNode, type Document } from "yaml";
import { BigFloat } from "../number.js";
import { DYNAMIC, listOf, objectOf, STRING } from "../types.js";
import { goQuote, Value } from "../value.js";
import { queryEscape } from "./strings.js";
import { FunctionError, type FunctionTable, str, whollyKnown } from "./support.js";

// ---- JSON ---------------------------------------------------------------------------------------

/** Go's encoding/json string encoding (HTML-safe, \b and \f as in Go ≥ 1.22). */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 in Go: replaced by U+FFFD.
      const pair = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        out += s[i] + s[i + 1];
        i++;
      } else out += "\ufffd";
    } else out += s[i];
  }
  return out + '"';
}

/** cty's JSON serialisation of a wholly known value. */
export function jsonEncode(v: Value): string {
  if (v.isNull) return "null";
  whollyKnown(v);
  switch (v.type.kind) {
    case "string":
      return jsonString(v.asString());
    case "number": {
      const n = v.asNumber();
      if (n.isInf()) throw new FunctionError("value must be a finite number, not infinity");
      return n.toString();
    }
    case "bool":
      return v.asBool() ? "true" : "false";
    case "list":
    case "set":
    case "tuple":
      return `[${v.asArray().map(jsonEncode).join(",")}]`;
    case "map":
    case "object":
      return `{${[...v.asMap()].map(([k, e]) => `${jsonString(k)}:${jsonEncode(e)}`).join(",")}}`;
    default:
      throw new FunctionError("value has no JSON representation");
  }
}

class JsonSyntaxError extends Error {}

/** Parses JSON into cty values: objects → object, arrays → tuple, numbers exact (cty's json.Unmarshal for DynamicPseudoType). */
export function jsonDecode(text: string): Value {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  let depth = 0;
  const fail = (what: string): never => {
    // Go's json.Decoder: "EOF" when input ends between tokens, "unexpected EOF" inside one.
    throw new JsonSyntaxError(i >= text.length ? (what === "in literal" || what === "in string literal" ? "unexpected EOF" : "EOF") : `invalid character ${goQuoteChar(text[i])} ${what}`);
  };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const entries: [string, Value][] = [];
      ws();
      if (text[i] === "}") {
        i++;
        return Value.object(entries);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("looking for beginning of object key string");
        const k = string();
        ws();
        if (text[i] !== ":") fail("after object key");
        i++;
        const v = value();
        // A repeated key: the last one wins, as cty's decoder does.
        const at = entries.findIndex(([x]) => x === k);
        if (at >= 0) entries.splice(at, 1);
        entries.push([k, v]);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return Value.object(entries);
        }
        fail("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      const items: Value[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return Value.tuple(items);
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return Value.tuple(items);
        }
        fail("after array element");
      }
    }
    if (c === '"') return Value.string(string());
    for (const [word, value] of [
      ["true", Value.bool(true)],
      ["false", Value.bool(false)],
      ["null", Value.nullOf(DYNAMIC)],
    ] as const) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, i++) {
          if (i >= text.length) fail("in literal");
          if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${goQuoteChar(word[k])})`);
        }
        return value;
      }
    }
    if (text.startsWith("true", i)) {
      i += 4;
      return Value.bool(true);
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return Value.bool(false);
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return Value.nullOf(DYNAMIC);
    }
    const m = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    const nm = m.exec(text);
    if (nm && nm[0] !== "" && nm[0] !== "-") {
      i += nm[0].length;
      return Value.number(BigFloat.parse(nm[0])!);
    }
    return fail("looking for beginning of value");
  };
  const string = (): string => {
    i++;
    let out = "";
    for (;;) {
      if (i >= text.length) fail("in string literal");
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) fail("in string literal");
      if (c === "\\") {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            i += 2;
            fail("in \\u hexadecimal character escape");
          }
          let cp = parseInt(hex, 16);
          i += 6;
          if (cp >= 0xd800 && cp <= 0xdbff && text[i] === "\\" && text[i + 1] === "u") {
            const lo = parseInt(text.slice(i + 2, i + 6), 16);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              i += 6;
            }
          }
          out += cp >= 0xd800 && cp <= 0xdfff ? "\ufffd" : String.fromCodePoint(cp);
        } else {
          i++;
          fail("in string escape code");
        }
      } else {
        out += c;
        i++;
      }
    }
  };
  void depth;
  const v = value();
  ws();
  if (i < text.length) throw new JsonSyntaxError("extraneous data after JSON object");
  return v;
}

function goQuoteChar(c: string): string {
  if (c === "'") return "'\\''";
  return `'${goQuote(c).slice(1, -1)}'`;
}

// ---- YAML encoding (port of go-yaml's emitter as go-cty-yaml drives it) --------------------------

const BEST_WIDTH = 80;
const BEST_INDENT = 2;

/** go-yaml's is_printable, on code points. */
function yamlPrintable(cp: number): boolean {
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}
const isBreak = (cp: number) => cp === 0x0a || cp === 0x0d || cp === 0x85 || cp === 0x2028 || cp === 0x2029;

interface ScalarAnalysis {
  multiline: boolean;
  blockAllowed: boolean;
}

function analyzeScalar(value: string): ScalarAnalysis {
  if (value.length === 0) return { multiline: false, blockAllowed: false };
  let lineBreaks = false;
  let special = false;
  let trailingSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  const cps = [...value].map((c) => c.codePointAt(0)!);
  cps.forEach((cp, i) => {
    if (cp !== 0x09 && !yamlPrintable(cp)) special = true;
    if (cp === 0x20) {
      if (i === cps.length - 1) trailingSpace = true;
      previousSpace = true;
    } else if (isBreak(cp)) {
      lineBreaks = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
    } else previousSpace = false;
  });
  return { multiline: lineBreaks, blockAllowed: !trailingSpace && !spaceBreak && !special };
}

class YamlEmitter {
  out = "";
  column = 0;
  indent = -1;
  whitespace = true;
  indention = true;
  openEnded = false;

  private put(s: string): void {
    this.out += s;
    this.column += [...s].length;
  }

  private putBreak(): void {
    this.out += "\n";
    this.column = 0;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(" ");
    this.whitespace = true;
    this.indention = true;
  }

  writeIndicator(s: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(" ");
    this.put(s);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
    this.openEnded = false;
  }

  writePlain(s: string, root: boolean): void {
    if (!this.whitespace) this.put(" ");
    this.put(s);
    this.whitespace = false;
    this.indention = false;
    if (root) this.openEnded = true;
  }

  writeDoubleQuoted(value: string, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    const cps = [...value];
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i];
      const cp = ch.codePointAt(0)!;
      if (!yamlPrintable(cp) || cp === 0xfeff || isBreak(cp) || ch === '"' || ch === "\\") {
        const named: Record<number, string> = { 0: "0", 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 0x1b: "e", 0x22: '"', 0x5c: "\\", 0x85: "N", 0xa0: "_", 0x2028: "L", 0x2029: "P" };
        let esc = named[cp];
        if (esc === undefined) {
          const hex = cp.toString(16).toUpperCase();
          esc = cp <= 0xff ? "x" + hex.padStart(2, "0") : cp <= 0xffff ? "u" + hex.padStart(4, "0") : "U" + hex.padStart(8, "0");
        }
        this.put("\\" + esc);
        spaces = false;
      } else if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cps.length - 1) {
          this.writeIndent();
          if (cps[i + 1] === " ") this.put("\\");
        } else this.put(ch);
        spaces = true;
      } else {
        this.put(ch);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeLiteral(value: string): void {
    this.writeIndicator("|", true, false, false);
    const cps = [...value];
    if (cps[0] === " " || isBreak(cps[0].codePointAt(0)!)) this.writeIndicator(String(BEST_INDENT), false, false, false);
    this.openEnded = false;
    const last = cps[cps.length - 1].codePointAt(0)!;
    let chomp = "";
    if (!isBreak(last)) chomp = "-";
    else if (cps.length === 1 || isBreak(cps[cps.length - 2].codePointAt(0)!)) chomp = "+";
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const ch of cps) {
      if (isBreak(ch.codePointAt(0)!)) {
        if (ch === "\n") this.putBreak();
        else {
          this.out += ch;
          this.column = 0;
        }
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) {
          this.writeIndent();
          breaks = false;
        }
        this.put(ch);
        this.indention = false;
      }
    }
  }

  private increaseIndent(flow: boolean, indentless: boolean): number {
    const saved = this.indent;
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
    return saved;
  }

  /** Emits a node; `ctx` says where it sits (root, sequence item, mapping value, simple key). */
  node(v: Value, ctx: { root: boolean; mapping: boolean; simpleKey: boolean }): void {
    const t = v.type.kind;
    if (v.isNull || t === "string" || t === "number" || t === "bool") {
      this.scalar(v, ctx);
      return;
    }
    const isSeqValue = t === "list" || t === "set" || t === "tuple";
    const items = isSeqValue ? v.asArray() : [...v.asMap()];
    if (items.length === 0) {
      this.writeIndicator(isSeqValue ? "[" : "{", true, true, false);
      this.writeIndicator(isSeqValue ? "]" : "}", false, false, false);
      return;
    }
    if (isSeqValue) {
      const saved = this.increaseIndent(false, ctx.mapping && !this.indention);
      for (const item of items as Value[]) {
        this.writeIndent();
        this.writeIndicator("-", true, false, true);
        this.node(item, { root: false, mapping: false, simpleKey: false });
      }
      this.indent = saved;
      return;
    }
    const saved = this.increaseIndent(false, false);
    for (const [k, item] of items as [string, Value][]) {
      this.writeIndent();
      const a = analyzeScalar(k);
      if (!a.multiline && [...k].length <= 128) {
        this.scalarString(k, { root: false, simpleKey: true });
        this.writeIndicator(":", false, false, false);
      } else {
        this.writeIndicator("?", true, false, true);
        this.scalarString(k, { root: false, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(":", true, false, true);
      }
      this.node(item, { root: false, mapping: true, simpleKey: false });
    }
    this.indent = saved;
  }

  private scalar(v: Value, ctx: { root: boolean; mapping: boolean; simpleKey: boolean }): void {
    if (v.isNull || v.type.kind !== "string") {
      const text = v.isNull ? "null" : v.type.kind === "bool" ? (v.asBool() ? "true" : "false") : v.asNumber().toString();
      const saved = this.increaseIndent(true, false);
      this.writePlain(text, ctx.root);
      this.indent = saved;
      return;
    }
    this.scalarString(v.asString(), ctx);
  }

  private scalarString(s: string, ctx: { root: boolean; simpleKey: boolean }): void {
    const a = analyzeScalar(s);
    const literal = s.includes("\n") && a.blockAllowed && !ctx.simpleKey;
    const saved = this.increaseIndent(true, false);
    if (literal) this.writeLiteral(s);
    else this.writeDoubleQuoted(s, !ctx.simpleKey);
    this.indent = saved;
  }
}

export function yamlEncode(v: Value): string {
  whollyKnown(v);
  const e = new YamlEmitter();
  e.node(v, { root: true, mapping: false, simpleKey: false });
  e.writeIndent();
  if (e.openEnded) {
    e.writeIndicator("...", true, false, false);
    e.writeIndent();
  }
  return e.out;
}

// ---- YAML decoding (go-cty-yaml's resolution rules) ----------------------------------------------

const YAML_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const YAML_FALSE = new Set(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);
const YAML_NULL = new Set(["", "~", "null", "Null", "NULL"]);
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[ \t]*(Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;

/** A plain scalar resolved as go-cty-yaml does (YAML 1.1 booleans, exact numbers, timestamps as RFC 3339). */
function resolvePlain(s: string): Value {
  if (YAML_TRUE.has(s)) return Value.bool(true);
  if (YAML_FALSE.has(s)) return Value.bool(false);
  if (YAML_NULL.has(s)) return Value.nullOf(DYNAMIC);
  if ([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"].includes(s)) return Value.number(BigFloat.infinity(false));
  if (["-.inf", "-.Inf", "-.INF"].includes(s)) return Value.number(BigFloat.infinity(true));
  if ([".nan", ".NaN", ".NAN"].includes(s)) throw new FunctionError("floating point NaN is not supported");
  const ts = TIMESTAMP.exec(s);
  if (ts) return Value.string(rfc3339(ts));
  if (/^[-+]?0x[0-9a-fA-F]+$/.test(s)) return Value.number(BigFloat.fromBigInt(BigInt(s.replace(/^([-+]?)0x/, "$10x").replace(/^\+/, "")), 512));
  if (/^[-+]?0o[0-7]+$/.test(s)) {
    const neg = s.startsWith("-");
    const n = BigInt("0o" + s.replace(/^[-+]?0o/, ""));
    return Value.number(BigFloat.fromBigInt(neg ? -n : n, 512));
  }
  const n = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s) ? BigFloat.parse(s.replace(/^\+/, "")) : undefined;
  if (n) return Value.number(n);
  return Value.string(s);
}

function rfc3339(m: RegExpExecArray): string {
  const pad = (x: string | undefined, n = 2) => (x ?? "0").padStart(n, "0");
  const date = `${m[1]}-${pad(m[2])}-${pad(m[3])}`;
  if (m[4] === undefined) return `${date}T00:00:00Z`;
  let zone = m[8] ?? "Z";
  if (zone !== "Z") {
    const z = /^([-+])(\d{1,2})(?::?(\d{2}))?$/.exec(zone)!;
    zone = z[2] === "0" && !z[3] ? "Z" : `${z[1]}${pad(z[2])}:${z[3] ?? "00"}`;
    if (zone === "+00:00" || zone === "-00:00") zone = "Z";
  }
  return `${date}T${pad(m[4])}:${m[5]}:${m[6]}${zone}`;
}

function yamlNodeValue(node: YamlNode | null | undefined, doc: Document): Value {
  if (node === null || node === undefined) return Value.nullOf(DYNAMIC);
  if (isAlias(node)) return yamlNodeValue(node.resolve(doc) as YamlNode, doc);
  if (isScalar(node)) {
    const raw = node.source ?? String(node.value ?? "");
    if (node.type === "PLAIN" && !node.tag) return resolvePlain(raw);
    if (node.type === "PLAIN" && node.tag === "tag:yaml.org,2002:str") return Value.string(raw);
    return Value.string(typeof node.value === "string" ? node.value : raw);
  }
  if (isSeq(node)) return Value.tuple(node.items.map((i) => yamlNodeValue(i as YamlNode, doc)));
  if (isMap(node)) {
    const entries = new Map<string, Value>();
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode;
      if (isScalar(keyNode) && keyNode.type === "PLAIN" && keyNode.source === "<<") {
        const merged = yamlNodeValue(pair.value as YamlNode, doc);
        const sources = merged.type.kind === "tuple" ? merged.asArray() : [merged];
        for (const src of sources) if (src.raw instanceof Map) for (const [k, v] of src.asMap()) if (!entries.has(k)) entries.set(k, v);
        continue;
      }
      if (!isScalar(keyNode) && !isAlias(keyNode)) throw new FunctionError("only strings are allowed as mapping keys");
      const k = yamlNodeValue(keyNode, doc);
      if (k.isNull || !["string", "number", "bool"].includes(k.type.kind)) throw new FunctionError("only strings are allowed as mapping keys");
      const ks = k.type.kind === "string" ? k.asString() : k.type.kind === "bool" ? String(k.asBool()) : k.asNumber().toString();
      entries.set(ks, yamlNodeValue(pair.value as YamlNode, doc));
    }
    return Value.object(entries);
  }
  return Value.nullOf(DYNAMIC);
}

export function yamlDecode(text: string): Value {
  const docs = parseAllDocuments(text, { version: "1.1", schema: "failsafe", uniqueKeys: false, keepSourceTokens: true });
  if (!Array.isArray(docs) || docs.length === 0) throw new FunctionError("on line 1, column 1: missing start of document");
  const first = docs[0];
  if (first.errors.length > 0) {
    const e = first.errors[0];
    throw new FunctionError(`on line ${e.linePos?.[0].line ?? 1}, column ${e.linePos?.[0].col ?? 1}: ${e.message.split("\n")[0]}`);
  }
  if (docs.length > 1) {
    const pos = docs[1].range[0];
    const line = text.slice(0, pos).split("\n").length;
    throw new FunctionError(`on line ${line}, column 1: unexpected extra content after value`);
  }
  return yamlNodeValue(first.contents as YamlNode, first);
}

// ---- CSV (Go's encoding/csv) ---------------------------------------------------------------------

function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    // Skip empty lines.
    if (text[i] === "\n" || (text[i] === "\r" && text[i + 1] === "\n")) {
      i += text[i] === "\r" ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    const recordLine = line;
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        const startCol = i;
        i++;
        for (;;) {
          if (i >= n) throw new FunctionError(`CSV parse error on line ${recordLine}: extraneous or missing " in quoted-field`);
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            if (text[i] === "\n") line++;
            if (text[i] === "\r" && text[i + 1] === "\n") {
              i++;
              continue;
            }
            field += text[i++];
          }
        }
        void startCol;
        if (i < n && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          throw new FunctionError(`CSV parse error on line ${recordLine}: extraneous or missing " in quoted-field`);
        }
      } else {
        while (i < n && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          if (text[i] === '"') throw new FunctionError(`CSV parse error on line ${line}: bare " in non-quoted-field`);
          field += text[i++];
        }
        if (i === n && field.endsWith("\r")) field = field.slice(0, -1);
      }
      fields.push(field);
      if (i < n && text[i] === ",") {
        i++;
        continue;
      }
      if (i < n) {
        i += text[i] === "\r" ? 2 : 1;
        line++;
      }
      break;
    }
    records.push(fields);
  }
  return records;
}

// ---- base64 --------------------------------------------------------------------------------------

/** Go's base64.StdEncoding.DecodeString: padding required, \r and \n ignored. */
export function base64Decode(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n]/g, "");
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  const buf = Buffer.from(t, "base64");
  if (buf.toString("base64") !== t) return undefined;
  return buf;
}

export function validUtf8(b: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

function encodingName(name: string, arg: number): string {
  const n = name.trim();
  if (!iconv.encodingExists(n)) throw new FunctionError(`${JSON.stringify(name)} is not a supported IANA encoding name or alias in this Terraform version`, arg);
  return n;
}

export const ENCODING_FUNCTIONS: FunctionTable = {
  jsonencode: { impl: ([v]) => Value.string(jsonEncode(v)) },
  jsondecode: {
    impl: ([s]) => {
      try {
        return jsonDecode(str(s));
      } catch (err) {
        if (err instanceof JsonSyntaxError) throw new FunctionError(err.message);
        throw err;
      }
    },
  },
  yamlencode: { impl: ([v]) => Value.string(yamlEncode(v)) },
  yamldecode: { impl: ([s]) => yamlDecode(str(s)) },
  csvdecode: {
    impl: ([s]) => {
      const records = csvRecords(str(s));
      if (records.length === 0) throw new FunctionError("missing header line");
      const [headers, ...rows] = records;
      const seen = new Set<string>();
      for (const h of headers) {
        if (seen.has(h)) throw new FunctionError(`duplicate column name ${JSON.stringify(h)}`);
        seen.add(h);
      }
      const t = objectOf(headers.map((h) => [h, STRING]));
      const out = rows.map((r, i) => {
        if (r.length !== headers.length) throw new FunctionError(`CSV parse error on line ${i + 2}: wrong number of fields`);
        return Value.object(r.map((f, k) => [headers[k], Value.string(f)]));
      });
      return Value.list(out, t);
    },
    returnType: () => listOf(DYNAMIC),
  },
  base64encode: { impl: ([s]) => Value.string(Buffer.from(str(s), "utf8").toString("base64")) },
  base64decode: {
    impl: ([s]) => {
      const b = base64Decode(str(s));
      if (!b) throw new FunctionError(`failed to decode base64 data ${JSON.stringify(str(s))}`);
      if (!validUtf8(b)) throw new FunctionError("the result of decoding the provided string is not valid UTF-8");
      return Value.string(b.toString("utf8"));
    },
  },
  base64gzip: { impl: ([s]) => Value.string(gzipBase64(Buffer.from(str(s), "utf8"))) },
  urlencode: { impl: ([s]) => Value.string(queryEscape(str(s))) },
  textencodebase64: {
    impl: ([s, enc]) => {
      const name = encodingName(str(enc), 1);
      const text = str(s);
      const encoded = iconv.encode(text, name);
      if (iconv.decode(encoded, name) !== text) throw new FunctionError(`the given string contains characters that cannot be represented in ${str(enc)}`, 0);
      return Value.string(encoded.toString("base64"));
    },
  },
  textdecodebase64: {
    impl: ([s, enc]) => {
      const name = encodingName(str(enc), 1);
      const b = base64Decode(str(s));
      if (!b) throw new FunctionError("the given value is has an invalid base64 symbol", 0);
      return Value.string(iconv.decode(b, name));
    },
  },
};

/** Go's compress/gzip header (no name, no mtime, OS unknown) around zlib's deflate stream. */
export function gzipBase64(data: Buffer): string {
  const gz = gzipSync(data);
  gz[9] = 0xff;
  return gz.toString("base64");
}

export { gunzipSync };
