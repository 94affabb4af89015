import type { AgentStart } from "../template/agent-starts.js";
import type { InstanceModel, TemplateModel } from "../template/model.js";
import type { UserDataPlan } from "../template/userdata.js";

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

/** The instance's user data, rendered with a marker in place of each agent's init_script. */
export interface RenderedUserData {
  /** The rendered text; undefined when the instance has no user data or it could not be rendered. */
  text?: string;
  /** Why it could not be rendered (an unknown reference, a missing file, ...). */
  error?: string;
  plan?: UserDataPlan;
  /** Starts per agent tied to this instance. */
  starts: Map<string, AgentStart[]>;
}

export interface RuleContext {
  model: TemplateModel;
  userData(instance: InstanceModel): RenderedUserData;
}

export interface Rule {
  id: string;
  title: string;
  /** Default severity of its findings. */
  severity: Severity;
  /** Longer text for SARIF and docs. */
  description: string;
  check(ctx: RuleContext): Omit<Finding, "ruleId" | "severity">[] | (Omit<Finding, "ruleId"> & { severity: Severity })[];
}
