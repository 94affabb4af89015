import { join } from "node:path";
import forge from "node-forge";
import { beforeAll, describe, expect, it } from "vitest";
import {
  awsIdentityDocument,
  createIdentityVerifier,
  IdentityError,
  issueCertificate,
  loadOrCreateIdentityKeys,
  rsaKeyPem,
  signAwsIdentityDocument,
  signAzureAttestedDocument,
  signGcpIdentityToken,
  trustFromKeys,
  type IdentityKeys,
  type IdentityVerifier,
} from "../../src/identity/index.js";
import { tempDir } from "../support/tmp.js";

let keys: IdentityKeys;
let other: IdentityKeys;
let verifier: IdentityVerifier;

beforeAll(async () => {
  const dir = tempDir("identity-");
  keys = await loadOrCreateIdentityKeys(join(dir, "a"));
  other = await loadOrCreateIdentityKeys(join(dir, "b"));
  verifier = createIdentityVerifier(trustFromKeys(keys));
});

async function rejects(p: Promise<unknown>, detail: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IdentityError);
  expect((err as IdentityError).detail).toMatch(detail);
}

describe("keys", () => {
  it("are created once and reused, also by a second concurrent caller", async () => {
    const dir = join(tempDir("identity-"), "k");
    const [a, b] = await Promise.all([loadOrCreateIdentityKeys(dir), loadOrCreateIdentityKeys(dir)]);
    const c = await loadOrCreateIdentityKeys(dir);
    expect(c.aws.certificatePem).toBe(a.aws.certificatePem);
    expect(c.gcp.kid).toBe(a.gcp.kid);
    expect([a.gcp.kid, b.gcp.kid]).toContain(c.gcp.kid);
  });
});

describe("AWS", () => {
  it("verifies a signed document and reads instanceId", async () => {
    const doc = awsIdentityDocument({ instanceId: "i-0abc" });
    expect(await verifier.aws({ document: doc, signature: signAwsIdentityDocument(keys, doc) })).toMatchObject({ instanceId: "i-0abc" });
  });
  it("rejects a signature by another key", async () => {
    const doc = awsIdentityDocument({ instanceId: "i-0abc" });
    await rejects(verifier.aws({ document: doc, signature: signAwsIdentityDocument(other, doc) }), /does not verify/);
  });
  it("rejects a tampered document", async () => {
    const doc = awsIdentityDocument({ instanceId: "i-0abc" });
    const sig = signAwsIdentityDocument(keys, doc);
    await rejects(verifier.aws({ document: doc.replace("i-0abc", "i-0evil"), signature: sig }), /does not verify/);
    await rejects(verifier.aws({ document: doc + " ", signature: sig }), /does not verify/);
  });
  it("rejects a signed document without instanceId", async () => {
    const doc = JSON.stringify({ region: "us-east-1" });
    await rejects(verifier.aws({ document: doc, signature: signAwsIdentityDocument(keys, doc) }), /no instanceId/);
  });
});

/** Replaces the encapsulated content of a PKCS#7 message, keeping certificates and signer info. */
function replaceContent(signatureB64: string, content: string): string {
  const asn = forge.asn1.fromDer(Buffer.from(signatureB64, "base64").toString("binary"));
  const signedData = (asn.value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[];
  const contentInfo = (signedData[0].value as forge.asn1.Asn1[])[2];
  const explicit = (contentInfo.value as forge.asn1.Asn1[])[1];
  (explicit.value as forge.asn1.Asn1[])[0] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, content);
  return Buffer.from(forge.asn1.toDer(asn).getBytes(), "binary").toString("base64");
}

function withSigner(cn: string, issuer: { cn: string; keyPem: string }): IdentityKeys {
  const key = rsaKeyPem();
  return { ...keys, azure: { ...keys.azure, signerPrivateKeyPem: key, signerCertificatePem: issueCertificate({ cn, keyPem: key, issuer, ca: false, years: 1 }) } };
}

describe("Azure", () => {
  const root = () => ({ cn: "provisioner fake Azure root", keyPem: keys.azure.rootPrivateKeyPem });
  it("verifies the signature, the chain and the signer name", async () => {
    expect(await verifier.azure(signAzureAttestedDocument(keys, { vmId: "vm-1" }))).toMatchObject({ instanceId: "vm-1", signer: "metadata.azure.com" });
    expect(await verifier.azure(signAzureAttestedDocument(withSigner("eastus.metadata.azure.com", root()), { vmId: "vm-2" }))).toMatchObject({ instanceId: "vm-2", signer: "eastus.metadata.azure.com" });
  });
  it("rejects content replaced in a message whose chain is valid", async () => {
    const textbook = signAzureAttestedDocument(keys, { vmId: "vm-1" }, { signedAttributes: true });
    expect(await verifier.azure(textbook)).toMatchObject({ instanceId: "vm-1" });
    const forged = replaceContent(textbook.signature, JSON.stringify({ vmId: "vm-victim" }));
    await rejects(verifier.azure({ encoding: "pkcs7", signature: forged }), /content does not match the signed message digest/);
    // Azure's own shape (no signed attributes): the signature covers the content directly.
    const azureShaped = replaceContent(signAzureAttestedDocument(keys, { vmId: "vm-1" }).signature, JSON.stringify({ vmId: "vm-victim" }));
    await rejects(verifier.azure({ encoding: "pkcs7", signature: azureShaped }), /^PKCS#7 signature does not verify$/);
  });
  it("rejects a validly chained signer whose name is not an Azure metadata service", async () => {
    for (const cn of ["evil.example.com", "metadata.azure.com.evil.com", "xmetadata.azure.com"]) {
      await rejects(verifier.azure(signAzureAttestedDocument(withSigner(cn, root()), { vmId: "vm-1" })), /is not an Azure metadata service/);
    }
  });
  it("rejects a signer that does not chain to a configured root", async () => {
    await rejects(verifier.azure(signAzureAttestedDocument(other, { vmId: "vm-1" })), /does not chain to a trusted Azure root/);
  });
  it("rejects garbage and other encodings", async () => {
    await rejects(verifier.azure({ encoding: "pkcs7", signature: Buffer.from("nope").toString("base64") }), /^malformed PKCS#7 message: /);
    await rejects(verifier.azure({ encoding: "jwt", signature: "x" }), /unsupported encoding/);
  });
});

describe("GCP", () => {
  it("verifies the token and reads the instance id", async () => {
    expect(await verifier.gcp(await signGcpIdentityToken(keys, { instanceId: "4242", audience: "coder" }))).toMatchObject({ instanceId: "4242" });
  });
  it("rejects an expired token", async () => {
    const token = await signGcpIdentityToken(keys, { instanceId: "4242", audience: "coder", now: new Date(Date.now() - 7200_000), ttlSeconds: 3600 });
    await rejects(verifier.gcp(token), /token expired/);
  });
  it("rejects a token signed by another key", async () => {
    await rejects(verifier.gcp(await signGcpIdentityToken(other, { instanceId: "4242", audience: "coder" })), /no configured GCP key has the token's key ID/);
  });
  it("rejects a token without an instance id", async () => {
    const token = await signGcpIdentityToken(keys, { instanceId: "", audience: "coder" });
    await rejects(verifier.gcp(token), /no google\.compute_engine\.instance_id/);
  });
});
