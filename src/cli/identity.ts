import { defineCommand } from "./command.js";
import { describeErrno } from "../errors.js";
import { UsageError } from "./errors.js";
import { loadTrustFromArgs, withTrustOptions } from "./trust-options.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const CLOUD_NAME = { aws: "AWS", azure: "Azure", gcp: "GCP" } as const;

export const identityCommand = defineCommand({
  command: "identity <action> [files..]",
  describe: "Verify cloud instance identities as the coordinator does (why does my agent get 401 Invalid … identity?)",
  builder: (y) =>
    withTrustOptions(
      y
        .positional("action", { choices: ["verify"] as const, describe: "verify: check each FILE and explain the verdict" })
        .positional("files", { type: "string", array: true, default: [] as string[], describe: "What the metadata service served (see below)" }),
    )
      .option("cloud", { choices: ["aws", "azure", "gcp"] as const, demandOption: true, describe: "Which cloud signed the identities" })
      .option("at", { type: "string", describe: "Verify as of this RFC 3339 time instead of now (e.g. 2024-06-01T00:00:00Z)" })
      .option("signature", { type: "string", describe: "AWS: the signature file, when FILE is the raw identity document" })
      .option("json", { type: "boolean", default: false, describe: "Print one JSON array of verdicts" })
      .epilogue(
        "FILE is what the metadata service returned — AWS: {document, signature} JSON, or the document with --signature; Azure: the attested document JSON, its base64 signature or the DER; GCP: the JWT. Exit 0 all verified, 1 one or more not verified, 2 bad input.",
      )
      .example("$0 identity verify --cloud azure attested.json", "the verdict, VM ID, signer and chain, or why not")
      .example("$0 identity verify --cloud aws --signature signature.txt document.json", "")
      .example("$0 identity verify --cloud gcp --gcp-jwks-url https://www.googleapis.com/oauth2/v3/certs token.jwt", ""),
  run: async (args) => {
    if (args.files.length === 0) throw new UsageError("no FILE to verify", "pass one or more files, e.g. provisioner identity verify --cloud azure attested.json");
    let at: Date | undefined;
    if (args.at !== undefined) {
      at = new Date(args.at);
      if (!RFC3339.test(args.at) || Number.isNaN(at.getTime())) throw new UsageError(`--at ${JSON.stringify(args.at)} is not an RFC 3339 time`, "e.g. --at 2024-06-01T00:00:00Z");
    }
    if (args.signature !== undefined && (args.cloud !== "aws" || args.files.length !== 1)) throw new UsageError("--signature goes with --cloud aws and one FILE", "verify one AWS document at a time with its signature");
    const { readFile } = await import("node:fs/promises");
    const { identityBodyFromFile, IdentityInputError } = await import("../identity/input.js");
    const read = async (file: string, what: string) => {
      try {
        return await readFile(file);
      } catch (err) {
        throw new UsageError(`cannot read ${what} ${file}: ${describeErrno((err as NodeJS.ErrnoException).code, (err as Error).message)}`, "check the path");
      }
    };
    // Every input is read and recognised before anything is verified or printed.
    const signature = args.signature === undefined ? undefined : (await read(args.signature, "signature")).toString("utf8");
    const inputs: { file: string; body: Record<string, string> }[] = [];
    for (const file of args.files) {
      try {
        inputs.push({ file, body: identityBodyFromFile(args.cloud, await read(file, "file"), signature) });
      } catch (err) {
        if (err instanceof IdentityInputError) throw new UsageError(`${file} ${err.message}`, `pass what the ${CLOUD_NAME[args.cloud]} metadata service returned (see --help)`);
        throw err;
      }
    }
    const trust = await loadTrustFromArgs(args);
    const { createIdentityVerifier, IdentityError, TrustUnavailableError } = await import("../identity/index.js");
    // One verification time for the whole run, printed with the verdicts.
    const when = at ?? new Date();
    const verifier = createIdentityVerifier(trust, { now: () => when });
    const verdicts = [];
    for (const { file, body } of inputs) {
      const verification = args.cloud === "aws" ? verifier.aws(body as { document: string; signature: string }) : args.cloud === "azure" ? verifier.azure(body as { signature: string; encoding: string }) : verifier.gcp(body.json_web_token);
      try {
        const v = await verification;
        verdicts.push({ file, verified: true, instance_id: v.instanceId, signer: v.signer, chain: v.chain, reason: null });
      } catch (err) {
        if (err instanceof TrustUnavailableError) throw new UsageError(err.detail, "check --gcp-jwks-url, or pass the keys with --gcp-jwks");
        if (!(err instanceof IdentityError)) throw err;
        verdicts.push({ file, verified: false, instance_id: null, signer: err.info.signer ?? null, chain: err.info.chain ?? [], reason: err.detail });
      }
    }
    const time = when.toISOString();
    if (args.json) process.stdout.write(JSON.stringify(verdicts.map((v) => ({ ...v, cloud: args.cloud, at: time })), null, 2) + "\n");
    else {
      const lines: string[] = [];
      for (const v of verdicts) {
        lines.push(v.verified ? `${v.file}: verified (as of ${time})` : `${v.file}: NOT verified (as of ${time})`);
        if (!v.verified) lines.push(`  reason:      ${v.reason}`, `  coordinator: 401 Invalid ${CLOUD_NAME[args.cloud]} identity.`);
        if (v.instance_id) lines.push(`  instance:    ${v.instance_id}`);
        if (v.signer) lines.push(`  signer:      ${v.signer}`);
        v.chain.forEach((c, i) => lines.push(`  ${i === 0 ? "chain:      " : "            "} ${c.subject} (${c.source}; valid ${c.not_before} … ${c.not_after})`));
      }
      process.stdout.write(lines.join("\n") + "\n");
    }
    return verdicts.every((v) => v.verified) ? 0 : 1;
  },
});
