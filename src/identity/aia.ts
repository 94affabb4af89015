import type { X509Certificate } from "node:crypto";
import { certificateFromPem, parseCertificate, type Certificate } from "./certificate.js";

/**
 * Microsoft's certificate repository: where the AIA "CA Issuers" URL of Azure's IMDS signing
 * certificates points (http://www.microsoft.com/pkiops/certs/… and /pki/mscorp/…). Only these
 * hosts and paths are ever fetched, as coderd restricts it; the request never names the URL.
 */
export const MICROSOFT_CERTIFICATE_LOCATIONS: readonly { host: string; pathPrefixes: readonly string[] }[] = [
  { host: "www.microsoft.com", pathPrefixes: ["/pkiops/certs/", "/pki/mscorp/", "/pki/certs/"] },
];

export interface AiaFetchOptions {
  /** Allowed host and path prefixes. Default: Microsoft's certificate repository. */
  allowed?: readonly { host: string; pathPrefixes: readonly string[] }[];
  /** Maps an allowed URL to the one actually requested (tests point it at 127.0.0.1). */
  resolve?: (url: URL) => URL;
  timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const CACHE_MAX = 256;

export interface FetchedIssuer {
  cert: Certificate;
  url: string;
}

/** The leaf's AIA "CA Issuers" URLs (node:crypto renders the extension as text). */
export function caIssuersUrls(cert: X509Certificate): string[] {
  return (cert.infoAccess ?? "")
    .split("\n")
    .filter((l) => l.startsWith("CA Issuers - URI:"))
    .map((l) => l.slice("CA Issuers - URI:".length).trim());
}

/**
 * Fetches a missing intermediate named by a leaf's AIA, only from allowed locations, without
 * redirects, size- and time-capped; results (and failures, briefly) are cached per URL. A fetched
 * certificate is only a candidate: it still has to chain to a configured root.
 */
export function createAiaFetcher(opts: AiaFetchOptions = {}): (leaf: X509Certificate) => Promise<{ issuers: FetchedIssuer[]; refused: string[] }> {
  const allowed = opts.allowed ?? MICROSOFT_CERTIFICATE_LOCATIONS;
  const cache = new Map<string, Promise<Certificate | undefined>>();

  const isAllowed = (url: URL) =>
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.username === "" &&
    url.password === "" &&
    url.port === "" &&
    allowed.some((a) => a.host === url.hostname.toLowerCase() && a.pathPrefixes.some((p) => url.pathname.startsWith(p)));

  async function download(url: URL): Promise<Certificate | undefined> {
    const target = opts.resolve ? opts.resolve(url) : url;
    const res = await fetch(target, { redirect: "error", signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    if (!res.ok || !res.body) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) return undefined;
      chunks.push(Buffer.from(chunk));
    }
    const body = Buffer.concat(chunks);
    const text = body.toString("latin1");
    return text.includes("-----BEGIN CERTIFICATE-----") ? certificateFromPem(text) : parseCertificate(body);
  }

  return async (leaf) => {
    const issuers: FetchedIssuer[] = [];
    const refused: string[] = [];
    for (const raw of caIssuersUrls(leaf).slice(0, 4)) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        refused.push(raw);
        continue;
      }
      if (!isAllowed(url)) {
        refused.push(raw);
        continue;
      }
      let pending = cache.get(url.href);
      if (!pending) {
        if (cache.size >= CACHE_MAX) cache.clear();
        pending = download(url).catch(() => undefined);
        cache.set(url.href, pending);
        // A failure is not remembered for long: the next request may try again.
        pending.then((c) => c ?? setTimeout(() => cache.get(url.href) === pending && cache.delete(url.href), 30_000).unref());
      }
      const cert = await pending;
      if (cert) issuers.push({ cert, url: url.href });
    }
    return { issuers, refused };
  };
}
