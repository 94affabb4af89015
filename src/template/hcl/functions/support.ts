/** What function implementations share: their interface, errors and argument helpers. */
import type { Expr, Range } from "../ast.js";
import { UnknownSignal } from "../diagnostics.js";
import type { Evaluator } from "../evaluate.js";
import type { BigFloat } from "../number.js";
import { BOOL, DYNAMIC, listOf, mapOf, NUMBER, objectOf, setOf, STRING, tupleOf, type Type } from "../types.js";
import type { Unknown, Value } from "../value.js";

export interface CallContext {
  evaluator: Evaluator;
  name: string;
  range: Range;
  args: Expr[];
  vars: Map<string, Value>;
}

export interface FunctionImpl {
  impl(args: Value[], ctx: CallContext): Value;
  /** Receives unknown arguments instead of the call short-circuiting to an unknown result. */
  allowUnknown?: boolean;
  /** Handles sensitive marks itself (otherwise they are removed and put on the result). */
  allowMarked?: boolean;
  /** Type of the result when an argument is unknown (default: the signature's return type). */
  returnType?(args: Value[]): Type;
}

/** A function that takes its arguments unevaluated (try, can). */
export interface LazyFunction {
  lazy(ctx: CallContext): Value;
}

export type FunctionTable = Record<string, FunctionImpl | LazyFunction>;

/** A function's own failure: "Call to function … failed", or about one argument when `arg` is set. */
export class FunctionError extends Error {
  constructor(
    message: string,
    readonly arg?: number,
  ) {
    super(message);
  }
}

/** A type from Terraform's JSON type notation ("string", ["list","string"], ["object",{…}]). */
export function typeFromJson(j: unknown): Type {
  if (j === "string") return STRING;
  if (j === "number") return NUMBER;
  if (j === "bool") return BOOL;
  if (Array.isArray(j)) {
    const [kind, arg] = j as [string, unknown];
    if (kind === "list") return listOf(typeFromJson(arg));
    if (kind === "set") return setOf(typeFromJson(arg));
    if (kind === "map") return mapOf(typeFromJson(arg));
    if (kind === "tuple") return tupleOf((arg as unknown[]).map(typeFromJson));
    if (kind === "object") return objectOf(Object.entries(arg as Record<string, unknown>).map(([k, v]) => [k, typeFromJson(v)]));
  }
  return DYNAMIC;
}

/** The value, or an UnknownSignal when it is not known (the call's result is then unknown). */
export function known(v: Value): Value {
  if (!v.isKnown) throw new UnknownSignal((v.raw as Unknown).reason);
  return v;
}

/** The value, throwing UnknownSignal when any part of it is unknown. */
export function whollyKnown(v: Value): Value {
  if (!v.isWhollyKnown()) throw new UnknownSignal(v.unknownReason ?? "");
  return v;
}

export const str = (v: Value): string => known(v).asString();
export const num = (v: Value): BigFloat => known(v).asNumber();
export const bool = (v: Value): boolean => known(v).asBool();
export const elems = (v: Value): Value[] => known(v).asArray();
export const entries = (v: Value): Map<string, Value> => known(v).asMap();

/** A whole number argument as a JS number. */
export function int(v: Value, what: string, arg?: number): number {
  const n = num(v);
  if (!n.isInt()) throw new FunctionError(`${what} must be a whole number`, arg);
  const b = n.toBigInt();
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) throw new FunctionError(`${what} is out of range`, arg);
  return Number(b);
}

/** Go's []byte(string) view of a string, for byte-oriented functions. */
export const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
