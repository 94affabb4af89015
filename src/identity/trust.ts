import type { JWK } from "jose";
import { readFile } from "node:fs/promises";
import { loadOrCreateIdentityKeys, type IdentityKeys } from "./keys.js";

/** What the coordinator trusts: AWS signing certificates, Azure roots, GCP JWKS. */
export interface IdentityTrust {
  awsCertificates: string[];
  azureRoots: string[];
  gcpJwks: { keys: JWK[] };
}

export function trustFromKeys(keys: IdentityKeys): IdentityTrust {
  return { awsCertificates: [keys.aws.certificatePem], azureRoots: [keys.azure.rootCertificatePem], gcpJwks: keys.gcp.jwks };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

async function readPems(file: string, what: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  const pems = text.match(PEM_BLOCK);
  if (!pems) throw new Error(`${what} ${file} holds no PEM certificate`);
  return pems;
}

/** Reads the configured trust files (and the public keys of `provisioner imds --keys DIR` dirs). */
export async function loadIdentityTrust(opts: { awsCertificateFiles?: string[]; azureRootFiles?: string[]; gcpJwksFile?: string; imdsKeyDirs?: string[] }): Promise<IdentityTrust> {
  const trust: IdentityTrust = { awsCertificates: [], azureRoots: [], gcpJwks: { keys: [] } };
  for (const f of opts.awsCertificateFiles ?? []) trust.awsCertificates.push(...(await readPems(f, "AWS certificate")));
  for (const f of opts.azureRootFiles ?? []) trust.azureRoots.push(...(await readPems(f, "Azure root")));
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
  for (const dir of opts.imdsKeyDirs ?? []) {
    const t = trustFromKeys(await loadOrCreateIdentityKeys(dir));
    trust.awsCertificates.push(...t.awsCertificates);
    trust.azureRoots.push(...t.azureRoots);
    trust.gcpJwks.keys.push(...t.gcpJwks.keys);
  }
  return trust;
}
