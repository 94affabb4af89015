import { createPrivateKey, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import { chainEntry } from "./certificate.js";
import { IdentityError, type ChainEntry, type VerifiedIdentity } from "./errors.js";
import type { IdentityKeys } from "./keys.js";

/** A realistic EC2 instance identity document (JSON, as IMDS serves it). */
export function awsIdentityDocument(fields: { instanceId: string; region?: string; accountId?: string; instanceType?: string; architecture?: string }): string {
  const region = fields.region ?? "us-east-1";
  return JSON.stringify(
    {
      accountId: fields.accountId ?? "123456789012",
      architecture: fields.architecture ?? "x86_64",
      availabilityZone: `${region}a`,
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: "ami-0123456789abcdef0",
      instanceId: fields.instanceId,
      instanceType: fields.instanceType ?? "t3.medium",
      kernelId: null,
      pendingTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      privateIp: "10.0.0.10",
      ramdiskId: null,
      region,
      version: "2017-09-30",
    },
    null,
    2,
  );
}

/** Base64 RSA-SHA256 (PKCS#1 v1.5) signature over the exact document bytes. */
export function signAwsIdentityDocument(keys: IdentityKeys, document: string): string {
  return sign("sha256", Buffer.from(document, "utf8"), createPrivateKey(keys.aws.privateKeyPem)).toString("base64");
}

export interface AwsSigningKey {
  key: KeyObject;
  certificate: ChainEntry;
}

/** AWS signing certificates are used for their key only: AWS keeps signing with them after their validity ends. */
export function awsSigningKeys(certificates: string[]): AwsSigningKey[] {
  return certificates.map((pem) => {
    const cert = new X509Certificate(pem);
    return { key: cert.publicKey, certificate: chainEntry(cert, "trusted AWS certificate (key only)") };
  });
}

const lastSigner = new WeakMap<AwsSigningKey[], AwsSigningKey>();

export function verifyAwsIdentity(keys: AwsSigningKey[], body: { document: string; signature: string }): VerifiedIdentity {
  const signature = Buffer.from(body.signature, "base64");
  if (signature.length === 0) throw new IdentityError("signature is not base64");
  const data = Buffer.from(body.document, "utf8");
  // A fleet is signed by one or two of the trusted keys: the last key that verified is tried first,
  // so a hit costs one RSA verification however many certificates are trusted.
  const verifies = (k: AwsSigningKey) => verify("sha256", data, k.key, signature);
  const preferred = lastSigner.get(keys);
  const signer = preferred && verifies(preferred) ? preferred : keys.find((k) => k !== preferred && verifies(k));
  if (!signer) throw new IdentityError("signature does not verify against any trusted AWS certificate");
  lastSigner.set(keys, signer);
  let doc: unknown;
  try {
    doc = JSON.parse(body.document);
  } catch {
    throw new IdentityError("document is not JSON", { signer: signer.certificate.subject, chain: [signer.certificate] });
  }
  const instanceId = (doc as { instanceId?: unknown })?.instanceId;
  if (typeof instanceId !== "string" || instanceId === "") throw new IdentityError("document has no instanceId", { signer: signer.certificate.subject, chain: [signer.certificate] });
  return { instanceId, signer: signer.certificate.subject, chain: [signer.certificate] };
}
