import type { AwsMultiAgentOptions, GeneratedFile } from "./options.js";

/**
 * Renders the `init aws-multi-agent --cdktf` project: a small TypeScript cdktf project that builds
 * the same template as the HCL scaffold with the constructs in src/constructs.
 * (Owned by the cdktf helper; this placeholder throws until implemented.)
 */
export async function renderCdktfProject(_options: AwsMultiAgentOptions): Promise<GeneratedFile[]> {
  throw new Error("renderCdktfProject is not implemented yet");
}
