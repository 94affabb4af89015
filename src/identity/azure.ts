import { createHash, verify, X509Certificate } from "node:crypto";
import forge from "node-forge";
import { IdentityError } from "./errors.js";
import type { IdentityKeys } from "./keys.js";

/** Azure's attested-document signer must be metadata.azure.com (or a sovereign cloud's). */
const AZURE_SIGNER_CN = /^(.*\.)?metadata\.(azure\.(com|us|cn)|microsoftazure\.de)$/;

/** PKCS#7 SignedData over the JSON content, signed by the Azure signer key (as IMDS serves it). */
export function signAzureAttestedDocument(keys: IdentityKeys, content: { vmId: string; [k: string]: unknown }): { encoding: "pkcs7"; signature: string } {
  const body = {
    licenseType: "",
    nonce: String(Date.now()),
    plan: { name: "", product: "", publisher: "" },
    sku: "22_04-lts-gen2",
    subscriptionId: "00000000-0000-4000-8000-00000000cafe",
    timeStamp: { createdOn: new Date().toISOString(), expiresOn: new Date(Date.now() + 6 * 3600_000).toISOString() },
    ...content,
  };
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(JSON.stringify(body), "utf8");
  const cert = forge.pki.certificateFromPem(keys.azure.signerCertificatePem);
  p7.addCertificate(cert);
  p7.addSigner({
    key: forge.pki.privateKeyFromPem(keys.azure.signerPrivateKeyPem),
    certificate: cert,
    digestAlgorithm: forge.pki.oids.sha256,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
      { type: forge.pki.oids.messageDigest },
      { type: forge.pki.oids.signingTime, value: new Date() as unknown as string },
    ],
  });
  p7.sign();
  const der = forge.asn1.toDer(p7.toAsn1()).getBytes();
  return { encoding: "pkcs7", signature: Buffer.from(der, "binary").toString("base64") };
}

const DIGESTS: Record<string, string> = {
  [forge.pki.oids.sha256]: "sha256",
  [forge.pki.oids.sha1]: "sha1",
  [forge.pki.oids.sha384]: "sha384",
  [forge.pki.oids.sha512]: "sha512",
};

/** The encapsulated content: the captured [0] EXPLICIT holds an OCTET STRING (possibly in chunks). */
function signedContent(explicit: forge.asn1.Asn1 | undefined): Buffer {
  const octets = (explicit?.value as forge.asn1.Asn1[] | undefined)?.[0];
  if (!octets) return Buffer.alloc(0);
  const bytes = typeof octets.value === "string" ? octets.value : (octets.value as forge.asn1.Asn1[]).map((c) => c.value as string).join("");
  return Buffer.from(bytes, "binary");
}

function commonName(cert: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
}

function validNow(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

/**
 * Verifies an attested document: the PKCS#7 signature over the content (message digest and the
 * RSA signature over the signed attributes), the signer's chain up to a configured root, and the
 * signer's CN. Certificates come only from the message and the configuration; nothing is fetched.
 */
export function verifyAzureIdentity(roots: X509Certificate[], body: { signature: string; encoding: string }, now = new Date()): { vmId: string } {
  if (body.encoding.toLowerCase() !== "pkcs7") throw new IdentityError(`unsupported encoding ${JSON.stringify(body.encoding.slice(0, 20))}; expected pkcs7`);
  let msg: forge.pkcs7.Captured<forge.pkcs7.PkcsSignedData>;
  try {
    const der = Buffer.from(body.signature, "base64").toString("binary");
    msg = forge.pkcs7.messageFromAsn1(forge.asn1.fromDer(der)) as forge.pkcs7.Captured<forge.pkcs7.PkcsSignedData>;
  } catch (err) {
    throw new IdentityError(`signature is not a PKCS#7 message: ${(err as Error).message.split("\n")[0]}`);
  }
  const raw = (msg as unknown as { rawCapture: Record<string, unknown> }).rawCapture;
  const signerInfos = raw.signerInfos as unknown[] | undefined;
  if (!signerInfos || signerInfos.length !== 1) throw new IdentityError("PKCS#7 message must have exactly one signer");
  const content = signedContent(raw.content as forge.asn1.Asn1 | undefined);
  if (content.length === 0) throw new IdentityError("PKCS#7 message has no content");

  // The signer certificate: the included certificate matching the signer's serial number.
  const included = msg.certificates.map((c) => new X509Certificate(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes(), "binary")));
  const serial = Buffer.from(raw.serial as string, "binary").toString("hex").replace(/^0+/, "").toUpperCase();
  const signer = included.find((c) => c.serialNumber.replace(/^0+/, "").toUpperCase() === serial);
  if (!signer) throw new IdentityError("PKCS#7 message does not include the signer's certificate");

  // 1. The signature itself.
  const digestName = DIGESTS[forge.asn1.derToOid(raw.digestAlgorithm as string)];
  if (!digestName) throw new IdentityError("unsupported digest algorithm");
  const signature = Buffer.from(raw.signature as string, "binary");
  const attrs = raw.authenticatedAttributes as forge.asn1.Asn1[] | undefined;
  let signedBytes: Buffer;
  if (attrs && attrs.length > 0) {
    const digestAttr = attrs.find((a) => forge.asn1.derToOid((a.value as forge.asn1.Asn1[])[0].value as string) === forge.pki.oids.messageDigest);
    if (!digestAttr) throw new IdentityError("signed attributes lack the message digest");
    const digestValue = Buffer.from(((digestAttr.value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[])[0].value as string, "binary");
    if (!createHash(digestName).update(content).digest().equals(digestValue)) throw new IdentityError("content does not match the signed message digest");
    const set = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SET, true, attrs);
    signedBytes = Buffer.from(forge.asn1.toDer(set).getBytes(), "binary");
  } else {
    signedBytes = content;
  }
  if (!verify(digestName, signedBytes, signer.publicKey, signature)) throw new IdentityError("PKCS#7 signature does not verify");

  // 2. The chain, up to a configured root.
  let cert = signer;
  for (let depth = 0; ; depth++) {
    if (!validNow(cert, now)) throw new IdentityError(`certificate ${commonName(cert) ?? "?"} is expired or not yet valid`);
    const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (root) {
      if (!validNow(root, now)) throw new IdentityError("trusted root is expired");
      break;
    }
    const parent = included.find((c) => c !== cert && cert.checkIssued(c) && cert.verify(c.publicKey));
    if (!parent || depth > 5) throw new IdentityError("signer certificate does not chain to a trusted Azure root");
    cert = parent;
  }

  // 3. The signer's name.
  const cn = commonName(signer);
  if (!cn || !AZURE_SIGNER_CN.test(cn)) throw new IdentityError(`signer ${JSON.stringify(cn ?? "")} is not an Azure metadata service`);

  let doc: unknown;
  try {
    doc = JSON.parse(content.toString("utf8"));
  } catch {
    throw new IdentityError("signed content is not JSON");
  }
  const vmId = (doc as { vmId?: unknown })?.vmId;
  if (typeof vmId !== "string" || vmId === "") throw new IdentityError("signed content has no vmId");
  return { vmId };
}
