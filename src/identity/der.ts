import forge from "node-forge";

/**
 * A strict DER reader over a Buffer: elements are offsets into the input, nothing is copied or
 * decoded until asked. Untrusted PKCS#7 is walked with it so sizes and counts are checked before any
 * certificate is parsed, and signed bytes are taken exactly as they were sent.
 */
export interface Der {
  readonly buf: Buffer;
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** [n] constructed, context-specific. */
  context: (n: number) => 0xa0 | n,
} as const;

/** Reads the element at `offset`; it must end by `limit`. Definite, minimal lengths only (DER). */
export function readDer(buf: Buffer, offset = 0, limit = buf.length): Der {
  if (offset + 2 > limit) throw new DerError("truncated element");
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tag");
  let length = buf[offset + 1];
  let p = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw new DerError("indefinite or oversized length");
    if (p + n > limit) throw new DerError("truncated length");
    if (buf[p] === 0) throw new DerError("non-minimal length");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++];
    if (length < 0x80) throw new DerError("non-minimal length");
  }
  const end = p + length;
  if (end > limit) throw new DerError("element longer than its container");
  return { buf, tag, start: offset, contentStart: p, end };
}

/** The whole input must be exactly one element. */
export function readDerExact(buf: Buffer): Der {
  const el = readDer(buf);
  if (el.end !== buf.length) throw new DerError("trailing bytes after the element");
  return el;
}

/** The elements inside a constructed element, at most `max` of them (counted before anything is parsed). */
export function children(el: Der, max = Infinity): Der[] {
  if (!(el.tag & 0x20)) throw new DerError("expected a constructed element");
  const out: Der[] = [];
  for (let p = el.contentStart; p < el.end; ) {
    if (out.length >= max) throw new DerError(`more than ${max} elements`);
    const child = readDer(el.buf, p, el.end);
    out.push(child);
    p = child.end;
  }
  return out;
}

export function expect(el: Der | undefined, tag: number, what: string): Der {
  if (!el || el.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${el ? `0x${el.tag.toString(16)}` : "nothing"}`);
  return el;
}

/** The element's encoding, header included (a view, not a copy). */
export const encoded = (el: Der): Buffer => el.buf.subarray(el.start, el.end);
export const content = (el: Der): Buffer => el.buf.subarray(el.contentStart, el.end);

export function oid(el: Der): string {
  expect(el, TAG.OID, "object identifier");
  if (el.end === el.contentStart) throw new DerError("empty object identifier");
  return forge.asn1.derToOid(content(el).toString("binary"));
}

export function smallInteger(el: Der): number {
  expect(el, TAG.INTEGER, "integer");
  const bytes = content(el);
  if (bytes.length === 0 || bytes.length > 4 || bytes[0] & 0x80) throw new DerError("integer out of range");
  return bytes.reduce((n, b) => n * 256 + b, 0);
}

/** Encodes one element (the writer side, for the fake IMDS and tests). */
export function writeDer(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

export function writeOid(id: string): Buffer {
  return writeDer(TAG.OID, Buffer.from(forge.asn1.oidToDer(id).getBytes(), "binary"));
}
