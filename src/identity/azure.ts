import { createHash, createPrivateKey, sign, verify, type X509Certificate } from "node:crypto";
import type { FetchedIssuer } from "./aia.js";
import { certificateFromPem, chainEntry, commonName, displayName, notACa, parseCertificate, type Certificate } from "./certificate.js";
import { children, content, DerError, encoded, expect, oid, readDerExact, smallInteger, TAG, writeDer, writeOid, type Der } from "./der.js";
import { IdentityError, type ChainEntry, type VerifiedIdentity } from "./errors.js";
import type { IdentityKeys } from "./keys.js";

/** Azure's attested-document signer must be metadata.azure.com (or a sovereign cloud's). */
const AZURE_SIGNER_CN = /^(.*\.)?metadata\.(azure\.(com|us|cn)|microsoftazure\.de)$/;

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  data: "1.2.840.113549.1.7.1",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  sha256: "2.16.840.1.101.3.4.2.1",
};

/**
 * Digest algorithms by OID. Real IMDS documents name the digest with the signature algorithm's OID
 * (sha256WithRSAEncryption), which Go's pkcs7 also accepts; SHA-1 is refused.
 */
const DIGESTS: Record<string, string> = {
  [OID.sha256]: "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  [OID.sha256WithRSA]: "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const SIGNATURE_ALGORITHMS = new Set([OID.rsaEncryption, OID.sha256WithRSA, "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"]);

/** Caps checked before anything is parsed: IMDS sends one certificate (at most a few) in ~4 KB. */
export const MAX_SIGNATURE_BASE64 = 64 * 1024;
export const MAX_CERTIFICATES = 8;
const MAX_CHAIN_LENGTH = 6;

/**
 * Signs like Azure's IMDS: PKCS#7 SignedData over the JSON, only the signer certificate inside, the
 * digest named by the sha256WithRSAEncryption OID and no signed attributes. `signedAttributes`
 * makes the textbook form instead (contentType and messageDigest attributes, sha256 OID).
 */
export function signAzureAttestedDocument(
  keys: IdentityKeys,
  content: { vmId: string; [k: string]: unknown },
  opts: { signedAttributes?: boolean; extraCertificates?: string[] } = {},
): { encoding: "pkcs7"; signature: string } {
  const body = {
    licenseType: "",
    nonce: String(Date.now()),
    plan: { name: "", product: "", publisher: "" },
    sku: "22_04-lts-gen2",
    subscriptionId: "00000000-0000-4000-8000-00000000cafe",
    timeStamp: { createdOn: new Date().toISOString(), expiresOn: new Date(Date.now() + 6 * 3600_000).toISOString() },
    ...content,
  };
  const der = buildSignedData({
    content: Buffer.from(JSON.stringify(body), "utf8"),
    signerCertificatePem: keys.azure.signerCertificatePem,
    signerPrivateKeyPem: keys.azure.signerPrivateKeyPem,
    extraCertificatesPem: opts.extraCertificates ?? [],
    signedAttributes: opts.signedAttributes ?? false,
  });
  return { encoding: "pkcs7", signature: der.toString("base64") };
}

const NULL = writeDer(TAG.NULL);
const algorithm = (id: string) => writeDer(TAG.SEQUENCE, writeOid(id), NULL);

export function buildSignedData(opts: {
  content: Buffer;
  signerCertificatePem: string;
  signerPrivateKeyPem: string;
  extraCertificatesPem: string[];
  signedAttributes: boolean;
}): Buffer {
  const signer = certificateFromPem(opts.signerCertificatePem);
  const digestAlgorithm = algorithm(opts.signedAttributes ? OID.sha256 : OID.sha256WithRSA);
  let attributes: Buffer[] = [];
  let signedBytes = opts.content;
  if (opts.signedAttributes) {
    const digest = createHash("sha256").update(opts.content).digest();
    attributes = [
      writeDer(TAG.SEQUENCE, writeOid(OID.contentType), writeDer(TAG.SET, writeOid(OID.data))),
      writeDer(TAG.SEQUENCE, writeOid(OID.messageDigest), writeDer(TAG.SET, writeDer(TAG.OCTET_STRING, digest))),
    ].sort(Buffer.compare);
    signedBytes = writeDer(TAG.SET, ...attributes);
  }
  const signature = sign("sha256", signedBytes, createPrivateKey(opts.signerPrivateKeyPem));
  const signerInfo = writeDer(
    TAG.SEQUENCE,
    writeDer(TAG.INTEGER, Buffer.from([1])),
    writeDer(TAG.SEQUENCE, signer.issuerDer, writeDer(TAG.INTEGER, signer.serial)),
    digestAlgorithm,
    ...(opts.signedAttributes ? [writeDer(TAG.context(0), ...attributes)] : []),
    algorithm(OID.rsaEncryption),
    writeDer(TAG.OCTET_STRING, signature),
  );
  const certificates = [signer.der, ...opts.extraCertificatesPem.map((p) => certificateFromPem(p).der)];
  const signedData = writeDer(
    TAG.SEQUENCE,
    writeDer(TAG.INTEGER, Buffer.from([1])),
    writeDer(TAG.SET, digestAlgorithm),
    writeDer(TAG.SEQUENCE, writeOid(OID.data), writeDer(TAG.context(0), writeDer(TAG.OCTET_STRING, opts.content))),
    writeDer(TAG.context(0), ...certificates),
    writeDer(TAG.SET, signerInfo),
  );
  return writeDer(TAG.SEQUENCE, writeOid(OID.signedData), writeDer(TAG.context(0), signedData));
}

/** An AlgorithmIdentifier whose parameters are absent or NULL. */
function algorithmId(el: Der | undefined, what: string): string {
  const parts = children(expect(el, TAG.SEQUENCE, what), 2);
  if (parts[1] && !(parts[1].tag === TAG.NULL && parts[1].end === parts[1].contentStart)) throw new DerError(`${what}: unexpected parameters`);
  return oid(parts[0]);
}

interface SignedMessage {
  content: Buffer;
  certificates: Certificate[];
  signer: Certificate;
  digest: string;
  /** What the signature covers: the content, or the DER SET of signed attributes. */
  signedBytes: Buffer;
  signature: Buffer;
}

/** Walks the PKCS#7 structure strictly; every field the signature does not cover is checked instead. */
function parseSignedMessage(der: Buffer): SignedMessage {
  const info = children(expect(readDerExact(der), TAG.SEQUENCE, "ContentInfo"), 2);
  if (oid(info[0]) !== OID.signedData) throw new IdentityError("PKCS#7 message is not SignedData");
  const explicit = children(expect(info[1], TAG.context(0), "ContentInfo content"), 1);
  const sd = children(expect(explicit[0], TAG.SEQUENCE, "SignedData"), 6);
  if (smallInteger(sd[0]) !== 1) throw new IdentityError("unsupported SignedData version");
  const digestAlgorithms = children(expect(sd[1], TAG.SET, "digestAlgorithms"), 4);
  const encap = children(expect(sd[2], TAG.SEQUENCE, "encapContentInfo"), 2);
  if (oid(encap[0]) !== OID.data) throw new IdentityError("PKCS#7 content is not data");
  if (!encap[1]) throw new IdentityError("PKCS#7 message has no content");
  const octets = children(expect(encap[1], TAG.context(0), "content"), 1);
  if (octets.length !== 1) throw new DerError("content: expected one OCTET STRING");
  const signedContent = content(expect(octets[0], TAG.OCTET_STRING, "content"));
  if (signedContent.length === 0) throw new IdentityError("PKCS#7 message has no content");

  let k = 3;
  let certificateElements: Der[] = [];
  if (sd[k]?.tag === TAG.context(0)) certificateElements = children(sd[k++], MAX_CERTIFICATES);
  if (sd[k]?.tag === TAG.context(1)) k++; // CRLs: not used
  const signerInfos = children(expect(sd[k], TAG.SET, "signerInfos"), 2);
  if (k + 1 !== sd.length) throw new DerError("SignedData: unexpected elements");
  if (signerInfos.length !== 1) throw new IdentityError("PKCS#7 message must have exactly one signer");
  const certificates = certificateElements.map((c) => parseCertificate(Buffer.from(encoded(c))));

  const si = children(expect(signerInfos[0], TAG.SEQUENCE, "SignerInfo"), 7);
  if (smallInteger(si[0]) !== 1) throw new IdentityError("unsupported SignerInfo version (the signer must be named by issuer and serial number)");
  const sid = children(expect(si[1], TAG.SEQUENCE, "issuerAndSerialNumber"), 2);
  const issuer = encoded(expect(sid[0], TAG.SEQUENCE, "issuer"));
  const serial = content(expect(sid[1], TAG.INTEGER, "serial number"));
  const digestOid = algorithmId(si[2], "digestAlgorithm");
  const digest = DIGESTS[digestOid];
  if (!digest) throw new IdentityError(`unsupported digest algorithm ${digestOid}`);
  if (!digestAlgorithms.some((a) => encoded(a).equals(encoded(si[2])))) throw new IdentityError("the signer's digest algorithm is not among the message's digest algorithms");
  let j = 3;
  let signedBytes = signedContent;
  if (si[j]?.tag === TAG.context(0)) {
    const attributes = si[j++];
    signedBytes = signedAttributesBytes(attributes, digest, signedContent);
  }
  const signatureAlgorithm = algorithmId(si[j++], "signatureAlgorithm");
  if (!SIGNATURE_ALGORITHMS.has(signatureAlgorithm)) throw new IdentityError(`unsupported signature algorithm ${signatureAlgorithm}`);
  const signature = content(expect(si[j++], TAG.OCTET_STRING, "signature"));
  if (si[j]?.tag === TAG.context(1)) j++; // unsigned attributes: not covered, not used
  if (j !== si.length) throw new DerError("SignerInfo: unexpected elements");

  const signer = certificates.find((c) => c.serial.equals(serial) && c.issuerDer.equals(issuer));
  if (!signer) throw new IdentityError("PKCS#7 message does not include the signer's certificate");
  return { content: signedContent, certificates, signer, digest, signedBytes, signature };
}

/** Checks the signed attributes (content type, message digest) and returns the DER SET the signature covers. */
function signedAttributesBytes(attributes: Der, digest: string, signedContent: Buffer): Buffer {
  let digestValue: Buffer | undefined;
  let contentType: string | undefined;
  for (const attr of children(attributes, 16)) {
    const [type, values] = children(expect(attr, TAG.SEQUENCE, "attribute"), 2);
    const id = oid(type);
    const vals = children(expect(values, TAG.SET, "attribute values"), 1);
    if (id === OID.messageDigest) {
      if (digestValue) throw new IdentityError("signed attributes hold two message digests");
      digestValue = content(expect(vals[0], TAG.OCTET_STRING, "message digest"));
    } else if (id === OID.contentType) contentType = oid(vals[0]);
  }
  if (!digestValue) throw new IdentityError("signed attributes lack the message digest");
  if (contentType !== OID.data) throw new IdentityError("signed attributes lack the data content type");
  if (!createHash(digest).update(signedContent).digest().equals(digestValue)) throw new IdentityError("content does not match the signed message digest");
  // The signature covers the attributes as a DER SET: the same content under the SET tag.
  return writeDer(TAG.SET, content(attributes));
}

type CertificateSource = "message" | "trusted intermediate" | "trusted root" | "fetched";

interface ChainNode {
  cert: Certificate;
  source: CertificateSource;
  url?: string;
}

export interface AzureTrust {
  roots: Certificate[];
  intermediates: Certificate[];
  /** Fetches the leaf's issuer from its AIA URL (allow-listed); absent when fetching is off. */
  fetchIssuers?: (leaf: X509Certificate) => Promise<{ issuers: FetchedIssuer[]; refused: string[] }>;
}

const entry = (node: ChainNode): ChainEntry => chainEntry(node.cert.x509, node.url ? `fetched from ${node.url}` : node.source);

function validityProblem(cert: Certificate, now: Date, role: string): string | undefined {
  const from = new Date(cert.x509.validFrom);
  const to = new Date(cert.x509.validTo);
  if (now < from) return `${role} ${displayName(cert.x509.subject)} is not valid before ${from.toISOString()} (verification time ${now.toISOString()})`;
  if (now > to) return `${role} ${displayName(cert.x509.subject)} expired at ${to.toISOString()} (verification time ${now.toISOString()})`;
  return undefined;
}

/**
 * Builds a path from the signer to a trusted root the way a browser does: each issuer matched by
 * name and signature, a CA (basicConstraints CA:true, keyCertSign when keyUsage is present, within
 * its pathLen) and valid at `now`. Returns the path, or the reasons the candidates were refused.
 */
function buildChain(leaf: ChainNode, pool: ChainNode[], roots: ChainNode[], now: Date): { chain?: ChainNode[]; problems: string[] } {
  const problems: string[] = [];
  const issues = (issuer: ChainNode, child: ChainNode) => issuer.cert.subjectDer.equals(child.cert.issuerDer) && child.cert.x509.verify(issuer.cert.x509.publicKey);
  const acceptable = (issuer: ChainNode, path: ChainNode[], role: string): boolean => {
    const name = displayName(issuer.cert.x509.subject);
    const ca = notACa(issuer.cert);
    const pathLen = issuer.cert.basicConstraints?.pathLen;
    const problem =
      (ca && `${role} ${name} cannot issue certificates: it ${ca}`) ||
      (pathLen !== undefined && path.length - 1 > pathLen && `${role} ${name} allows ${pathLen} intermediate(s) below it, the chain has ${path.length - 1}`) ||
      validityProblem(issuer.cert, now, role);
    if (problem) problems.push(problem);
    return !problem;
  };
  const walk = (path: ChainNode[]): ChainNode[] | undefined => {
    const child = path[path.length - 1];
    for (const root of roots) if (issues(root, child) && acceptable(root, path, "trusted root")) return [...path, root];
    if (path.length >= MAX_CHAIN_LENGTH) return undefined;
    for (const c of pool) {
      if (path.includes(c) || !issues(c, child) || !acceptable(c, path, "intermediate")) continue;
      const found = walk([...path, c]);
      if (found) return found;
    }
    return undefined;
  };
  return { chain: walk([leaf]), problems };
}

/**
 * Verifies an attested document: the PKCS#7 signature over the content, the signer's chain up to a
 * configured root (intermediates from the message, the trusted set, or, when enabled, the signer's
 * allow-listed AIA URL), validity at `now`, and the signer's CN. Any malformed input is an
 * IdentityError, never another exception.
 */
export async function verifyAzureIdentity(trust: AzureTrust, body: { signature: string; encoding: string }, now: Date): Promise<VerifiedIdentity> {
  try {
    return await verifyAttestedDocument(trust, body, now);
  } catch (err) {
    if (err instanceof IdentityError) throw err;
    throw new IdentityError(`malformed attested document: ${(err as Error).message.split("\n")[0]}`);
  }
}

async function verifyAttestedDocument(trust: AzureTrust, body: { signature: string; encoding: string }, now: Date): Promise<VerifiedIdentity> {
  if (body.encoding.toLowerCase() !== "pkcs7") throw new IdentityError(`unsupported encoding ${JSON.stringify(body.encoding.slice(0, 20))}; expected pkcs7`);
  if (body.signature.length > MAX_SIGNATURE_BASE64) throw new IdentityError(`signature is ${body.signature.length} characters; at most ${MAX_SIGNATURE_BASE64} are accepted`);
  let msg: SignedMessage;
  try {
    msg = parseSignedMessage(Buffer.from(body.signature, "base64"));
  } catch (err) {
    if (err instanceof IdentityError) throw err;
    throw new IdentityError(`malformed PKCS#7 message: ${(err as Error).message.split("\n")[0]}`);
  }
  const signer: ChainNode = { cert: msg.signer, source: "message" };
  const signerName = displayName(msg.signer.x509.subject);

  // 1. The signature itself.
  let valid: boolean;
  try {
    valid = verify(msg.digest, msg.signedBytes, msg.signer.x509.publicKey, msg.signature);
  } catch (err) {
    throw new IdentityError(`PKCS#7 signature cannot be checked: ${(err as Error).message}`, { signer: signerName });
  }
  if (!valid) throw new IdentityError("PKCS#7 signature does not verify", { signer: signerName });

  // 2. The signer's validity, then its chain up to a configured root.
  const expired = validityProblem(msg.signer, now, "signer certificate");
  if (expired) throw new IdentityError(expired, { signer: signerName, chain: [entry(signer)] });
  const roots = trust.roots.map((cert): ChainNode => ({ cert, source: "trusted root" }));
  const pool: ChainNode[] = [
    ...msg.certificates.filter((c) => c !== msg.signer).map((cert): ChainNode => ({ cert, source: "message" })),
    ...trust.intermediates.map((cert): ChainNode => ({ cert, source: "trusted intermediate" })),
  ];
  let { chain, problems } = buildChain(signer, pool, roots, now);
  let refused: string[] = [];
  if (!chain && trust.fetchIssuers) {
    const fetched = await trust.fetchIssuers(msg.signer.x509);
    refused = fetched.refused;
    if (fetched.issuers.length > 0) {
      pool.push(...fetched.issuers.map(({ cert, url }): ChainNode => ({ cert, source: "fetched", url })));
      ({ chain, problems } = buildChain(signer, pool, roots, now));
    }
  }
  if (!chain) {
    const issuer = displayName(msg.signer.x509.issuer);
    const hint = trust.fetchIssuers
      ? refused.length > 0
        ? ` (its AIA URL ${refused[0]} is not on Microsoft's certificate allow-list)`
        : ""
      : " (add the issuing intermediate as a trusted intermediate, or enable fetching intermediates)";
    throw new IdentityError(problems[0] ?? `signer certificate ${signerName}, issued by ${issuer}, does not chain to a trusted Azure root${hint}`, {
      signer: signerName,
      chain: [entry(signer)],
    });
  }
  const chainInfo = chain.map(entry);

  // 3. The signer's name.
  const cn = commonName(msg.signer.x509.subject);
  if (!cn || !AZURE_SIGNER_CN.test(cn)) throw new IdentityError(`signer ${JSON.stringify(cn ?? "")} is not an Azure metadata service`, { signer: signerName, chain: chainInfo });

  let doc: unknown;
  try {
    doc = JSON.parse(msg.content.toString("utf8"));
  } catch {
    throw new IdentityError("signed content is not JSON", { signer: signerName, chain: chainInfo });
  }
  const vmId = (doc as { vmId?: unknown })?.vmId;
  if (typeof vmId !== "string" || vmId === "") throw new IdentityError("signed content has no vmId", { signer: signerName, chain: chainInfo });
  return { instanceId: vmId, signer: signerName, chain: chainInfo };
}
