import { AwsProvider } from "@cdktf/provider-aws/lib/provider/index.js";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { CoderProvider, DataCoderWorkspace, DataCoderWorkspaceOwner } from "./coder.js";
import { MultiAgentInstance } from "./multi-agent-instance.js";

export interface AwsMultiAgentStackConfig {
  agents: string[];
  region: string;
  instanceType: string;
  arch: "amd64" | "arm64";
  os?: "linux";
}

/** The whole aws-multi-agent template as one stack: providers, workspace data sources, the instance and its agents. */
export class AwsMultiAgentStack extends TerraformStack {
  readonly template: MultiAgentInstance;

  constructor(scope: Construct, id: string, config: AwsMultiAgentStackConfig) {
    super(scope, id);
    new CoderProvider(this, "coder");
    new AwsProvider(this, "aws", { region: config.region });
    const workspace = new DataCoderWorkspace(this, "me");
    new DataCoderWorkspaceOwner(this, "me-owner").overrideLogicalId("me");
    this.template = new MultiAgentInstance(this, "template", { workspace, agents: config.agents, instanceType: config.instanceType, arch: config.arch, os: config.os });
  }
}
