/**
 * Nested blocks of a resource as Terraform expands them: static blocks, and `dynamic "x"` blocks
 * producing one block per element of their for_each (the iterator named by `iterator`, else by the
 * block's label, with `.key` and `.value`), each with its arguments evaluated in that iteration.
 */
import type { Attr, BlockConfig } from "../template/config.js";
import { EvalError, type EvalScope, Evaluator, iterate, STRING, Value } from "../template/hcl/index.js";
import type { ModuleScope } from "./scope.js";

/** One expanded block: its arguments' values (lazily) and its own nested blocks. */
export interface BlockView {
  /** The argument's value; undefined when it is not set. Unknown when the for_each is. */
  value(name: string): Value | undefined;
  /** The argument as written (for a finding's line), when the block is static. */
  attr(name: string): Attr | undefined;
  has(name: string): boolean;
  blocks(type: string): BlockView[];
}

/** Blocks of `type` under `parent`, static and dynamic, in the order written. */
export function blockViews(scope: ModuleScope, iscope: EvalScope, parent: { blocks: BlockConfig[] }, type: string): BlockView[] {
  const out: BlockView[] = [];
  for (const b of parent.blocks) {
    if (b.type === type) out.push(staticView(scope, iscope, b));
    else if (b.type === "dynamic" && b.labels[0] === type) out.push(...dynamicViews(scope, iscope, b));
  }
  return out;
}

function staticView(scope: ModuleScope, iscope: EvalScope, b: BlockConfig): BlockView {
  return {
    value: (name) => (b.attrs[name] ? scope.evalAttr(b.attrs[name], iscope) : undefined),
    attr: (name) => b.attrs[name],
    has: (name) => name in b.attrs,
    blocks: (type) => blockViews(scope, iscope, b, type),
  };
}

function dynamicViews(scope: ModuleScope, iscope: EvalScope, d: BlockConfig): BlockView[] {
  const content = d.blocks.find((x) => x.type === "content");
  if (!content || !d.attrs.for_each) return [];
  const forEach = scope.evalAttr(d.attrs.for_each, iscope);
  const iteratorAttr = d.attrs.iterator;
  const iterator = iteratorAttr?.expr.kind === "variable" ? iteratorAttr.expr.name : d.labels[0];
  if (!forEach.isKnown) {
    // One block whose every argument is unknown, as Terraform's plan shows it.
    const reason = forEach.unknownReason ?? `for_each of dynamic "${d.labels[0]}"`;
    return [{ value: (name) => (name in content.attrs ? Value.unknown(STRING, reason) : undefined), attr: () => undefined, has: (name) => name in content.attrs, blocks: () => [] }];
  }
  if (forEach.isNull) throw new EvalError("Invalid dynamic for_each value", "Cannot use a null value in for_each.").inFile(d.attrs.for_each.file);
  return iterate(forEach).map(([k, v]) => {
    const inner: EvalScope = {
      ...iscope,
      resolve(address, range, rest) {
        if (address[0] !== iterator) return iscope.resolve(address, range, rest);
        if (address[1] === "key") return k;
        if (address[1] === "value") return v;
        throw new EvalError("Unsupported attribute", `The iterator "${iterator}" has only the attributes "key" and "value".`, range);
      },
    };
    return iterationView(inner, content);
  });
}

/** A dynamic block's content in one iteration (its iterator is not a declared object: evaluated directly). */
function iterationView(inner: EvalScope, b: BlockConfig): BlockView {
  const evaluate = (a: Attr) => {
    try {
      return new Evaluator(inner).eval(a.expr);
    } catch (err) {
      if (err instanceof EvalError) err.inFile(a.file);
      throw err;
    }
  };
  return {
    value: (name) => (b.attrs[name] ? evaluate(b.attrs[name]) : undefined),
    attr: () => undefined,
    has: (name) => name in b.attrs,
    blocks: (type) => b.blocks.filter((x) => x.type === type).map((x) => iterationView(inner, x)),
  };
}
