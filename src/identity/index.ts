import { X509Certificate } from "node:crypto";
import { awsPublicKeys, verifyAwsIdentity } from "./aws.js";
import { verifyAzureIdentity } from "./azure.js";
import { gcpKeySet, verifyGcpIdentity } from "./gcp.js";
import type { IdentityTrust } from "./trust.js";

export { awsIdentityDocument, signAwsIdentityDocument } from "./aws.js";
export { signAzureAttestedDocument } from "./azure.js";
export { signGcpIdentityToken } from "./gcp.js";
export { IdentityError } from "./errors.js";
export { issueCertificate, loadOrCreateIdentityKeys, rsaKeyPem, type IdentityKeys } from "./keys.js";
export { loadIdentityTrust, trustFromKeys, type IdentityTrust } from "./trust.js";

export interface IdentityVerifier {
  aws(body: { document: string; signature: string }): Promise<{ instanceId: string }>;
  azure(body: { signature: string; encoding: string }): Promise<{ vmId: string }>;
  gcp(jsonWebToken: string): Promise<{ instanceId: string }>;
}

/** Compiles the trust once (public keys, certificates, key set) so each verification is cheap. */
export function createIdentityVerifier(trust: IdentityTrust, opts: { now?: () => Date } = {}): IdentityVerifier {
  const now = opts.now ?? (() => new Date());
  const awsKeys = awsPublicKeys(trust.awsCertificates);
  const azureRoots = trust.azureRoots.map((pem) => new X509Certificate(pem));
  const keySet = gcpKeySet(trust.gcpJwks);
  return {
    aws: async (body) => verifyAwsIdentity(awsKeys, body),
    azure: async (body) => verifyAzureIdentity(azureRoots, body, now()),
    gcp: (token) => verifyGcpIdentity(keySet, token, now()),
  };
}
