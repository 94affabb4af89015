import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami/index.js";
import { Ec2InstanceState } from "@cdktf/provider-aws/lib/ec2-instance-state/index.js";
import { Instance } from "@cdktf/provider-aws/lib/instance/index.js";
import { AssetType, Fn, Op, TerraformAsset, TerraformLocal, Token, ref } from "cdktf";
import { Construct } from "constructs";
import { fileURLToPath } from "node:url";
import { CoderAgent, CoderAgentInstance, type AgentArch, type DataCoderWorkspace } from "./coder.js";

const AGENT_NAME = /^[a-z0-9](-?[a-z0-9])*$/i;
const CLOUD_INIT_TEMPLATE = fileURLToPath(new URL("../../templates/aws-multi-agent/cloud-init.yaml.tftpl", import.meta.url));

export interface MultiAgentInstanceConfig {
  /** The workspace data source (`data.coder_workspace.me`). */
  workspace: DataCoderWorkspace;
  /** Agent names, one coder_agent each. */
  agents: string[];
  instanceType: string;
  arch: "amd64" | "arm64";
  os?: "linux";
  linuxUser?: string;
  /** Resource name of the aws_instance (and its state). Default "workspace". */
  instanceName?: string;
}

/**
 * One EC2 instance running several Coder agents that authenticate with the instance identity:
 * the same template `provisioner init aws-multi-agent` writes in HCL. Every agent is tied to the
 * instance with a coder_agent_instance, and the user data (the shared cloud-init template) starts
 * each agent with its own CODER_AGENT_NAME.
 */
export class MultiAgentInstance extends Construct {
  readonly agents: Record<string, CoderAgent> = {};
  readonly instance: Instance;

  constructor(scope: Construct, id: string, config: MultiAgentInstanceConfig) {
    super(scope, id);
    const seen = new Set<string>();
    for (const name of config.agents) {
      if (!AGENT_NAME.test(name)) throw new Error(`MultiAgentInstance: invalid agent name ${JSON.stringify(name)}`);
      if (seen.has(name.toLowerCase())) throw new Error(`MultiAgentInstance: duplicate agent name ${JSON.stringify(name)}`);
      seen.add(name.toLowerCase());
    }
    if (config.agents.length === 0) throw new Error("MultiAgentInstance: at least one agent is required");
    const instanceName = config.instanceName ?? "workspace";
    const ws = config.workspace;
    const linuxUser = new TerraformLocal(this, "linux_user", config.linuxUser ?? "coder");
    linuxUser.overrideLogicalId("linux_user");
    // try(): the map stays valid while the workspace is stopped (start_count = 0).
    const initScripts = new TerraformLocal(
      this,
      "agent_init_scripts",
      Object.fromEntries(config.agents.map((name) => [name, Fn.try([ref(`coder_agent.${name}[0].init_script`), ""])])),
    );
    initScripts.overrideLogicalId("agent_init_scripts");

    const ami = new DataAwsAmi(this, "ubuntu", {
      mostRecent: true,
      owners: ["099720109477"],
      filter: [
        { name: "name", values: [`ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${config.arch}-server-*`] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    });
    ami.overrideLogicalId("ubuntu");

    const cloudInit = new TerraformAsset(this, "cloud-init", { path: CLOUD_INIT_TEMPLATE, type: AssetType.FILE });
    this.instance = new Instance(this, instanceName, {
      ami: ami.id,
      instanceType: config.instanceType,
      userData: Fn.templatefile(`${ref("path.module")}/${cloudInit.path}`, { linux_user: linuxUser.asString, agents: initScripts.expression }),
      lifecycle: { ignoreChanges: ["ami"] },
    });
    this.instance.overrideLogicalId(instanceName);
    const state = new Ec2InstanceState(this, `${instanceName}-state`, {
      instanceId: this.instance.id,
      state: Token.asString(Fn.conditional(Op.eq(ws.transition, "start"), "running", "stopped")),
    });
    state.overrideLogicalId(instanceName);

    const arch: AgentArch = config.arch;
    for (const name of config.agents) {
      const agent = new CoderAgent(this, name, { count: ws.startCount, arch, os: config.os ?? "linux", auth: "aws-instance-identity" });
      this.agents[name] = agent;
      new CoderAgentInstance(this, `${name}-instance`, { count: ws.startCount, agentId: agent.id, instanceId: this.instance.id }).overrideLogicalId(name);
    }
  }
}
