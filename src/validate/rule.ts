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
  /** The token every plan gives an agent (to find where arguments carry it). */
  tokenOf(agent: string): string;
  /** The template planned as an unclaimed prebuild and as its claim (computed once, when asked). */
  prebuild(): { prebuild: Plan; claim: Plan };
  /** The template planned for a stop build of the workspace (computed once, when asked). */
  stopped(): Plan;
  /** An attribute's value, or undefined when it cannot be evaluated (evaluation errors are their own rule). */
  value(attr: Attr | undefined): Value | undefined;
}

export type RuleFinding = Omit<Finding, "ruleId" | "severity"> & { severity?: Severity };

/** A rule's documentation: docs/rules.md and SARIF `rules[].help` are generated from it. */
export interface RuleDocs {
  /** What it catches (one paragraph). */
  description: string;
  /** Why it matters: what Coder or the machine does with such a template. */
  why: string;
  /** How to fix it. */
  fix: string;
  /** A minimal failing snippet and its fixed twin (HCL, or the file named in a first-line comment). */
  example: { bad: string; good: string };
}

export interface Rule extends RuleDocs {
  /** Stable id (`coder/<name>`), used in reports, SARIF and suppressions. */
  id: string;
  title: string;
  /** Default severity of its findings. */
  severity: Severity;
  check(ctx: RuleContext): RuleFinding[];
}
