/**
 * Parser for HCL native syntax as Terraform (hclsyntax) reads it: bodies with Terraform's block and
 * attribute rules, expressions with legacy and full splats, provider-defined function names, Unicode
 * identifiers, templates with directives and strip markers, heredocs. Every node carries its source
 * range; errors carry hclsyntax's summaries.
 */
import type { Attribute, BinaryOp, Block, Body, Expr, ObjectItem, Pos, TemplatePart } from "./ast.js";
import { HclSyntaxError, rangeOf } from "./diagnostics.js";
import { BigFloat } from "./number.js";
import { NULL, Value } from "./value.js";

const IDENT = /[\p{ID_Start}_][\p{ID_Continue}\-]*/uy;
const IDENT_START = /[\p{ID_Start}_]/u;
const NUMBER = /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const HEREDOC_START = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}\-]*)(\r?\n)/uy;
/** Template characters with no special meaning: everything but `$`, `%`, `\`, quotes and newlines. */
const LITERAL_RUN = /[^$%\\"\n]+/y;
const LEVELS: BinaryOp[][] = [["||"], ["&&"], ["==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]];

/** Raw template pieces before directives are nested. */
type FlatPart =
  | { kind: "text"; text: string }
  | { kind: "interp"; expr: Expr; stripLeft: boolean; stripRight: boolean }
  | { kind: "directive"; word: "if" | "else" | "endif" | "for" | "endfor"; expr?: Expr; keyVar?: string; valueVar?: string; stripLeft: boolean; stripRight: boolean; pos: Pos; end: Pos };

class Parser {
  i: number;
  /** Newlines end the current construct (body level, object items) or are blanks (brackets, `${}`). */
  newlines = true;
  /** End of the text being parsed (a heredoc body is parsed in place). */
  limit: number;
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly src: string,
    start = 0,
  ) {
    for (let k = 0; k < src.length; k++) if (src.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
    this.i = start;
    this.limit = src.length;
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

  fail(summary: string, detail: string, offset = this.i, endOffset = offset): never {
    throw new HclSyntaxError(summary, detail, rangeOf(this.pos(offset), this.pos(Math.max(endOffset, offset))));
  }

  peek(n = 0): string {
    const k = this.i + n;
    return k < this.limit ? this.src[k] : "";
  }

  startsWith(s: string): boolean {
    return this.i + s.length <= this.limit && this.src.startsWith(s, this.i);
  }

  atEnd(): boolean {
    return this.i >= this.limit;
  }

  /** Runs `fn` with newlines significant or not, restoring the previous mode. */
  mode<T>(newlines: boolean, fn: () => T): T {
    const saved = this.newlines;
    this.newlines = newlines;
    try {
      return fn();
    } finally {
      this.newlines = saved;
    }
  }

  /** Skips blanks and comments; newlines too when they are not significant (or `all`). */
  skip(all = !this.newlines): void {
    for (;;) {
      const c = this.peek();
      if (c === " " || c === "\t" || c === "\r") this.i++;
      else if (c === "\n" && all) this.i++;
      else if (c === "#" || this.startsWith("//")) {
        while (!this.atEnd() && this.peek() !== "\n") this.i++;
      } else if (this.startsWith("/*")) {
        const end = this.src.indexOf("*/", this.i + 2);
        if (end < 0 || end + 2 > this.limit) this.fail("Invalid expression", "Expected the start of an expression, but found an invalid expression token.");
        this.i = end + 2;
      } else return;
    }
  }

  ident(): string | undefined {
    IDENT.lastIndex = this.i;
    const m = IDENT.exec(this.src);
    if (!m || this.i + m[0].length > this.limit) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  expectChar(c: string, summary: string, detail: string): void {
    this.skip();
    if (this.peek() !== c) this.fail(summary, detail);
    this.i++;
  }

  // ---- bodies -------------------------------------------------------------

  body(inBlock: boolean): Body {
    const body: Body = { attributes: [], blocks: [] };
    const seen = new Map<string, Attribute>();
    for (;;) {
      this.skip(true);
      if (this.atEnd()) {
        if (inBlock) this.fail("Unclosed configuration block", "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.");
        return body;
      }
      if (inBlock && this.peek() === "}") return body;
      const item = this.item(seen);
      if ("labels" in item) body.blocks.push(item);
      else body.attributes.push(item);
      // An item ends with a newline (or the end of the file at top level).
      this.skip(false);
      const c = this.peek();
      if (c === "\n" || (c === "" && !inBlock)) continue;
      if (c === "}" && inBlock && "labels" in item) this.fail("Missing newline after block definition", "A block definition must end with a newline.");
      if ("labels" in item) this.fail("Missing newline after block definition", "A block definition must end with a newline.");
      this.fail("Missing newline after argument", "An argument definition must be followed by a newline before the next argument or block.");
    }
  }

  /** One attribute or block. */
  item(seen: Map<string, Attribute>): Attribute | Block {
    const start = this.i;
    const name = this.ident();
    if (!name) this.fail("Argument or block definition required", "An argument or block definition is required here.");
    const nameEnd = this.pos();
    this.skip(false);
    if (this.peek() === "=" && this.peek(1) !== "=") {
      this.i++;
      return this.attribute(name, start, nameEnd, seen);
    }
    const labels: string[] = [];
    for (;;) {
      this.skip(false);
      if (this.peek() === '"') {
        const labelStart = this.i;
        const e = this.quoted();
        if (e.kind !== "template" || e.parts.some((p) => p.kind !== "text")) this.fail("Invalid string literal", "Template sequences are not allowed in this string. To include a literal \"$\", double it (as \"$$\") to escape it.", labelStart, this.i);
        labels.push(e.parts.map((p) => (p.kind === "text" ? p.text : "")).join(""));
      } else if (IDENT_START.test(this.peek())) labels.push(this.ident()!);
      else break;
    }
    if (this.peek() !== "{") {
      if (labels.length === 0 && (this.peek() === "\n" || this.atEnd())) this.fail("Missing argument value", "An argument definition requires a value after the equals sign.", this.i);
      this.fail("Invalid block definition", 'Either a quoted string block label or an opening brace ("{") is expected here.');
    }
    this.i++;
    this.skip(false);
    let body: Body;
    if (this.peek() === "\n" || this.atEnd()) {
      body = this.mode(true, () => this.body(true));
      this.i++; // "}"
    } else body = this.singleLineBlock();
    return { type: name, labels, body, pos: this.pos(start) };
  }

  attribute(name: string, start: number, nameEnd: Pos, seen: Map<string, Attribute>): Attribute {
    this.skip(false);
    if (this.peek() === "\n" || this.atEnd()) this.fail("Invalid expression", "Expected the start of an expression, but found an invalid expression token.");
    const exprStart = this.i;
    const expr = this.mode(true, () => this.expression());
    const attr: Attribute = { name, expr, source: this.src.slice(exprStart, this.i), pos: this.pos(start), nameEnd };
    const prior = seen.get(name);
    if (prior) {
      this.fail("Attribute redefined", `The argument ${JSON.stringify(name)} was already set at ${prior.pos.line}:${prior.pos.column}. Each argument may be set only once.`, start, nameEnd.offset);
    }
    seen.set(name, attr);
    return attr;
  }

  /** `block { arg = value }` on one line: at most one argument and no nested block. */
  singleLineBlock(): Body {
    const body: Body = { attributes: [], blocks: [] };
    if (this.peek() === "}") {
      this.i++;
      return body;
    }
    const start = this.i;
    const name = this.ident();
    if (!name) this.fail("Argument or block definition required", "An argument or block definition is required here.");
    const nameEnd = this.pos();
    this.skip(false);
    if (this.peek() !== "=" || this.peek(1) === "=") {
      this.fail(
        "Argument definition required",
        `A single-line block definition can contain only a single argument. If you meant to define argument ${JSON.stringify(name)}, use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.`,
        start,
      );
    }
    this.i++;
    body.attributes.push(this.attribute(name, start, nameEnd, new Map()));
    this.skip(false);
    if (this.peek() !== "}") {
      this.fail("Invalid single-argument block definition", "A single-line block definition must end with a closing brace immediately after its single argument definition.");
    }
    this.i++;
    return body;
  }

  // ---- expressions --------------------------------------------------------

  expression(): Expr {
    const cond = this.binary(0);
    const save = this.i;
    this.skip();
    if (this.peek() !== "?") {
      this.i = save;
      return cond;
    }
    this.i++;
    const then = this.expression();
    this.skip();
    if (this.peek() !== ":") this.fail("Missing false expression in conditional", "The conditional operator (...?...:...) requires a false expression, delimited by a colon.");
    this.i++;
    const otherwise = this.expression();
    return { kind: "conditional", cond, then, else: otherwise, pos: cond.pos, end: otherwise.end };
  }

  binary(level: number): Expr {
    if (level >= LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const save = this.i;
      this.skip();
      const op = LEVELS[level].find((o) => this.startsWith(o) && !(o === "<" && this.startsWith("<<")) && !(o.length === 1 && "<>!=".includes(o) && this.peek(1) === "="));
      if (!op || (op === "/" && (this.startsWith("//") || this.startsWith("/*")))) {
        this.i = save;
        return left;
      }
      this.i += op.length;
      const right = this.binary(level + 1);
      left = { kind: "binary", op, left, right, pos: left.pos, end: right.end };
    }
  }

  unary(): Expr {
    this.skip();
    const start = this.i;
    const c = this.peek();
    if ((c === "!" && this.peek(1) !== "=") || c === "-") {
      this.i++;
      const operand = this.unary();
      // hclsyntax folds a negated number literal into the literal.
      if (c === "-" && operand.kind === "literal" && operand.value.type.kind === "number" && operand.pos.offset === start + 1) {
        return { kind: "literal", value: Value.number(operand.value.asNumber().neg_()), pos: this.pos(start), end: operand.end };
      }
      return { kind: "unary", op: c, operand, pos: this.pos(start), end: operand.end };
    }
    return this.traversals(this.primary());
  }

  /** Attribute access, indexes and splats after a term. */
  traversals(target: Expr): Expr {
    for (;;) {
      const save = this.i;
      this.skip();
      const start = this.i;
      if (this.peek() === "." && this.peek(1) !== ".") {
        this.i++;
        if (this.peek() === "*") {
          this.i++;
          target = this.attrSplat(target, start);
          continue;
        }
        target = this.dotStep(target, start);
        continue;
      }
      if (this.peek() === "[") {
        this.i++;
        this.skip(true);
        if (this.peek() === "*") {
          this.i++;
          this.skip(true);
          if (this.peek() !== "]") this.fail("Missing close bracket on splat index", 'The star for a full splat operator must be immediately followed by a closing bracket ("]").');
          this.i++;
          const item: Expr = { kind: "splatItem", pos: this.pos(start), end: this.pos() };
          const each = this.traversals(item);
          target = { kind: "splat", target, each, pos: target.pos, end: each === item ? this.pos() : each.end };
          continue;
        }
        const index = this.mode(false, () => this.expression());
        this.skip(true);
        if (this.peek() !== "]") this.fail("Missing close bracket on index", 'The index operator must end with a closing bracket ("]").');
        this.i++;
        target = { kind: "index", target, index, legacy: false, pos: target.pos, end: this.pos() };
        continue;
      }
      this.i = save;
      return target;
    }
  }

  /** `.name` or the legacy `.0` index, applied to `target`. */
  dotStep(target: Expr, dotOffset: number): Expr {
    const c = this.peek();
    if (c >= "0" && c <= "9") {
      NUMBER.lastIndex = this.i;
      const m = NUMBER.exec(this.src)!;
      if (m[0].includes(".")) {
        const [first, second] = m[0].split(".");
        this.fail("Invalid legacy index syntax", `When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [${first}][${second}].`);
      }
      const litStart = this.i;
      this.i += m[0].length;
      const index: Expr = { kind: "literal", value: Value.number(BigFloat.parse(m[0])!), pos: this.pos(litStart), end: this.pos() };
      return { kind: "index", target, index, legacy: true, pos: target.pos, end: this.pos() };
    }
    const name = this.ident();
    if (!name) this.fail("Invalid attribute name", "An attribute name is required after a dot.", dotOffset);
    return { kind: "getattr", target, name, pos: target.pos, end: this.pos() };
  }

  /** `.*` followed by attribute (and legacy index) steps only; further traversal applies to the result. */
  attrSplat(target: Expr, start: number): Expr {
    const item: Expr = { kind: "splatItem", pos: this.pos(start), end: this.pos() };
    let each: Expr = item;
    for (;;) {
      const save = this.i;
      this.skip();
      const dot = this.i;
      if (this.peek() !== "." || this.peek(1) === ".") {
        this.i = save;
        break;
      }
      this.i++;
      if (this.peek() === "*") this.fail("Nested splat expression not allowed", "A splat expression (*) cannot be used inside another attribute-only splat expression.");
      each = this.dotStep(each, dot);
    }
    return { kind: "splat", target, each, pos: target.pos, end: this.pos() };
  }

  primary(): Expr {
    this.skip();
    const start = this.i;
    const c = this.peek();
    if (c === "") this.fail("Invalid expression", "Expected the start of an expression, but found an invalid expression token.");
    if (c >= "0" && c <= "9") return this.number();
    if (c === '"') return this.quoted();
    if (this.startsWith("<<")) return this.heredoc();
    if (c === "(") {
      this.i++;
      const inner = this.mode(false, () => this.expression());
      this.skip(true);
      if (this.peek() !== ")") this.fail("Missing close parenthesis", "Expected a closing parenthesis to terminate the expression.");
      this.i++;
      return { kind: "paren", inner, pos: this.pos(start), end: this.pos() };
    }
    if (c === "[") return this.tupleOrFor();
    if (c === "{") return this.objectOrFor();
    const name = this.ident();
    if (!name) this.fail("Invalid expression", "Expected the start of an expression, but found an invalid expression token.");
    let fname = name;
    if (this.startsWith("::")) {
      while (this.startsWith("::")) {
        this.i += 2;
        const part = this.ident();
        if (!part) this.fail("Missing function name", "Function scope resolution symbol :: must be followed by a function name in this scope.");
        fname += `::${part}`;
      }
      const save = this.i;
      this.skip();
      if (this.peek() !== "(") {
        this.i = save;
        this.fail("Missing open parenthesis", "Function selector must be followed by an open parenthesis to begin the function call.", save);
      }
    }
    const nameEnd = this.pos();
    const save = this.i;
    this.skip();
    if (this.peek() === "(") return this.call(fname, start, nameEnd);
    this.i = save;
    if (name === "true" || name === "false") return { kind: "literal", value: Value.bool(name === "true"), pos: this.pos(start), end: nameEnd };
    if (name === "null") return { kind: "literal", value: NULL, pos: this.pos(start), end: nameEnd };
    return { kind: "variable", name, pos: this.pos(start), end: nameEnd };
  }

  call(name: string, start: number, nameEnd: Pos): Expr {
    this.i++; // "("
    return this.mode(false, () => {
      const args: Expr[] = [];
      let expandLast = false;
      for (;;) {
        this.skip();
        if (this.peek() === ")") break;
        if (expandLast) this.fail("Missing closing parenthesis", "An expanded function argument (with ...) must be immediately followed by closing parentheses.");
        args.push(this.expression());
        this.skip();
        if (this.startsWith("...")) {
          this.i += 3;
          expandLast = true;
          this.skip();
        }
        if (this.peek() === ",") this.i++;
        else if (this.peek() !== ")") {
          this.fail("Missing argument separator", "A comma is required to separate each function argument from the next.");
        }
      }
      this.i++;
      return { kind: "call", name, nameEnd, args, expandLast, pos: this.pos(start), end: this.pos() } as Expr;
    });
  }

  number(): Expr {
    const start = this.i;
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.src)!;
    this.i += m[0].length;
    const n = BigFloat.parse(m[0]);
    if (!n) this.fail("Invalid number literal", `Failed to recognize the value of this number literal: ${m[0]}.`, start);
    return { kind: "literal", value: Value.number(n), pos: this.pos(start), end: this.pos() };
  }

  isForKeyword(): boolean {
    if (!this.startsWith("for")) return false;
    const next = this.peek(3);
    return !/[\p{ID_Continue}\-]/u.test(next);
  }

  tupleOrFor(): Expr {
    const start = this.i;
    this.i++;
    return this.mode(false, () => {
      this.skip();
      if (this.isForKeyword()) {
        const f = this.forExpr(start, false);
        this.skip();
        if (this.peek() !== "]") this.fail("Invalid 'for' expression", "Extra characters after the end of the 'for' expression.");
        this.i++;
        return { ...f, end: this.pos() };
      }
      const items: Expr[] = [];
      for (;;) {
        this.skip();
        if (this.peek() === "]") break;
        items.push(this.expression());
        this.skip();
        if (this.peek() === ",") this.i++;
        else if (this.peek() !== "]") this.fail("Missing item separator", "Expected a comma to mark the beginning of the next item.");
      }
      this.i++;
      return { kind: "tuple", items, pos: this.pos(start), end: this.pos() } as Expr;
    });
  }

  objectOrFor(): Expr {
    const start = this.i;
    this.i++;
    this.skip(true);
    if (this.isForKeyword()) {
      return this.mode(false, () => {
        const f = this.forExpr(start, true);
        this.skip();
        if (this.peek() !== "}") this.fail("Invalid 'for' expression", "Extra characters after the end of the 'for' expression.");
        this.i++;
        return { ...f, end: this.pos() };
      });
    }
    return this.mode(true, () => {
      const items: ObjectItem[] = [];
      for (;;) {
        this.skip(true);
        if (this.peek() === "}") break;
        if (this.atEnd()) this.fail("Missing close brace", "Expected a closing brace to terminate the object.");
        const keyStart = this.i;
        const key = this.expression();
        const keyIsIdent = key.kind === "variable" && this.src.slice(keyStart, this.i) === key.name;
        this.skip();
        if (this.peek() !== "=" && this.peek() !== ":") {
          this.fail("Missing key/value separator", "Expected an equals sign (\"=\") to mark the beginning of the attribute value.");
        }
        this.i++;
        const value = this.expression();
        items.push({ key: keyIsIdent ? { kind: "literal", value: Value.string((key as { name: string }).name), pos: key.pos, end: key.end } : key, keyIsIdent, value });
        this.skip();
        const c = this.peek();
        if (c === "," || c === "\n") this.i++;
        else if (c !== "}") this.fail("Missing attribute separator", "Expected a newline or comma to mark the beginning of the next attribute.");
      }
      this.i++;
      return { kind: "object", items, pos: this.pos(start), end: this.pos() } as Expr;
    });
  }

  forExpr(start: number, object: boolean): Extract<Expr, { kind: "for" }> {
    this.i += 3;
    this.skip();
    const first = this.ident();
    if (!first) this.fail("Invalid 'for' expression", "For expression requires variable name after 'for'.");
    let keyVar: string | undefined;
    let valueVar = first;
    this.skip();
    if (this.peek() === ",") {
      this.i++;
      this.skip();
      keyVar = first;
      const second = this.ident();
      if (!second) this.fail("Invalid 'for' expression", "For expression requires value variable name after comma.");
      valueVar = second;
      this.skip();
    }
    if (this.ident() !== "in") this.fail("Invalid 'for' expression", "For expression requires the 'in' keyword after its name declarations.");
    const collection = this.expression();
    this.skip();
    if (this.peek() !== ":") this.fail("Invalid 'for' expression", "For expression requires a colon after the collection expression.");
    this.i++;
    let keyExpr: Expr | undefined;
    let valueExpr = this.expression();
    let group = false;
    if (object) {
      this.skip();
      if (!this.startsWith("=>")) this.fail("Invalid 'for' expression", "Key expression in 'for' expression must be followed by an arrow (=>).");
      this.i += 2;
      keyExpr = valueExpr;
      valueExpr = this.expression();
      this.skip();
      if (this.startsWith("...")) {
        this.i += 3;
        group = true;
      }
    }
    let cond: Expr | undefined;
    this.skip();
    if (this.startsWith("if") && !/[\p{ID_Continue}\-]/u.test(this.peek(2))) {
      this.i += 2;
      cond = this.expression();
    }
    return { kind: "for", object, keyVar, valueVar, collection, keyExpr, valueExpr, group, cond, pos: this.pos(start), end: this.pos() };
  }

  quoted(): Expr {
    const start = this.i;
    this.i++;
    const flat = this.templateParts('"', true);
    if (this.peek() !== '"') this.fail("Unterminated template string", "No closing marker was found for the string.", start);
    this.i++;
    return { kind: "template", parts: nestTemplate(flat, this), heredoc: false, pos: this.pos(start), end: this.pos() };
  }

  heredoc(): Expr {
    const start = this.i;
    HEREDOC_START.lastIndex = this.i;
    const m = HEREDOC_START.exec(this.src);
    if (!m) this.fail("Invalid expression", "Expected the start of an expression, but found an invalid expression token.");
    const flush = m[1] === "-";
    const marker = m[2];
    const bodyStart = this.i + m[0].length;
    // The closing marker: a whole line that is the marker once blanks are trimmed, ended by a newline.
    let lineStart = bodyStart;
    let bodyEnd = -1;
    let after = -1;
    while (lineStart < this.src.length) {
      const nl = this.src.indexOf("\n", lineStart);
      if (nl < 0) break;
      if (this.src.slice(lineStart, nl).trim() === marker) {
        bodyEnd = lineStart;
        after = nl - (this.src[nl - 1] === "\r" ? 1 : 0);
        break;
      }
      lineStart = nl + 1;
    }
    if (bodyEnd < 0) this.fail("Unterminated template string", "No closing marker was found for the string.", start);
    const savedLimit = this.limit;
    this.limit = bodyEnd;
    this.i = bodyStart;
    const flat = this.templateParts("", false);
    this.limit = savedLimit;
    this.i = after;
    applyStripMarkers(flat);
    if (flush) flushIndent(flat);
    return { kind: "template", parts: nestParts(flat, this), heredoc: true, pos: this.pos(start), end: this.pos() };
  }

  /** Reads template text until `end` (a quote) or the limit; handles ${}, %{} and escapes. */
  templateParts(end: string, escapes: boolean): FlatPart[] {
    const parts: FlatPart[] = [];
    let text = "";
    const flush = () => {
      if (text) parts.push({ kind: "text", text });
      text = "";
    };
    while (!this.atEnd()) {
      const c = this.peek();
      if (end && c === end) break;
      if (end && c === "\n") this.fail("Invalid multi-line string", "Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.");
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
        const expr = this.mode(false, () => {
          const e = this.expression();
          this.skip();
          return e;
        });
        const stripRight = this.peek() === "~";
        if (stripRight) this.i++;
        if (this.peek() === "" || (end && this.peek() === end)) this.fail("Unclosed template interpolation sequence", "There is no closing brace for this interpolation sequence before the end of the quoted template. This might be caused by incorrect nesting inside the given expression.");
        if (this.peek() !== "}") this.fail("Extra characters after interpolation expression", "Expected a closing brace to end the interpolation expression, but found extra characters.", this.i, this.i + 1);
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
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail("Invalid escape sequence", `The \\${n} escape sequence must be followed by ${len} hexadecimal digits.`);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail("Invalid escape sequence", `The given Unicode code point is not valid.`);
          text += String.fromCodePoint(cp);
          this.i += 2 + len;
        } else {
          this.fail("Invalid escape sequence", `The symbol ${JSON.stringify(n)} is not a valid escape sequence selector.`, this.i, this.i + 2);
        }
      } else if (c === "\n") {
        // HCL's scanner ends a literal token after each newline; strip markers and heredoc
        // indentation act on single tokens, so keep the same boundaries.
        text += c;
        this.i++;
        flush();
      } else {
        LITERAL_RUN.lastIndex = this.i;
        const m = LITERAL_RUN.exec(this.src);
        let run = m && m.index === this.i ? m[0] : c;
        if (this.i + run.length > this.limit) run = run.slice(0, this.limit - this.i);
        text += run;
        this.i += run.length;
      }
    }
    flush();
    return parts;
  }

  directive(): FlatPart {
    const startOffset = this.i;
    const pos = this.pos();
    this.i += 2;
    const stripLeft = this.peek() === "~";
    if (stripLeft) this.i++;
    return this.mode(false, () => {
      this.skip();
      const word = this.ident();
      let part: FlatPart;
      if (word === "if") {
        part = { kind: "directive", word, expr: this.expression(), stripLeft, stripRight: false, pos, end: pos };
      } else if (word === "for") {
        this.skip();
        const first = this.ident();
        if (!first) this.fail("Invalid 'for' directive", "For directive requires variable name after 'for'.");
        let keyVar: string | undefined;
        let valueVar = first;
        this.skip();
        if (this.peek() === ",") {
          this.i++;
          this.skip();
          keyVar = first;
          valueVar = this.ident() ?? this.fail("Invalid 'for' directive", "For directive requires value variable name after comma.");
          this.skip();
        }
        if (this.ident() !== "in") this.fail("Invalid 'for' directive", "For directive requires 'in' keyword after names.");
        part = { kind: "directive", word, keyVar, valueVar, expr: this.expression(), stripLeft, stripRight: false, pos, end: pos };
      } else if (word === "else" || word === "endif" || word === "endfor") {
        part = { kind: "directive", word, stripLeft, stripRight: false, pos, end: pos };
      } else if (word) {
        const suggestion = suggest(word, ["if", "else", "endif", "for", "endfor"]);
        this.fail("Invalid template control keyword", `${JSON.stringify(word)} is not a valid template control keyword.${suggestion ? ` Did you mean ${JSON.stringify(suggestion)}?` : ""}`, startOffset);
      } else {
        this.fail("Invalid template directive", "A template directive keyword (\"if\", \"for\", etc) is expected at the beginning of a %{ sequence.", startOffset);
      }
      this.skip();
      if (this.peek() === "~") {
        part.stripRight = true;
        this.i++;
      }
      if (this.peek() !== "}") this.fail("Extra characters in directive", "Expected a closing brace to end the template directive.", this.i, this.i + 1);
      this.i++;
      part.end = this.pos();
      return part;
    });
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
  const unexpected = (stop: string | undefined, open: "if" | "for"): never => {
    const at = flat[Math.min(k, flat.length - 1)] as { pos?: Pos; end?: Pos };
    if (stop === undefined) p.fail("Unexpected end of template", `The control directive is missing its corresponding %{ end${open} }.`, p.limit);
    return p.fail(`Unexpected ${stop} directive`, `Expecting an end${open} directive for the ${open} started earlier.`, at.pos?.offset ?? p.limit);
  };
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
        const then = seq(["else", "endif", "endfor"]);
        let otherwise: TemplatePart[] = [];
        if (then.stop === "else") {
          k++;
          const e = seq(["endif", "else", "endfor"]);
          if (e.stop !== "endif") unexpected(e.stop, "if");
          otherwise = e.parts;
        } else if (then.stop !== "endif") unexpected(then.stop, "if");
        k++;
        parts.push({ kind: "if", cond: part.expr!, then: then.parts, else: otherwise });
      } else if (part.word === "for") {
        k++;
        const body = seq(["endfor", "else", "endif"]);
        if (body.stop !== "endfor") unexpected(body.stop, "for");
        k++;
        parts.push({ kind: "for", keyVar: part.keyVar, valueVar: part.valueVar!, collection: part.expr!, body: body.parts });
      } else {
        p.fail(`Unexpected ${part.word} directive`, `The ${part.word} directive has no matching opening directive.`, part.pos.offset, part.end.offset);
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

/** HCL's nameSuggestion: the closest candidate within an edit distance of 2. */
function suggest(given: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return d[a.length][b.length];
  };
  return candidates.find((c) => distance(given, c) < 3);
}

const BOM = "\ufeff";

/** Parses a whole .tf file. */
export function parseHclFile(src: string): Body {
  const p = new Parser(src, src.startsWith(BOM) ? 1 : 0);
  return p.body(false);
}

/** Parses one expression (the whole input must be the expression). */
export function parseExpression(src: string): Expr {
  const p = new Parser(src);
  p.newlines = false;
  const e = p.expression();
  p.skip(true);
  if (!p.atEnd()) p.fail("Extra characters after expression", "An expression was successfully parsed, but extra characters were found after it.");
  return e;
}

/** Parses template text, as given to templatefile() or found in a .tf.json string. */
export function parseTemplate(src: string): Expr {
  const p = new Parser(src);
  const flat = p.templateParts("", false);
  return { kind: "template", parts: nestTemplate(flat, p), heredoc: true, pos: p.pos(0), end: p.pos(src.length) };
}

export { HclSyntaxError };
export type { Attribute, Block, Body };
