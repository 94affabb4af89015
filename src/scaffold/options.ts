/** Options of `provisioner init aws-multi-agent`, already validated. */
export interface AwsMultiAgentOptions {
  /** Agent (coder_agent resource) names, in order; unique, each matching ^[a-z0-9](-?[a-z0-9])*$. */
  agents: string[];
  region: string;
  instanceType: string;
  arch: "amd64" | "arm64";
  os: "linux";
}

/** A generated file: path relative to the output directory, and its content. */
export interface GeneratedFile {
  path: string;
  content: string;
  /** Unix mode, default 0o644. */
  mode?: number;
}
