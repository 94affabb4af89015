import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";
import { createLogger } from "./log.js";

export const imdsCommand = defineCommand({
  command: "imds",
  describe: "Serve fake, correctly signed cloud instance-identity metadata (AWS IMDSv2, Azure, GCP) for one instance",
  builder: (y) =>
    y
      .option("cloud", { choices: ["aws", "azure", "gcp"] as const, demandOption: true, describe: "Which cloud's metadata service to imitate" })
      .option("instance-id", { type: "string", demandOption: true, describe: "The instance ID (AWS), vmId (Azure) or instance id (GCP) to sign" })
      .option("listen", { type: "string", default: "127.0.0.1:0", describe: "HOST:PORT (port 0 picks one); loopback unless --allow-remote" })
      .option("keys", { type: "string", default: ".provisioner/imds-keys", describe: "Directory of the signing keys (created on first use)" })
      .option("region", { type: "string", default: "us-east-1", describe: "AWS region in the identity document" })
      .option("allow-remote", { type: "boolean", default: false, describe: "Allow a non-loopback --listen host" })
      .option("log-format", { choices: ["text", "json"] as const, default: "text" as const })
      .option("json", { type: "boolean", default: false, describe: "Print a machine-readable ready line" })
      .example("$0 imds --cloud aws --instance-id i-0123456789abcdef0", "then point the agent at the printed URL"),
  run: async (args) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(args.listen);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`invalid --listen ${JSON.stringify(args.listen)}`, "use HOST:PORT (port 0–65535), e.g. 127.0.0.1:0");
    const host = m[1].replace(/^\[|\]$/g, "");
    if (!args.allowRemote && !/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host)) {
      throw new UsageError(`--listen ${host} is not a loopback address`, "listen on 127.0.0.1, or pass --allow-remote deliberately");
    }
    if (args.instanceId.trim() === "") throw new UsageError("--instance-id is empty", "pass the instance ID to sign");
    const { startImds } = await import("../imds/server.js");
    const log = createLogger(args.logFormat, "imds");
    let imds;
    try {
      imds = await startImds({ cloud: args.cloud, instanceId: args.instanceId, listen: args.listen, keysDir: args.keys, region: args.region, log: (e) => e.level !== "debug" && log(e) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new UsageError(`cannot listen on ${args.listen}: address in use`, "choose another port (0 picks a free one)");
      if (code && (err as NodeJS.ErrnoException).path !== undefined) {
        const { describeErrno } = await import("../errors.js");
        throw new UsageError(`cannot use --keys ${args.keys}: ${describeErrno(code, code)} (${(err as NodeJS.ErrnoException).path})`, "give a directory this user can write (created on first use)");
      }
      throw err;
    }
    // Signal handlers first: whoever reads the ready line may signal at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => imds.close().then(resolve, resolve);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    if (args.json) process.stdout.write(JSON.stringify({ url: imds.url, cloud: imds.cloud, instance_id: imds.instanceId, keys: args.keys }) + "\n");
    else process.stdout.write(`imds: ${args.cloud} instance ${args.instanceId} listening on ${imds.url}\n`);
    await stopped;
    return 0;
  },
});
