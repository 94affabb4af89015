/**
 * cdktf constructs for Coder templates. Re-exports what a template program needs from cdktf and the
 * aws provider (deep imports: the provider's root module costs seconds and hundreds of MB), so a
 * program only imports from `provisioner/constructs`.
 */
export { App, TerraformStack, TerraformOutput, TerraformVariable, Fn } from "cdktf";
export { AwsProvider } from "@cdktf/provider-aws/lib/provider/index.js";
export * from "./coder.js";
export { MultiAgentInstance, type MultiAgentInstanceConfig } from "./multi-agent-instance.js";
export { AwsMultiAgentStack, type AwsMultiAgentStackConfig } from "./aws-multi-agent-stack.js";
