import { randomBytes, randomUUID } from "node:crypto";
import { UsageError } from "../cli/errors.js";
import type { HclValue } from "../template/hcl/index.js";
import type { AgentModel, Cloud, InstanceModel, TemplateModel } from "../template/model.js";
import { evaluateAttr, templateScope, type RenderValues } from "../template/render.js";

export interface PlannedAgent {
  name: string;
  auth: string;
  arch: string;
  model: AgentModel;
}

export interface PlannedInstance {
  /** e.g. aws_instance.workspace or aws_instance.workspace[1] */
  address: string;
  index?: number;
  cloud: Cloud;
  instanceId: string;
  model: InstanceModel;
  agents: PlannedAgent[];
}

export interface Plan {
  instances: PlannedInstance[];
  /** Agents with count 0 (not started) and agents tied to no instance: reported, not run. */
  skipped: { agent: string; reason: string }[];
}

const SCALAR_WORKSPACE = { start_count: 1, transition: "start" };

export function instanceIdFor(cloud: Cloud): string {
  if (cloud === "aws") return `i-0${randomBytes(8).toString("hex")}`;
  if (cloud === "gcp") return String(BigInt("0x" + randomBytes(7).toString("hex")) + 1000000000000000n);
  return randomUUID();
}

function countOf(value: HclValue, what: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  throw new UsageError(`${what}: count evaluates to ${JSON.stringify(value)}, not a whole number`, "use a number or data.coder_workspace.me.start_count");
}

/** Plans a start transition: every VM (with its count) gets an instance ID; agents are tied as Terraform would. */
export function planStart(model: TemplateModel, values: Pick<RenderValues, "workspace" | "owner">): Plan {
  const scope = templateScope(model, {
    workspace: { ...values.workspace, ...SCALAR_WORKSPACE },
    owner: values.owner,
    agent: () => ({}),
    attribute: (r, attr) => `${r.type}.${r.name}.${attr}`,
  });
  const skipped: Plan["skipped"] = [];
  const agentCount = new Map<string, number>();
  for (const a of model.agents) {
    if (a.resource.forEach) throw new UsageError(`coder_agent.${a.name} uses for_each: several agents would share the name "${a.name}"`, "declare one coder_agent resource per agent");
    const n = a.resource.count ? countOf(evaluateAttr(a.resource.count, scope), `coder_agent.${a.name}`) : 1;
    if (n > 1) throw new UsageError(`coder_agent.${a.name} has count = ${n}: Coder rejects several agents with one name`, "declare one coder_agent resource per agent");
    agentCount.set(a.name, n);
    if (n === 0) skipped.push({ agent: a.name, reason: "count is 0 for a started workspace" });
    else if (!a.instance) skipped.push({ agent: a.name, reason: "tied to no instance" });
  }
  const instances: PlannedInstance[] = [];
  for (const inst of model.instances) {
    const r = inst.resource;
    if (r.forEach) throw new UsageError(`${r.type}.${r.name} uses for_each, which e2e does not plan yet`, "use count");
    const n = r.count ? countOf(evaluateAttr(r.count, scope), `${r.type}.${r.name}`) : 1;
    const agents = inst.agents
      .filter((a) => (agentCount.get(a.name) ?? 0) > 0)
      .map((a) => ({ name: a.name, auth: a.auth ?? "token", arch: a.arch ?? "amd64", model: a }));
    for (let i = 0; i < n; i++) {
      instances.push({
        address: r.count ? `${r.type}.${r.name}[${i}]` : `${r.type}.${r.name}`,
        index: r.count ? i : undefined,
        cloud: inst.cloud,
        instanceId: instanceIdFor(inst.cloud),
        model: inst,
        // Agents tie to the first instance of a counted VM (coder_agent_instance points at one).
        agents: i === 0 ? agents : [],
      });
    }
  }
  return { instances, skipped };
}
