import { X509Certificate } from "node:crypto";
import type { ChainEntry } from "./errors.js";
import { children, content, DerError, encoded, expect, oid, readDer, readDerExact, smallInteger, TAG, type Der } from "./der.js";

const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
/** keyUsage bit 5 (keyCertSign) is 0x04 in the first byte of the bit string. */
const KEY_CERT_SIGN = 0x04;

/** Certificates larger than this are refused before they are parsed (Microsoft's are under 3 KiB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/**
 * An X.509 certificate with the raw fields chain building needs: node:crypto parses and verifies,
 * the DER walk supplies what node:crypto does not expose (raw names for exact matching, the
 * basicConstraints and keyUsage extensions as written).
 */
export interface Certificate {
  x509: X509Certificate;
  der: Buffer;
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** Content bytes of the serial number INTEGER. */
  serial: Buffer;
  /** undefined when the extension is absent. */
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** undefined when the extension is absent; else whether keyCertSign is set. */
  keyCertSign?: boolean;
}

export function parseCertificate(der: Buffer): Certificate {
  if (der.length > MAX_CERTIFICATE_BYTES) throw new DerError(`certificate of ${der.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`);
  const cert = expect(readDerExact(der), TAG.SEQUENCE, "certificate");
  const [tbs] = children(cert, 3);
  const fields = children(expect(tbs, TAG.SEQUENCE, "tbsCertificate"), 10);
  const i = fields[0]?.tag === TAG.context(0) ? 1 : 0;
  const serial = expect(fields[i], TAG.INTEGER, "serial number");
  const issuer = expect(fields[i + 2], TAG.SEQUENCE, "issuer");
  const subject = expect(fields[i + 4], TAG.SEQUENCE, "subject");
  const parsed: Certificate = {
    x509: new X509Certificate(der),
    der,
    subjectDer: Buffer.from(encoded(subject)),
    issuerDer: Buffer.from(encoded(issuer)),
    serial: Buffer.from(content(serial)),
  };
  const extensions = fields.slice(i + 6).find((f) => f.tag === TAG.context(3));
  if (extensions) {
    const list = readDer(extensions.buf, extensions.contentStart, extensions.end);
    for (const ext of children(expect(list, TAG.SEQUENCE, "extensions"))) {
      const parts = children(expect(ext, TAG.SEQUENCE, "extension"), 3);
      const id = oid(parts[0]);
      const value = expect(parts[parts.length - 1], TAG.OCTET_STRING, "extension value");
      const inner = readDer(value.buf, value.contentStart, value.end);
      if (id === OID_BASIC_CONSTRAINTS) parsed.basicConstraints = basicConstraints(inner);
      else if (id === OID_KEY_USAGE) parsed.keyCertSign = keyCertSign(inner);
    }
  }
  return parsed;
}

function basicConstraints(el: Der): { ca: boolean; pathLen?: number } {
  const parts = children(expect(el, TAG.SEQUENCE, "basicConstraints"), 2);
  let ca = false;
  let k = 0;
  if (parts[0]?.tag === TAG.BOOLEAN) {
    ca = content(parts[0])[0] === 0xff;
    k = 1;
  }
  return parts[k] ? { ca, pathLen: smallInteger(parts[k]) } : { ca };
}

function keyCertSign(el: Der): boolean {
  const bits = content(expect(el, TAG.BIT_STRING, "keyUsage"));
  return bits.length >= 2 && (bits[1] & KEY_CERT_SIGN) !== 0;
}

/** The CN of a distinguished name as node:crypto renders it (one attribute per line). */
export function commonName(dn: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1];
}

/** A readable one-line name: the CN, or the whole name. */
export function displayName(dn: string): string {
  return commonName(dn) ?? dn.replace(/\n/g, ", ");
}

/** How a certificate of a chain is reported, with where it came from. */
export function chainEntry(cert: X509Certificate, source: string): ChainEntry {
  return {
    subject: displayName(cert.subject),
    issuer: cert.issuer.replace(/\n/g, ", "),
    not_before: new Date(cert.validFrom).toISOString(),
    not_after: new Date(cert.validTo).toISOString(),
    source,
  };
}

/** Why `issuer` may not issue certificates, or undefined when it may (CA:true, keyCertSign when keyUsage is present). */
export function notACa(issuer: Certificate): string | undefined {
  if (!issuer.basicConstraints) return "has no basicConstraints extension";
  if (!issuer.basicConstraints.ca) return "has basicConstraints CA:false";
  if (issuer.keyCertSign === false) return "has a keyUsage without keyCertSign";
  return undefined;
}

/** Reads every PEM certificate block of a text. */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function certificateFromPem(pem: string): Certificate {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, "");
  return parseCertificate(Buffer.from(b64, "base64"));
}
