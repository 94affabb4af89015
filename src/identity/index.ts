import { createAiaFetcher } from "./aia.js";
import { awsSigningKeys, verifyAwsIdentity } from "./aws.js";
import { verifyAzureIdentity } from "./azure.js";
import { certificateFromPem } from "./certificate.js";
import type { VerifiedIdentity } from "./errors.js";
import { gcpKeyResolver, verifyGcpIdentity } from "./gcp.js";
import type { IdentityTrust } from "./trust.js";

export { awsIdentityDocument, signAwsIdentityDocument } from "./aws.js";
export { signAzureAttestedDocument } from "./azure.js";
export { signGcpIdentityToken } from "./gcp.js";
export { IdentityError, TrustUnavailableError, type ChainEntry, type VerifiedIdentity } from "./errors.js";
export { generateIdentityKeys, issueCertificate, loadOrCreateIdentityKeys, rsaKeyPem, type IdentityKeys } from "./keys.js";
export { bundledTrust, loadIdentityTrust, trustFromKeys, type IdentityTrust, type TrustOptions } from "./trust.js";

export interface IdentityVerifier {
  aws(body: { document: string; signature: string }): Promise<VerifiedIdentity>;
  azure(body: { signature: string; encoding: string }): Promise<VerifiedIdentity>;
  gcp(jsonWebToken: string): Promise<VerifiedIdentity>;
}

export interface VerifierOptions {
  /** The verification time (tests, `identity verify --at`); default the real time. */
  now?: () => Date;
  /** Minimum time between two fetches of the GCP key URL (default 30 s). */
  gcpFetchCooldownMs?: number;
}

/** Compiles the trust once (public keys, certificates, key set) so each verification is cheap. */
export function createIdentityVerifier(trust: IdentityTrust, opts: VerifierOptions = {}): IdentityVerifier {
  const now = opts.now ?? (() => new Date());
  const awsKeys = awsSigningKeys(trust.awsCertificates);
  const azureTrust = {
    roots: trust.azureRoots.map(certificateFromPem),
    intermediates: trust.azureIntermediates.map(certificateFromPem),
    fetchIssuers: trust.azureAia ? createAiaFetcher(trust.azureAia) : undefined,
  };
  const gcpKeys = gcpKeyResolver({ jwks: trust.gcpJwks, jwksUrl: trust.gcpJwksUrl, cooldownMs: opts.gcpFetchCooldownMs });
  return {
    aws: async (body) => verifyAwsIdentity(awsKeys, body),
    azure: (body) => verifyAzureIdentity(azureTrust, body, now()),
    gcp: (token) => verifyGcpIdentity(gcpKeys, token, now()),
  };
}
