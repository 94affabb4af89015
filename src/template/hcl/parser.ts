import type { Attribute, Block, Body, Expr, Pos, TemplatePart } from "./ast.js";

/** A syntax error with the 1-based position where parsing failed. */
export class HclSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = "HclSyntaxError";
  }
}

const IDENT_START = /[A-Za-z_]/;
/** Template characters with no special meaning: everything but `$`, `%`, `\`, quotes and newlines. */
const LITERAL_RUN = /[^$%\\"\n]+/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER = /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const HEREDOC_START = /<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\r?\n/y;
/** First characters of binary operators: anything else ends a binary expression at once. */
const OPERATOR_START = new Set(["|", "&", "=", "!", "<", ">", "+", "-", "*", "/", "%"]);

/** Raw template pieces before directives are nested. */
type FlatPart =
  | { kind: "text"; text: string }
  | { kind: "interp"; expr: Expr; stripLeft: boolean; stripRight: boolean }
  | { kind: "directive"; word: "if" | "else" | "endif" | "for" | "endfor"; expr?: Expr; keyVar?: string; valueVar?: string; stripLeft: boolean; stripRight: boolean; pos: Pos };

/**
 * Scannerless recursive-descent parser for HCL native syntax. Newlines end an attribute only
 * outside brackets, as in HCL; `nest` counts the open brackets.
 */
class Parser {
  i = 0;
  nest = 0;
  private readonly lineStarts: number[] = [0];

  constructor(readonly src: string) {
    for (let k = 0; k < src.length; k++) if (src[k] === "\n") this.lineStarts.push(k + 1);
  }

  pos(offset = this.i): Pos {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1, offset };
  }

  fail(message: string, offset = this.i): never {
    const p = this.pos(offset);
    throw new HclSyntaxError(message, p.line, p.column);
  }

  peek(n = 0): string {
    return this.src[this.i + n] ?? "";
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.i);
  }

  /** Skips blanks and comments; newlines too when inside brackets or when `newlines` is set. */
  skip(newlines = this.nest > 0): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r") this.i++;
      else if (c === "\n" && newlines) this.i++;
      else if (c === "#" || this.startsWith("//")) {
        while (this.i < this.src.length && this.peek() !== "\n") this.i++;
      } else if (this.startsWith("/*")) {
        const end = this.src.indexOf("*/", this.i + 2);
        if (end < 0) this.fail("unterminated comment");
        this.i = end + 2;
      } else return;
    }
  }

  eat(s: string): boolean {
    this.skip();
    if (this.startsWith(s)) {
      this.i += s.length;
      return true;
    }
    return false;
  }

  expect(s: string, what = `"${s}"`): void {
    if (!this.eat(s)) this.fail(`expected ${what}, found ${JSON.stringify(this.peek() || "end of input")}`);
  }

  ident(): string | undefined {
    this.skip();
    IDENT.lastIndex = this.i;
    const m = IDENT.exec(this.src);
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  // ---- bodies -------------------------------------------------------------

  body(until: "}" | "eof"): Body {
    const body: Body = { attributes: [], blocks: [] };
    for (;;) {
      this.skip(true);
      if (until === "eof" && this.i >= this.src.length) return body;
      if (until === "}" && this.peek() === "}") return body;
      if (this.i >= this.src.length) this.fail("unexpected end of input: missing }");
      const start = this.i;
      const name = this.ident();
      if (!name) this.fail(`expected an attribute or block, found ${JSON.stringify(this.peek())}`);
      this.skip(false);
      if (this.peek() === "=" && this.peek(1) !== "=") {
        this.i++;
        this.skip(false);
        const exprStart = this.i;
        const expr = this.expression();
        const source = this.src.slice(exprStart, this.i).trimEnd();
        body.attributes.push({ name, expr, source, pos: this.pos(start) });
        this.endOfLine();
        continue;
      }
      const labels: string[] = [];
      for (;;) {
        this.skip(false);
        if (this.peek() === '"') {
          const e = this.quoted();
          if (e.kind !== "template" || e.parts.some((p) => p.kind !== "text")) this.fail("block labels must be plain strings");
          labels.push(e.parts.map((p) => (p.kind === "text" ? p.text : "")).join(""));
        } else if (IDENT_START.test(this.peek())) labels.push(this.ident()!);
        else break;
      }
      this.skip(false);
      if (this.peek() !== "{") this.fail(`expected "=" or "{" after ${JSON.stringify(name)}`);
      this.i++;
      const saved = this.nest;
      this.nest = 0;
      const inner = this.body("}");
      this.nest = saved;
      this.expect("}");
      body.blocks.push({ type: name, labels, body: inner, pos: this.pos(start) });
      this.endOfLine();
    }
  }

  endOfLine(): void {
    this.skip(false);
    const c = this.peek();
    if (c === "\n" || c === "" || c === "}") return;
    this.fail(`unexpected ${JSON.stringify(c)} after an attribute or block; put one item per line`);
  }

  // ---- expressions --------------------------------------------------------

  expression(): Expr {
    const pos = this.pos();
    const cond = this.binary(0);
    this.skip();
    if (this.peek() === "?") {
      this.i++;
      const then = this.expression();
      this.expect(":");
      const otherwise = this.expression();
      return { kind: "conditional", cond, then, else: otherwise, pos };
    }
    return cond;
  }

  private static readonly LEVELS: string[][] = [["||"], ["&&"], ["==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]];

  binary(level: number): Expr {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      this.skip();
      if (!OPERATOR_START.has(this.peek())) return left;
      const op = Parser.LEVELS[level].find((o) => this.startsWith(o) && !(o === "<" && this.startsWith("<<")));
      if (!op) return left;
      // `=>` inside for-expressions and `==` are not `=`; `>`/`<` never clash with heredoc `<<` here.
      const pos = this.pos();
      this.i += op.length;
      const right = this.binary(level + 1);
      left = { kind: "binary", op, left, right, pos };
    }
  }

  unary(): Expr {
    this.skip();
    const pos = this.pos();
    const c = this.peek();
    if ((c === "!" && this.peek(1) !== "=") || (c === "-" && !/[0-9]/.test(this.peek(1)))) {
      this.i++;
      return { kind: "unary", op: c as "!" | "-", operand: this.unary(), pos };
    }
    return this.postfix(this.primary());
  }

  postfix(target: Expr): Expr {
    for (;;) {
      // Traversals do not cross newlines at the top level.
      const save = this.i;
      this.skip();
      const pos = this.pos();
      if (this.startsWith("...")) {
        this.i = save;
        return target;
      }
      if (this.startsWith(".*")) {
        this.i += 2;
        return { kind: "splat", target, each: this.splatRest({ kind: "splatItem", pos }, true), pos };
      }
      if (this.startsWith("[*]")) {
        this.i += 3;
        return { kind: "splat", target, each: this.splatRest({ kind: "splatItem", pos }, false), pos };
      }
      if (this.peek() === "." && !/[0-9]/.test(this.peek(1))) {
        this.i++;
        const name = this.ident();
        if (!name) this.fail("expected an attribute name after \".\"");
        target = { kind: "getattr", target, name, pos };
        continue;
      }
      if (this.peek() === "." && /[0-9]/.test(this.peek(1))) {
        this.i++;
        const start = this.i;
        while (/[0-9]/.test(this.peek())) this.i++;
        target = { kind: "index", target, index: { kind: "literal", value: Number(this.src.slice(start, this.i)), pos }, pos };
        continue;
      }
      if (this.peek() === "[") {
        this.i++;
        this.nest++;
        const index = this.expression();
        this.nest--;
        this.expect("]");
        target = { kind: "index", target, index, pos };
        continue;
      }
      this.i = save;
      return target;
    }
  }

  /** The traversal applied to each element after a splat. Attribute-only splat (`.*`) stops at `[`. */
  splatRest(item: Expr, attrOnly: boolean): Expr {
    let each = item;
    for (;;) {
      const save = this.i;
      this.skip();
      const pos = this.pos();
      if (this.peek() === "." && IDENT_START.test(this.peek(1))) {
        this.i++;
        each = { kind: "getattr", target: each, name: this.ident()!, pos };
      } else if (!attrOnly && this.peek() === "[" && this.peek(1) !== "*") {
        this.i++;
        this.nest++;
        const index = this.expression();
        this.nest--;
        this.expect("]");
        each = { kind: "index", target: each, index, pos };
      } else {
        this.i = save;
        return each;
      }
    }
  }

  primary(): Expr {
    this.skip();
    const pos = this.pos();
    const c = this.peek();
    if (c === "") this.fail("unexpected end of input: expected an expression");
    if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(this.peek(1)))) return this.number();
    if (c === '"') return this.quoted();
    if (this.startsWith("<<")) return this.heredoc();
    if (c === "(") {
      this.i++;
      this.nest++;
      const inner = this.expression();
      this.nest--;
      this.expect(")");
      return { kind: "paren", inner, pos };
    }
    if (c === "[") return this.tupleOrFor();
    if (c === "{") return this.objectOrFor();
    const name = this.ident();
    if (!name) this.fail(`unexpected ${JSON.stringify(c)}: expected an expression`);
    if (name === "true" || name === "false") return { kind: "literal", value: name === "true", pos };
    if (name === "null") return { kind: "literal", value: null, pos };
    const save = this.i;
    this.skip(false);
    if (this.peek() === "(" ) {
      this.i++;
      this.nest++;
      const args: Expr[] = [];
      let expandLast = false;
      this.skip();
      while (this.peek() !== ")") {
        args.push(this.expression());
        this.skip();
        if (this.startsWith("...")) {
          this.i += 3;
          expandLast = true;
          this.skip();
        }
        if (this.peek() === ",") {
          this.i++;
          this.skip();
        } else break;
      }
      this.nest--;
      this.expect(")", '")" closing the function call');
      return { kind: "call", name, args, expandLast, pos };
    }
    if (name.includes("::")) this.fail("provider-defined functions are not supported");
    this.i = save;
    return { kind: "variable", name, pos };
  }

  number(): Expr {
    const pos = this.pos();
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.src);
    if (!m) this.fail("invalid number");
    this.i += m[0].length;
    return { kind: "literal", value: Number(m[0]), pos };
  }

  tupleOrFor(): Expr {
    const pos = this.pos();
    this.i++;
    this.nest++;
    this.skip();
    if (this.isForKeyword()) {
      const f = this.forHeader(pos, false);
      this.nest--;
      this.expect("]");
      return f;
    }
    const items: Expr[] = [];
    while (this.peek() !== "]") {
      items.push(this.expression());
      this.skip();
      if (this.peek() === ",") {
        this.i++;
        this.skip();
      } else break;
    }
    this.nest--;
    this.expect("]", '"]" closing the list');
    return { kind: "tuple", items, pos };
  }

  objectOrFor(): Expr {
    const pos = this.pos();
    this.i++;
    this.nest++;
    this.skip();
    if (this.isForKeyword()) {
      const f = this.forHeader(pos, true);
      this.nest--;
      this.expect("}");
      return f;
    }
    const items: { key: Expr; keyIsIdent: boolean; value: Expr }[] = [];
    while (this.peek() !== "}") {
      const keyPos = this.pos();
      let key: Expr;
      let keyIsIdent = false;
      const save = this.i;
      const id = this.ident();
      this.skip();
      if (id !== undefined && (this.peek() === "=" || this.peek() === ":") && this.peek(1) !== "=") {
        key = { kind: "literal", value: id, pos: keyPos };
        keyIsIdent = true;
      } else {
        this.i = save;
        key = this.expression();
      }
      this.skip();
      if (this.peek() === "=" || this.peek() === ":") this.i++;
      else this.fail('expected "=" after an object key');
      const value = this.expression();
      items.push({ key, keyIsIdent, value });
      this.skip();
      if (this.peek() === ",") this.i++;
      this.skip();
    }
    this.nest--;
    this.expect("}", '"}" closing the object');
    return { kind: "object", items, pos };
  }

  isForKeyword(): boolean {
    return this.startsWith("for") && /[\s]/.test(this.peek(3));
  }

  forHeader(pos: Pos, object: boolean): Expr {
    this.i += 3;
    const first = this.ident();
    if (!first) this.fail("expected a variable name after for");
    let keyVar: string | undefined;
    let valueVar = first;
    if (this.eat(",")) {
      keyVar = first;
      const second = this.ident();
      if (!second) this.fail("expected a second variable name in for");
      valueVar = second;
    }
    this.skip();
    if (this.ident() !== "in") this.fail('expected "in" in for expression');
    const collection = this.expression();
    this.expect(":");
    let keyExpr: Expr | undefined;
    let valueExpr = this.expression();
    let group = false;
    if (object) {
      this.expect("=>");
      keyExpr = valueExpr;
      valueExpr = this.expression();
      if (this.eat("...")) group = true;
    }
    let cond: Expr | undefined;
    this.skip();
    if (this.startsWith("if") && /[\s(]/.test(this.peek(2))) {
      this.i += 2;
      cond = this.expression();
    }
    return { kind: "for", object, keyVar, valueVar, collection, keyExpr, valueExpr, group, cond, pos };
  }

  quoted(): Expr {
    const pos = this.pos();
    this.i++; // opening quote
    const flat = this.templateParts('"', true);
    if (this.peek() !== '"') this.fail("unterminated string");
    this.i++;
    return { kind: "template", parts: nestTemplate(flat, this), pos };
  }

  heredoc(): Expr {
    const pos = this.pos();
    HEREDOC_START.lastIndex = this.i;
    const m = HEREDOC_START.exec(this.src);
    if (!m) this.fail("invalid heredoc: expected <<EOT or <<-EOT followed by a newline");
    const flush = m[1] === "-";
    const marker = m[2];
    const bodyStart = this.i + m[0].length;
    const endRe = new RegExp(`^[ \\t]*${marker}[ \\t]*(\\r?\\n|$)`, "m");
    const rest = this.src.slice(bodyStart);
    const endMatch = endRe.exec(rest);
    if (!endMatch) this.fail(`heredoc is not closed: no line with ${marker}`);
    const text = rest.slice(0, endMatch.index);
    this.i = bodyStart + endMatch.index + endMatch[0].replace(/\r?\n$/, "").length;
    const sub = new Parser(text);
    const flat = sub.templatePartsAt(this.pos(bodyStart));
    applyStripMarkers(flat);
    if (flush) flushIndent(flat);
    return { kind: "template", parts: nestParts(flat, sub), pos };
  }

  /** Template parts of a heredoc body; errors are reported at their line in the enclosing file. */
  templatePartsAt(base: Pos): FlatPart[] {
    try {
      return this.templateParts("", false);
    } catch (err) {
      if (err instanceof HclSyntaxError) throw new HclSyntaxError(err.message.replace(/ \(line \d+, column \d+\)$/, ""), base.line + err.line - 1, err.column);
      throw err;
    }
  }

  /** Reads template text until `end` (a quote) or end of input; handles ${}, %{} and escapes. */
  templateParts(end: string, escapes: boolean): FlatPart[] {
    const parts: FlatPart[] = [];
    let text = "";
    const flush = () => {
      if (text) parts.push({ kind: "text", text });
      text = "";
    };
    while (this.i < this.src.length) {
      const c = this.peek();
      if (end && c === end) break;
      if (end && c === "\n") this.fail("unterminated string: quoted strings cannot span lines");
      if (this.startsWith("$${")) {
        text += "${";
        this.i += 3;
      } else if (this.startsWith("%%{")) {
        text += "%{";
        this.i += 3;
      } else if (this.startsWith("${")) {
        flush();
        this.i += 2;
        const stripLeft = this.peek() === "~";
        if (stripLeft) this.i++;
        const saved = this.nest;
        this.nest = 1;
        const expr = this.expression();
        this.skip(true);
        const stripRight = this.peek() === "~";
        if (stripRight) this.i++;
        this.nest = saved;
        if (this.peek() !== "}") this.fail('expected "}" closing the interpolation');
        this.i++;
        parts.push({ kind: "interp", expr, stripLeft, stripRight });
      } else if (this.startsWith("%{")) {
        flush();
        parts.push(this.directive());
      } else if (escapes && c === "\\") {
        const n = this.peek(1);
        const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
        if (n in simple) {
          text += simple[n];
          this.i += 2;
        } else if (n === "u" || n === "U") {
          const len = n === "u" ? 4 : 8;
          const hex = this.src.slice(this.i + 2, this.i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail("invalid unicode escape");
          text += String.fromCodePoint(parseInt(hex, 16));
          this.i += 2 + len;
        } else this.fail(`invalid escape sequence \\${n}`);
      } else if (c === "\n") {
        // HCL's scanner ends a literal token after each newline; strip markers and heredoc
        // indentation act on single tokens, so keep the same boundaries.
        text += c;
        this.i++;
        flush();
      } else {
        // Copy the run of plain characters up to the next one that needs a look.
        LITERAL_RUN.lastIndex = this.i;
        const m = LITERAL_RUN.exec(this.src);
        const run = m && m.index === this.i ? m[0] : c;
        text += run;
        this.i += run.length;
      }
    }
    flush();
    return parts;
  }

  directive(): FlatPart {
    const pos = this.pos();
    this.i += 2;
    const stripLeft = this.peek() === "~";
    if (stripLeft) this.i++;
    const saved = this.nest;
    this.nest = 1;
    this.skip();
    const word = this.ident();
    let part: FlatPart;
    if (word === "if") {
      part = { kind: "directive", word, expr: this.expression(), stripLeft, stripRight: false, pos };
    } else if (word === "for") {
      const first = this.ident();
      if (!first) this.fail("expected a variable name after %{ for");
      let keyVar: string | undefined;
      let valueVar = first;
      if (this.eat(",")) {
        keyVar = first;
        valueVar = this.ident() ?? this.fail("expected a second variable name in %{ for");
      }
      this.skip();
      if (this.ident() !== "in") this.fail('expected "in" in %{ for }');
      part = { kind: "directive", word, keyVar, valueVar, expr: this.expression(), stripLeft, stripRight: false, pos };
    } else if (word === "else" || word === "endif" || word === "endfor") {
      part = { kind: "directive", word, stripLeft, stripRight: false, pos };
    } else {
      this.fail(`unknown template directive ${JSON.stringify(word ?? this.peek())}`);
    }
    this.skip(true);
    if (this.peek() === "~") {
      part.stripRight = true;
      this.i++;
    }
    this.nest = saved;
    if (this.peek() !== "}") this.fail('expected "}" closing the directive');
    this.i++;
    return part;
  }
}

/** `~` strip markers remove the whitespace of the one adjacent literal token. */
function applyStripMarkers(flat: FlatPart[]): void {
  for (let k = 0; k < flat.length; k++) {
    const part = flat[k];
    if (part.kind === "text") continue;
    const prev = flat[k - 1];
    const next = flat[k + 1];
    if (part.stripLeft && prev?.kind === "text") prev.text = prev.text.replace(/\s+$/, "");
    if (part.stripRight && next?.kind === "text") next.text = next.text.replace(/^\s+/, "");
  }
}

/**
 * `<<-` heredocs, exactly as HCL does it (after strip markers): the smallest indentation of the
 * literal tokens that start a line is removed from each of them. A blank line does not count; a
 * line that starts with an interpolation or directive counts as indentation zero.
 */
function flushIndent(flat: FlatPart[]): void {
  let min = Infinity;
  let newline = true;
  const adjust: { kind: "text"; text: string }[] = [];
  for (const part of flat) {
    if (newline) {
      newline = false;
      let spaces = 0;
      if (part.kind === "text") {
        const trimmed = part.text.replace(/^\s+/, "");
        if (!(trimmed === "" && part.text.endsWith("\n"))) {
          spaces = part.text.length - trimmed.length;
          adjust.push(part);
        } else spaces = Infinity;
      }
      min = Math.min(min, spaces);
    }
    if (part.kind === "text" && part.text.endsWith("\n")) newline = true;
  }
  if (!Number.isFinite(min) || min === 0) return;
  for (const lit of adjust) lit.text = lit.text.slice(Math.min(min, lit.text.length - lit.text.replace(/^\s+/, "").length));
}

/** Nests if/for directives into a tree. */
function nestParts(flat: FlatPart[], p: Parser): TemplatePart[] {
  let k = 0;
  const seq = (stops: string[]): { parts: TemplatePart[]; stop?: string } => {
    const parts: TemplatePart[] = [];
    while (k < flat.length) {
      const part = flat[k];
      if (part.kind === "text") {
        if (part.text) parts.push({ kind: "text", text: part.text });
        k++;
      } else if (part.kind === "interp") {
        parts.push({ kind: "interp", expr: part.expr });
        k++;
      } else if (stops.includes(part.word)) {
        return { parts, stop: part.word };
      } else if (part.word === "if") {
        k++;
        const then = seq(["else", "endif"]);
        let otherwise: TemplatePart[] = [];
        if (then.stop === "else") {
          k++;
          const e = seq(["endif"]);
          if (e.stop !== "endif") p.fail("%{ if } without %{ endif }", part.pos.offset);
          otherwise = e.parts;
        } else if (then.stop !== "endif") p.fail("%{ if } without %{ endif }", part.pos.offset);
        k++;
        parts.push({ kind: "if", cond: part.expr!, then: then.parts, else: otherwise });
      } else if (part.word === "for") {
        k++;
        const body = seq(["endfor"]);
        if (body.stop !== "endfor") p.fail("%{ for } without %{ endfor }", part.pos.offset);
        k++;
        parts.push({ kind: "for", keyVar: part.keyVar, valueVar: part.valueVar!, collection: part.expr!, body: body.parts });
      } else {
        p.fail(`%{ ${part.word} } without a matching opening directive`, part.pos.offset);
      }
    }
    return { parts };
  };
  return seq([]).parts;
}

function nestTemplate(flat: FlatPart[], p: Parser): TemplatePart[] {
  applyStripMarkers(flat);
  return nestParts(flat, p);
}

/** Parses a whole .tf file. */
export function parseHclFile(src: string): Body {
  const p = new Parser(src);
  return p.body("eof");
}

/** Parses one expression (the whole input must be the expression). */
export function parseExpression(src: string): Expr {
  const p = new Parser(src);
  p.nest = 1;
  const e = p.expression();
  p.skip(true);
  if (p.i < src.length) p.fail(`unexpected ${JSON.stringify(p.peek())} after the expression`);
  return e;
}

/** Parses template text, as given to templatefile() or found in a .tf.json string. */
export function parseTemplate(src: string): Expr {
  const p = new Parser(src);
  const flat = p.templateParts("", false);
  return { kind: "template", parts: nestTemplate(flat, p), pos: { line: 1, column: 1, offset: 0 } };
}

export type { Attribute, Block, Body };
