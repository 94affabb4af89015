/** Syntax tree of HCL native syntax: bodies, expressions and templates, with source positions. */

export interface Pos {
  /** 1-based line and column. */
  line: number;
  column: number;
  offset: number;
}

export type Expr =
  | { kind: "literal"; value: string | number | boolean | null; pos: Pos }
  | { kind: "template"; parts: TemplatePart[]; pos: Pos }
  | { kind: "tuple"; items: Expr[]; pos: Pos }
  | { kind: "object"; items: { key: Expr; keyIsIdent: boolean; value: Expr }[]; pos: Pos }
  | { kind: "variable"; name: string; pos: Pos }
  | { kind: "getattr"; target: Expr; name: string; pos: Pos }
  | { kind: "index"; target: Expr; index: Expr; pos: Pos }
  | { kind: "splat"; target: Expr; each: Expr; pos: Pos }
  /** Placeholder for the element inside a splat's `each` traversal. */
  | { kind: "splatItem"; pos: Pos }
  | { kind: "call"; name: string; args: Expr[]; expandLast: boolean; pos: Pos }
  | { kind: "unary"; op: "!" | "-"; operand: Expr; pos: Pos }
  | { kind: "binary"; op: string; left: Expr; right: Expr; pos: Pos }
  | { kind: "conditional"; cond: Expr; then: Expr; else: Expr; pos: Pos }
  | {
      kind: "for";
      object: boolean;
      keyVar?: string;
      valueVar: string;
      collection: Expr;
      keyExpr?: Expr;
      valueExpr: Expr;
      group: boolean;
      cond?: Expr;
      pos: Pos;
    }
  | { kind: "paren"; inner: Expr; pos: Pos };

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
