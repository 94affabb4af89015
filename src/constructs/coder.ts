import { TerraformDataSource, TerraformProvider, TerraformResource, Token, ref, type ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";

/**
 * Typed cdktf bindings for terraform-provider-coder (no prebuilt bindings exist). Each resource
 * keeps its Terraform name equal to its construct id, so an agent's name is its id.
 */

const GENERATOR = { providerName: "coder", providerVersionConstraint: ">= 2.5.0" };

export interface CoderProviderConfig {
  url?: string;
}

export class CoderProvider extends TerraformProvider {
  constructor(scope: Construct, id: string, private readonly config: CoderProviderConfig = {}) {
    super(scope, id, { terraformResourceType: "coder", terraformGeneratorMetadata: GENERATOR, terraformProviderSource: "coder/coder" });
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    return { url: this.config.url };
  }
}

interface Counted {
  /** Terraform count, e.g. `workspace.startCount`. */
  count?: number;
  dependsOn?: ITerraformDependable[];
}

abstract class CoderResource<C extends Counted> extends TerraformResource {
  constructor(scope: Construct, id: string, type: string, protected readonly config: C) {
    super(scope, id, { terraformResourceType: type, terraformGeneratorMetadata: GENERATOR, count: config.count, dependsOn: config.dependsOn });
    this.overrideLogicalId(id);
  }
  /** Reference to an attribute of the (first) instance: `type.name[0].attr` when counted. */
  protected attr(name: string): string {
    return Token.asString(ref(`${this.terraformResourceType}.${this.friendlyUniqueId}${this.config.count !== undefined ? "[0]" : ""}.${name}`));
  }
  get id(): string {
    return this.attr("id");
  }
}

export type AgentArch = "amd64" | "armv7" | "arm64";
export type AgentOs = "linux" | "darwin" | "windows";
export type AgentAuth = "token" | "aws-instance-identity" | "azure-instance-identity" | "google-instance-identity";

export interface CoderAgentConfig extends Counted {
  arch: AgentArch;
  os: AgentOs;
  auth?: AgentAuth;
  dir?: string;
  env?: Record<string, string>;
  startupScript?: string;
  connectionTimeout?: number;
  troubleshootingUrl?: string;
}

export class CoderAgent extends CoderResource<CoderAgentConfig> {
  constructor(scope: Construct, name: string, config: CoderAgentConfig) {
    super(scope, name, "coder_agent", config);
  }
  get token(): string {
    return this.attr("token");
  }
  get initScript(): string {
    return this.attr("init_script");
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    const c = this.config;
    return { arch: c.arch, os: c.os, auth: c.auth, dir: c.dir, env: c.env, startup_script: c.startupScript, connection_timeout: c.connectionTimeout, troubleshooting_url: c.troubleshootingUrl };
  }
}

export interface CoderAgentInstanceConfig extends Counted {
  agentId: string;
  instanceId: string;
}

export class CoderAgentInstance extends CoderResource<CoderAgentInstanceConfig> {
  constructor(scope: Construct, id: string, config: CoderAgentInstanceConfig) {
    super(scope, id, "coder_agent_instance", config);
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    return { agent_id: this.config.agentId, instance_id: this.config.instanceId };
  }
}

export interface CoderAppConfig extends Counted {
  agentId: string;
  slug: string;
  displayName?: string;
  url?: string;
  command?: string;
  icon?: string;
  openIn?: "slim-window" | "tab";
  share?: "owner" | "authenticated" | "public";
  subdomain?: boolean;
}

export class CoderApp extends CoderResource<CoderAppConfig> {
  constructor(scope: Construct, id: string, config: CoderAppConfig) {
    if (config.url && config.command) throw new Error(`coder_app ${id}: command conflicts with url`);
    if (!/^[a-z0-9](-?[a-z0-9])*$/.test(config.slug)) throw new Error(`coder_app ${id}: slug ${JSON.stringify(config.slug)} must match ^[a-z0-9](-?[a-z0-9])*$`);
    super(scope, id, "coder_app", config);
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    const c = this.config;
    return { agent_id: c.agentId, slug: c.slug, display_name: c.displayName, url: c.url, command: c.command, icon: c.icon, open_in: c.openIn, share: c.share, subdomain: c.subdomain };
  }
}

export interface CoderScriptConfig extends Counted {
  agentId: string;
  displayName: string;
  script: string;
  runOnStart?: boolean;
  runOnStop?: boolean;
  cron?: string;
  startBlocksLogin?: boolean;
  timeout?: number;
  icon?: string;
}

export class CoderScript extends CoderResource<CoderScriptConfig> {
  constructor(scope: Construct, id: string, config: CoderScriptConfig) {
    if (!config.runOnStart && !config.runOnStop && !config.cron) throw new Error(`coder_script ${id}: set runOnStart, runOnStop or cron`);
    if (config.startBlocksLogin && !config.runOnStart) throw new Error(`coder_script ${id}: startBlocksLogin needs runOnStart`);
    if (config.timeout !== undefined && config.timeout < 1) throw new Error(`coder_script ${id}: timeout must be at least 1`);
    super(scope, id, "coder_script", config);
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    const c = this.config;
    return { agent_id: c.agentId, display_name: c.displayName, script: c.script, run_on_start: c.runOnStart, run_on_stop: c.runOnStop, cron: c.cron, start_blocks_login: c.startBlocksLogin, timeout: c.timeout, icon: c.icon };
  }
}

abstract class CoderDataSource extends TerraformDataSource {
  constructor(scope: Construct, id: string, type: string) {
    super(scope, id, { terraformResourceType: type, terraformGeneratorMetadata: GENERATOR });
    this.overrideLogicalId(id);
  }
  protected ref(name: string): string {
    return Token.asString(ref(`data.${this.terraformResourceType}.${this.friendlyUniqueId}.${name}`));
  }
  protected override synthesizeAttributes(): Record<string, unknown> {
    return {};
  }
}

export class DataCoderWorkspace extends CoderDataSource {
  constructor(scope: Construct, id = "me") {
    super(scope, id, "coder_workspace");
  }
  get startCount(): number {
    return this.getNumberAttribute("start_count");
  }
  get transition(): string {
    return this.ref("transition");
  }
  get name(): string {
    return this.ref("name");
  }
  get isPrebuild(): string {
    return this.ref("is_prebuild");
  }
}

export class DataCoderWorkspaceOwner extends CoderDataSource {
  constructor(scope: Construct, id = "me") {
    super(scope, id, "coder_workspace_owner");
  }
  get name(): string {
    return this.ref("name");
  }
}
