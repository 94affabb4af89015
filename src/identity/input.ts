/** Turns the files an operator has (what IMDS served) into the request body the agent would send. */
export type Cloud = "aws" | "azure" | "gcp";

export class IdentityInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityInputError";
  }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function json(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * AWS: the agent's body `{document, signature}`, or the raw identity document with `signature` (the
 * IMDS signature file). Azure: the attested-document response `{encoding, signature}`, the base64
 * signature alone, or its DER. GCP: the JWT as IMDS returns it, or `{json_web_token}`.
 */
export function identityBodyFromFile(cloud: Cloud, bytes: Buffer, signature?: string): Record<string, string> {
  const text = bytes.toString("utf8");
  const obj = json(text);
  if (cloud === "aws") {
    if (obj && typeof obj.document === "string" && typeof obj.signature === "string") return { document: obj.document, signature: obj.signature };
    if (obj && "instanceId" in obj) {
      if (signature === undefined) throw new IdentityInputError("is an identity document without its signature: pass the signature file with --signature");
      // The signature covers the exact bytes IMDS served.
      return { document: text, signature: signature.trim() };
    }
    throw new IdentityInputError('is neither {"document","signature"} JSON nor an AWS identity document');
  }
  if (cloud === "azure") {
    if (obj) {
      if (typeof obj.signature === "string" && typeof obj.encoding === "string") return { signature: obj.signature, encoding: obj.encoding };
      throw new IdentityInputError('is JSON without "signature" and "encoding" (the attested document response)');
    }
    if (bytes[0] === 0x30) return { signature: bytes.toString("base64"), encoding: "pkcs7" };
    const b64 = text.replace(/\s/g, "");
    if (b64 !== "" && /^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return { signature: b64, encoding: "pkcs7" };
    throw new IdentityInputError("is neither the attested document JSON, a base64 PKCS#7 signature, nor DER");
  }
  if (obj) {
    if (typeof obj.json_web_token === "string") return { json_web_token: obj.json_web_token };
    throw new IdentityInputError('is JSON without "json_web_token"');
  }
  const jwt = text.trim();
  if (!JWT.test(jwt)) throw new IdentityInputError("is not a JWT (header.payload.signature)");
  return { json_web_token: jwt };
}
