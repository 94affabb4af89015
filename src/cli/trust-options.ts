import type { Argv } from "yargs";
import type { IdentityTrust } from "../identity/index.js";
import { UsageError } from "./errors.js";

/** The trust flags shared by `coordinator` and `identity verify`, so both verify the same way. */
export function withTrustOptions<T>(y: Argv<T>) {
  return y
    .option("aws-certificate", { type: "string", array: true, default: [] as string[], describe: "PEM certificate whose key signs AWS identity documents (repeatable; added to the bundled ones)" })
    .option("azure-root", { type: "string", array: true, default: [] as string[], describe: "PEM root trusted for Azure attested documents (repeatable; added to the bundled ones)" })
    .option("azure-intermediate", { type: "string", array: true, default: [] as string[], describe: "PEM intermediate for Azure signer chains (repeatable; added to the bundled ones)" })
    .option("azure-fetch-intermediates", { type: "boolean", default: false, describe: "Fetch a missing Azure intermediate from the signer's AIA URL, only from Microsoft's certificate hosts" })
    .option("gcp-jwks", { type: "string", describe: "JWKS file with the keys trusted for GCP identity tokens" })
    .option("gcp-jwks-url", { type: "string", describe: "URL of the GCP keys (Google's: https://www.googleapis.com/oauth2/v3/certs), fetched, cached, re-fetched on an unknown kid" })
    .option("trust-imds", { type: "string", array: true, default: [] as string[], describe: "Trust the keys of `provisioner imds --keys DIR` (repeatable)" })
    .option("bundled-trust", { type: "boolean", default: true, describe: "Start from the bundled AWS and Azure certificates (--no-bundled-trust: only the flags' files)" });
}

export interface TrustArgs {
  awsCertificate: string[];
  azureRoot: string[];
  azureIntermediate: string[];
  azureFetchIntermediates: boolean;
  gcpJwks?: string;
  gcpJwksUrl?: string;
  trustImds: string[];
  bundledTrust: boolean;
}

export async function loadTrustFromArgs(args: TrustArgs): Promise<IdentityTrust> {
  const { loadIdentityTrust } = await import("../identity/index.js");
  try {
    return await loadIdentityTrust({
      bundled: args.bundledTrust,
      awsCertificateFiles: args.awsCertificate,
      azureRootFiles: args.azureRoot,
      azureIntermediateFiles: args.azureIntermediate,
      azureFetchIntermediates: args.azureFetchIntermediates,
      gcpJwksFile: args.gcpJwks,
      gcpJwksUrl: args.gcpJwksUrl,
      imdsKeyDirs: args.trustImds,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, "check the --aws-certificate / --azure-root / --azure-intermediate / --gcp-jwks / --gcp-jwks-url / --trust-imds values");
  }
}
