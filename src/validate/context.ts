import { workspaceContext } from "../plan/context.js";
import { planTemplate, type PlannedInstance } from "../plan/plan.js";
import type { Attr, ModuleConfig } from "../template/config.js";
import { EvalError, type Value } from "../template/hcl/index.js";
import { analyzeBoot, type BootAnalysis, markedInitScript } from "../plan/agent-starts.js";
import type { RuleContext } from "./rule.js";

/** Plans the template as a started workspace of a real user, with each init_script carrying a marker. */
export function createRuleContext(config: ModuleConfig): RuleContext {
  const ctx = workspaceContext({
    agent: (name) => ({ id: `00000000-0000-4000-8000-${Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12)}`, token: `token-of-${name}`, initScript: markedInitScript(name, "https://coder.example.com/") }),
  });
  const plan = planTemplate(config, ctx);
  const cache = new Map<PlannedInstance, BootAnalysis>();
  return {
    plan,
    dir: config.dir,
    boot(instance) {
      let a = cache.get(instance);
      if (!a) {
        a = analyzeBoot(
          instance.boot,
          instance.agents.map((x) => x.name),
        );
        cache.set(instance, a);
      }
      return a;
    },
    value(attr: Attr | undefined): Value | undefined {
      if (!attr) return undefined;
      try {
        return plan.scope.evalAttr(attr);
      } catch (err) {
        if (err instanceof EvalError) return undefined;
        throw err;
      }
    },
  };
}
