import type { JWK } from "jose";
import { readdir, readFile } from "node:fs/promises";
import type { AiaFetchOptions } from "./aia.js";
import { certificateFromPem, pemBlocks } from "./certificate.js";
import { loadOrCreateIdentityKeys, type IdentityKeys } from "./keys.js";

/** What the verifier trusts: AWS signing certificates, Azure roots and intermediates, GCP keys. */
export interface IdentityTrust {
  awsCertificates: string[];
  azureRoots: string[];
  azureIntermediates: string[];
  /** Fetch a missing Azure intermediate from the signer's allow-listed AIA URL; absent = never fetch. */
  azureAia?: AiaFetchOptions;
  gcpJwks: { keys: JWK[] };
  /** Google's published keys (or a mirror), fetched and cached. */
  gcpJwksUrl?: string;
}

/** The trust data shipped with the package (see trust/README.md). */
export const BUNDLED_TRUST_DIR = new URL("../../trust/", import.meta.url);

export function trustFromKeys(keys: IdentityKeys): IdentityTrust {
  return { awsCertificates: [keys.aws.certificatePem], azureRoots: [keys.azure.rootCertificatePem], azureIntermediates: [], gcpJwks: keys.gcp.jwks };
}

async function readPems(file: string | URL, what: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${what} ${String(file)}: ${(err as Error).message}`);
  }
  const pems = pemBlocks(text);
  if (pems.length === 0) throw new Error(`${what} ${String(file)} holds no PEM certificate`);
  for (const pem of pems) {
    try {
      certificateFromPem(pem);
    } catch (err) {
      throw new Error(`${what} ${String(file)} holds a certificate that cannot be parsed: ${(err as Error).message}`);
    }
  }
  return pems;
}

async function readBundle(subdir: string, what: string): Promise<string[]> {
  const dir = new URL(subdir, BUNDLED_TRUST_DIR);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".pem")).sort();
  return (await Promise.all(files.map((f) => readPems(new URL(f, dir), what)))).flat();
}

/** The bundled AWS certificates and Azure roots and intermediates. */
export async function bundledTrust(): Promise<IdentityTrust> {
  return {
    awsCertificates: await readBundle("aws/", "bundled AWS certificate"),
    azureRoots: await readBundle("azure/roots/", "bundled Azure root"),
    azureIntermediates: await readBundle("azure/intermediates/", "bundled Azure intermediate"),
    gcpJwks: { keys: [] },
  };
}

export interface TrustOptions {
  /** Start from the bundled certificates (default true); false trusts only what is given. */
  bundled?: boolean;
  awsCertificateFiles?: string[];
  azureRootFiles?: string[];
  azureIntermediateFiles?: string[];
  /** Fetch missing Azure intermediates from Microsoft's allow-listed AIA URLs. */
  azureFetchIntermediates?: boolean;
  gcpJwksFile?: string;
  gcpJwksUrl?: string;
  /** Directories of `provisioner imds --keys DIR`, whose public keys are trusted too. */
  imdsKeyDirs?: string[];
}

/** Reads the trust: the bundle (unless turned off), the operator's files, and fake IMDS keys when asked. */
export async function loadIdentityTrust(opts: TrustOptions = {}): Promise<IdentityTrust> {
  const trust: IdentityTrust =
    opts.bundled === false ? { awsCertificates: [], azureRoots: [], azureIntermediates: [], gcpJwks: { keys: [] } } : await bundledTrust();
  for (const f of opts.awsCertificateFiles ?? []) trust.awsCertificates.push(...(await readPems(f, "AWS certificate")));
  for (const f of opts.azureRootFiles ?? []) trust.azureRoots.push(...(await readPems(f, "Azure root")));
  for (const f of opts.azureIntermediateFiles ?? []) trust.azureIntermediates.push(...(await readPems(f, "Azure intermediate")));
  if (opts.azureFetchIntermediates) trust.azureAia = {};
  if (opts.gcpJwksFile) {
    let jwks: { keys?: unknown };
    try {
      jwks = JSON.parse(await readFile(opts.gcpJwksFile, "utf8")) as { keys?: unknown };
    } catch (err) {
      throw new Error(`cannot read GCP JWKS ${opts.gcpJwksFile}: ${(err as Error).message}`);
    }
    if (!Array.isArray(jwks.keys)) throw new Error(`GCP JWKS ${opts.gcpJwksFile} has no "keys" array`);
    trust.gcpJwks.keys.push(...(jwks.keys as JWK[]));
  }
  if (opts.gcpJwksUrl) {
    let url: URL;
    try {
      url = new URL(opts.gcpJwksUrl);
    } catch {
      throw new Error(`GCP JWKS URL ${JSON.stringify(opts.gcpJwksUrl)} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`GCP JWKS URL ${opts.gcpJwksUrl} must be http(s)`);
    trust.gcpJwksUrl = url.href;
  }
  for (const dir of opts.imdsKeyDirs ?? []) {
    const t = trustFromKeys(await loadOrCreateIdentityKeys(dir));
    trust.awsCertificates.push(...t.awsCertificates);
    trust.azureRoots.push(...t.azureRoots);
    trust.gcpJwks.keys.push(...t.gcpJwks.keys);
  }
  return trust;
}
