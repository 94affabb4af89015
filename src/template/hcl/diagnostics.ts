import type { Pos, Range } from "./ast.js";

/** A Terraform-style diagnostic: a summary, a detail and the source range it is about. */
export interface Diagnostic {
  summary: string;
  detail: string;
  /** File the range is in, relative to the template directory (set by whoever knows the file). */
  file?: string;
  range?: Range;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.range ? `${d.file ? `${d.file}:` : ""}${d.range.start.line}:${d.range.start.column}: ` : d.file ? `${d.file}: ` : "";
  return `${where}${d.summary}${d.detail ? `: ${d.detail}` : ""}`;
}

/** A syntax error, as `terraform fmt` would report it. */
export class HclSyntaxError extends Error {
  readonly diagnostic: Diagnostic;

  constructor(summary: string, detail: string, range: Range) {
    super(`${summary}: ${detail} (line ${range.start.line}, column ${range.start.column})`);
    this.name = "HclSyntaxError";
    this.diagnostic = { summary, detail, range };
  }

  get line(): number {
    return this.diagnostic.range!.start.line;
  }

  get column(): number {
    return this.diagnostic.range!.start.column;
  }

  /** The message without the position. */
  get reason(): string {
    return `${this.diagnostic.summary}: ${this.diagnostic.detail}`;
  }
}

/**
 * An evaluation error. `try()` and `can()` catch it unless it is `static`: Terraform checks references
 * (undeclared resources, variables, locals) before evaluating, so those errors are never caught.
 */
export class EvalError extends Error {
  readonly diagnostic: Diagnostic;

  constructor(
    summary: string,
    detail: string,
    range?: Range,
    readonly isStatic = false,
  ) {
    super(detail ? `${summary}: ${detail}` : summary);
    this.name = "EvalError";
    this.diagnostic = { summary, detail, range };
  }

  get line(): number | undefined {
    return this.diagnostic.range?.start.line;
  }

  /** Attaches the file the failing expression came from (first one wins: the innermost). */
  inFile(file: string): this {
    if (!this.diagnostic.file) this.diagnostic.file = file;
    return this;
  }
}

export function rangeOf(start: Pos, end: Pos = start): Range {
  return { start, end };
}

/** Thrown inside functions when they read an unknown value: the call's result is then unknown. */
export class UnknownSignal {
  constructor(readonly reason: string) {}
}
