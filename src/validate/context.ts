import { workspaceContext, type WorkspaceContext } from "../plan/context.js";
import { prebuildPlans } from "../plan/diff.js";
import { type Plan, planTemplate, type PlannedInstance } from "../plan/plan.js";
import type { Attr, ModuleConfig } from "../template/config.js";
import { EvalError, type Value } from "../template/hcl/index.js";
import { analyzeBoot, type BootAnalysis, initScriptMarker, markedInitScript, plannedToken } from "../plan/agent-starts.js";
import type { RuleContext } from "./rule.js";

/** Plans the template as a started workspace of a real user, with each init_script carrying a marker. */
export function createRuleContext(config: ModuleConfig): RuleContext {
  const agent: WorkspaceContext["agent"] = (name) => ({ id: `00000000-0000-4000-8000-${Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12)}`, token: plannedToken(name), initScript: markedInitScript(name, "https://coder.example.com/") });
  const plan = planTemplate(config, workspaceContext({ agent }));
  const cache = new Map<PlannedInstance, BootAnalysis>();
  let prebuild: { prebuild: Plan; claim: Plan } | undefined;
  let stopped: Plan | undefined;
  return {
    plan,
    dir: config.dir,
    tokenOf: plannedToken,
    prebuild: () => (prebuild ??= prebuildPlans(config, { agent })),
    stopped: () => (stopped ??= planTemplate(config, workspaceContext({ agent, transition: "stop" }))),
    boot(instance) {
      let a = cache.get(instance);
      if (!a) {
        a = analyzeBoot(
          instance.boot,
          instance.agents.map((x) => x.name),
          initScriptMarker,
          instance.files,
          plannedToken,
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
