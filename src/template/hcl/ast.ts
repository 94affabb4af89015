/** Syntax tree of HCL native syntax: bodies, expressions and templates, with source ranges. */
import type { Value } from "./value.js";

export interface Pos {
  /** 1-based line and column. */
  line: number;
  column: number;
  offset: number;
}

export interface Range {
  start: Pos;
  end: Pos;
}

interface Node {
  /** Start of the node (kept as `pos` for brevity at call sites). */
  pos: Pos;
  end: Pos;
}

export type Expr =
  | (Node & { kind: "literal"; value: Value })
  | (Node & { kind: "template"; parts: TemplatePart[]; heredoc: boolean })
  | (Node & { kind: "tuple"; items: Expr[] })
  | (Node & { kind: "object"; items: ObjectItem[] })
  | (Node & { kind: "variable"; name: string })
  | (Node & { kind: "getattr"; target: Expr; name: string })
  | (Node & { kind: "index"; target: Expr; index: Expr; legacy: boolean })
  /** `each` is evaluated once per element with `splatItem` bound to the element. */
  | (Node & { kind: "splat"; target: Expr; each: Expr })
  | (Node & { kind: "splatItem" })
  /** `name` includes a namespace for provider-defined functions (`provider::ns::fn`, `core::fn`). */
  | (Node & { kind: "call"; name: string; nameEnd: Pos; args: Expr[]; expandLast: boolean })
  | (Node & { kind: "unary"; op: "!" | "-"; operand: Expr })
  | (Node & { kind: "binary"; op: BinaryOp; left: Expr; right: Expr })
  | (Node & { kind: "conditional"; cond: Expr; then: Expr; else: Expr })
  | (Node & {
      kind: "for";
      object: boolean;
      keyVar?: string;
      valueVar: string;
      collection: Expr;
      keyExpr?: Expr;
      valueExpr: Expr;
      group: boolean;
      cond?: Expr;
    })
  | (Node & { kind: "paren"; inner: Expr });

export type BinaryOp = "||" | "&&" | "==" | "!=" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "%";

export interface ObjectItem {
  key: Expr;
  /** A bare identifier key is the literal string, not a variable reference. */
  keyIsIdent: boolean;
  value: Expr;
}

export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "interp"; expr: Expr }
  | { kind: "if"; cond: Expr; then: TemplatePart[]; else: TemplatePart[] }
  | { kind: "for"; keyVar?: string; valueVar: string; collection: Expr; body: TemplatePart[] };

export interface Attribute {
  name: string;
  expr: Expr;
  /** Raw source text of the expression (heredocs included). */
  source: string;
  pos: Pos;
  nameEnd: Pos;
}

export interface Block {
  type: string;
  labels: string[];
  body: Body;
  pos: Pos;
}

export interface Body {
  attributes: Attribute[];
  blocks: Block[];
}
