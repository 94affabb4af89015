import { readFileSync } from "node:fs";

/** Genuine cloud-signed identities (a copy of ../shared/fixtures/real-identities, see its README): tests run from a clone alone. */
export const REAL = new URL("../fixtures/real-identities/", import.meta.url);
export const real = (path: string): Buffer => readFileSync(new URL(path, REAL));

/** Each Azure document, its VM ID and a time inside its leaf's validity (README). */
export const AZURE_DOCUMENTS = [
  { name: "regular-2022", vmId: "bd8e7443-24a0-41f3-b949-8baf4fd1c573", at: "2022-06-01T00:00:00Z", signer: "metadata.azure.com", chain: ["Microsoft RSA TLS CA 01", "Baltimore CyberTrust Root"] },
  { name: "govcloud-2023", vmId: "990878d4-068a-4ac4-9ee9-1231d2218ef2", at: "2023-06-01T00:00:00Z", signer: "metadata.azure.us", chain: ["Microsoft Azure TLS Issuing CA 05", "DigiCert Global Root G2"] },
  { name: "rsa-2024", vmId: "960a4b4a-dab2-44ef-9b73-7753043b4f16", at: "2024-06-01T00:00:00Z", signer: "metadata.azure.com", chain: ["Microsoft Azure RSA TLS Issuing CA 08", "DigiCert Global Root G2"] },
];
/** Each GCP token, its instance and a time inside its hour of validity (iat + 10 min). */
export const GCP_TOKENS = [
  { name: "token-infisical", instanceId: "8418160715288427941", at: "2024-05-17T16:30:00Z", kid: "a3b762f871cdb3bae0044c649622fc1396eda3e3" },
  { name: "token-ncbi", instanceId: "2911665560261013853", at: "2020-08-08T13:22:00Z", kid: "744f60e9fb515a2a01c11ebeb228712860540711" },
];

