import type { JWK } from "jose";
import { generateKeyPair, generateKeyPairSync, randomBytes, createPublicKey } from "node:crypto";
import { promisify } from "node:util";
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import forge from "node-forge";

/** Key material the fake IMDS signs with (one set per keys directory). */
export interface IdentityKeys {
  aws: { certificatePem: string; privateKeyPem: string };
  azure: { rootCertificatePem: string; rootPrivateKeyPem: string; signerCertificatePem: string; signerPrivateKeyPem: string };
  gcp: { privateKeyPem: string; kid: string; jwks: { keys: JWK[] } };
}

const KEYS_FILE = "identity-keys.json";

export function rsaKeyPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** node:crypto makes the keys; node-forge builds the X.509 certificates (node:crypto cannot). */
export function issueCertificate(opts: {
  cn: string;
  keyPem: string;
  issuer?: { cn: string; keyPem: string };
  ca: boolean;
  years: number;
  notBefore?: Date;
  notAfter?: Date;
  /** forge extension objects replacing the default basicConstraints and keyUsage (tests build broken chains with it). */
  extensions?: object[];
}): string {
  const cert = forge.pki.createCertificate();
  const pub = createPublicKey(opts.keyPem).export({ type: "spki", format: "pem" }).toString();
  cert.publicKey = forge.pki.publicKeyFromPem(pub);
  cert.serialNumber = "01" + randomBytes(8).toString("hex");
  const now = new Date();
  cert.validity.notBefore = opts.notBefore ?? new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = opts.notAfter ?? new Date(now.getTime() + opts.years * 365 * 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: "commonName", value: opts.cn }, { name: "organizationName", value: "provisioner fake IMDS" }]);
  cert.setIssuer([{ name: "commonName", value: (opts.issuer ?? opts).cn }, { name: "organizationName", value: "provisioner fake IMDS" }]);
  cert.setExtensions(
    opts.extensions ?? [
      { name: "basicConstraints", cA: opts.ca, critical: true },
      { name: "keyUsage", critical: true, ...(opts.ca ? { keyCertSign: true, cRLSign: true } : { digitalSignature: true }) },
    ],
  );
  cert.sign(forge.pki.privateKeyFromPem((opts.issuer ?? opts).keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * A fresh set of keys held only in memory (e2e makes one per run, so nothing is left on the machine);
 * the four RSA keys are generated in parallel off the main thread.
 */
export async function generateIdentityKeys(): Promise<IdentityKeys> {
  const rsa = promisify(generateKeyPair);
  const pems = await Promise.all([0, 1, 2, 3].map(async () => (await rsa("rsa", { modulusLength: 2048 })).privateKey.export({ type: "pkcs8", format: "pem" }).toString()));
  return assemble(pems[0], pems[1], pems[2], pems[3]);
}

function generate(): IdentityKeys {
  return assemble(rsaKeyPem(), rsaKeyPem(), rsaKeyPem(), rsaKeyPem());
}

function assemble(awsKey: string, rootKey: string, signerKey: string, gcpKey: string): IdentityKeys {
  const kid = randomBytes(10).toString("hex");
  const jwk = createPublicKey(gcpKey).export({ format: "jwk" }) as JWK;
  return {
    aws: { privateKeyPem: awsKey, certificatePem: issueCertificate({ cn: "provisioner fake AWS identity signer", keyPem: awsKey, ca: false, years: 10 }) },
    azure: {
      rootCertificatePem: issueCertificate({ cn: "provisioner fake Azure root", keyPem: rootKey, ca: true, years: 10 }),
      rootPrivateKeyPem: rootKey,
      signerCertificatePem: issueCertificate({ cn: "metadata.azure.com", keyPem: signerKey, issuer: { cn: "provisioner fake Azure root", keyPem: rootKey }, ca: false, years: 5 }),
      signerPrivateKeyPem: signerKey,
    },
    gcp: { privateKeyPem: gcpKey, kid, jwks: { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" } as JWK] } },
  };
}

/**
 * Loads the keys kept in `dir`, creating them on first use (directory 0700, files 0600). Safe when
 * several processes start at once: the keys file is published with link(), which never overwrites.
 * The public halves are also written out for the coordinator's --aws-certificate, --azure-root and
 * --gcp-jwks flags.
 */
export async function loadOrCreateIdentityKeys(dir: string): Promise<IdentityKeys> {
  const file = join(dir, KEYS_FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = generate();
    const tmp = join(dir, `.${KEYS_FILE}.${process.pid}.${randomBytes(4).toString("hex")}`);
    writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
    try {
      linkSync(tmp, file);
      writeFileSync(join(dir, "aws-certificate.pem"), keys.aws.certificatePem, { mode: 0o644 });
      writeFileSync(join(dir, "azure-root.pem"), keys.azure.rootCertificatePem, { mode: 0o644 });
      writeFileSync(join(dir, "gcp-jwks.json"), JSON.stringify(keys.gcp.jwks, null, 2), { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as IdentityKeys;
  } catch (err) {
    throw new Error(`cannot read identity keys ${file}: ${(err as Error).message}`);
  }
}
