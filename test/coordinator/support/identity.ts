import { join } from "node:path";
import { awsIdentityDocument, loadOrCreateIdentityKeys, signAwsIdentityDocument, signAzureAttestedDocument, signGcpIdentityToken, type IdentityKeys } from "../../../src/identity/index.js";
import { tempDir } from "../../support/tmp.js";

export type Cloud = "aws" | "azure" | "gcp";

export const AUTH_TYPE = { aws: "aws-instance-identity", azure: "azure-instance-identity", gcp: "google-instance-identity" } as const;
export const ROUTE = {
  aws: "/api/v2/workspaceagents/aws-instance-identity",
  azure: "/api/v2/workspaceagents/azure-instance-identity",
  gcp: "/api/v2/workspaceagents/google-instance-identity",
} as const;

export async function testKeys(): Promise<{ keys: IdentityKeys; other: IdentityKeys }> {
  const dir = tempDir("coord-keys-");
  return { keys: await loadOrCreateIdentityKeys(join(dir, "trusted")), other: await loadOrCreateIdentityKeys(join(dir, "untrusted")) };
}

/** The JSON body an agent on `instanceId` sends (agent_name omitted when undefined). */
export async function identityBody(cloud: Cloud, keys: IdentityKeys, instanceId: string, agentName?: string): Promise<Record<string, unknown>> {
  const name = agentName === undefined ? {} : { agent_name: agentName };
  if (cloud === "aws") {
    const document = awsIdentityDocument({ instanceId });
    return { document, signature: signAwsIdentityDocument(keys, document), ...name };
  }
  if (cloud === "azure") return { ...signAzureAttestedDocument(keys, { vmId: instanceId }), ...name };
  return { json_web_token: await signGcpIdentityToken(keys, { instanceId, audience: "coder" }), ...name };
}
