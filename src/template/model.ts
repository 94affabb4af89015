import type { Expr } from "./hcl/index.js";

/**
 * The template model: what provisioner knows about a Coder template after reading its files.
 * Shared by validate (static checks), synth tests and e2e (which renders user data for real).
 */

/** An attribute value: HCL source (with its parsed expression) or a Terraform JSON value. */
export type AttrValue =
  | { syntax: "hcl"; source: string; expr: Expr; file: string; line: number }
  | { syntax: "json"; value: unknown; file: string; line: number };

export interface ResourceModel {
  mode: "managed" | "data";
  type: string;
  name: string;
  /** Path relative to the template directory. */
  file: string;
  line: number;
  attributes: Record<string, AttrValue>;
  /** Nested blocks by type (e.g. `lifecycle`, `metadata` is an attribute, `filter` a block). */
  blocks: Record<string, Record<string, AttrValue>[]>;
  count?: AttrValue;
  forEach?: AttrValue;
}

export type Cloud = "aws" | "gcp" | "azure";

export type AgentAuth = "token" | "aws-instance-identity" | "azure-instance-identity" | "google-instance-identity";

export const IDENTITY_AUTH_CLOUD: Record<string, Cloud> = {
  "aws-instance-identity": "aws",
  "google-instance-identity": "gcp",
  "azure-instance-identity": "azure",
};

export interface AgentModel {
  name: string;
  resource: ResourceModel;
  /** Literal value of `auth` (default "token"); undefined when it is not a literal. */
  auth: string | undefined;
  arch: string | undefined;
  os: string | undefined;
  /** The instance the agent runs on, if tied. */
  instance?: InstanceModel;
  /** How the tie was found. */
  tie: "coder_agent_instance" | "user_data_reference" | "only_instance" | "none";
}

export interface InstanceModel {
  resource: ResourceModel;
  cloud: Cloud;
  /** Name of the attribute holding the user data (e.g. user_data, metadata.user-data). */
  userDataAttribute?: string;
  userData?: AttrValue;
  /** True when the attribute holds base64 (aws user_data_base64, azure custom_data). */
  userDataIsBase64: boolean;
  /** True when the attribute is always run as a script (GCP startup scripts), shebang or not. */
  userDataIsScript: boolean;
  agents: AgentModel[];
}

export interface TemplateModel {
  /** Absolute directory of the root module. */
  dir: string;
  files: string[];
  resources: ResourceModel[];
  data: ResourceModel[];
  locals: Record<string, AttrValue>;
  variables: Record<string, { default?: AttrValue; file: string; line: number }>;
  agents: AgentModel[];
  instances: InstanceModel[];
}

/** VM resource types that carry user data and an instance identity. */
export const INSTANCE_TYPES: Record<string, { cloud: Cloud; userData: { attr: string; key?: string; base64: boolean; script?: boolean }[] }> = {
  aws_instance: {
    cloud: "aws",
    userData: [
      { attr: "user_data", base64: false },
      { attr: "user_data_base64", base64: true },
    ],
  },
  google_compute_instance: {
    cloud: "gcp",
    userData: [
      { attr: "metadata_startup_script", base64: false, script: true },
      { attr: "metadata", key: "user-data", base64: false },
      { attr: "metadata", key: "startup-script", base64: false, script: true },
    ],
  },
  azurerm_linux_virtual_machine: {
    cloud: "azure",
    userData: [
      { attr: "custom_data", base64: true },
      { attr: "user_data", base64: true },
    ],
  },
  azurerm_windows_virtual_machine: {
    cloud: "azure",
    userData: [
      { attr: "custom_data", base64: true },
      { attr: "user_data", base64: true },
    ],
  },
};

/** A template that cannot be read: which file, where, and why. */
export class TemplateLoadError extends Error {
  /** The message without the location. */
  readonly reason: string;

  constructor(
    readonly code: string,
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line ? `:${line}${column ? `:${column}` : ""}` : ""}: ${message}`);
    this.reason = message;
    this.name = "TemplateLoadError";
  }
}
