import type { PlannedInstance, Plan } from "../plan/plan.js";
import type { Attr } from "../template/config.js";
import type { Value } from "../template/hcl/index.js";
import type { BootAnalysis } from "../plan/agent-starts.js";

export type Severity = "error" | "warning";

export interface Finding {
  ruleId: string;
  severity: Severity;
  /** Path relative to the template directory. */
  file: string;
  line: number;
  message: string;
  /** How to fix it. */
  hint: string;
}

export interface RuleContext {
  /** The template planned for a started workspace of a real user. */
  plan: Plan;
  /** The template's directory (absolute), where findings' files are. */
  dir: string;
  /** Where each instance's boot starts its agents (cached). */
  boot(instance: PlannedInstance): BootAnalysis;
  /** An attribute's value, or undefined when it cannot be evaluated (evaluation errors are their own rule). */
  value(attr: Attr | undefined): Value | undefined;
}

export type RuleFinding = Omit<Finding, "ruleId" | "severity"> & { severity?: Severity };

export interface Rule {
  id: string;
  title: string;
  /** Default severity of its findings. */
  severity: Severity;
  /** Longer text for SARIF and docs. */
  description: string;
  check(ctx: RuleContext): RuleFinding[];
}
