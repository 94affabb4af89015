import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";
import { createLogger } from "./log.js";
import { loadTrustFromArgs, withTrustOptions } from "./trust-options.js";

export const coordinatorCommand = defineCommand({
  command: "coordinator",
  describe: "Run the coderd-compatible coordinator (agent instance-identity auth, reinit, admin API)",
  builder: (y) =>
    withTrustOptions(y)
      .option("listen", { type: "string", default: "127.0.0.1:7080", describe: "HOST:PORT to listen on (port 0 picks one)" })
      .option("db", { type: "string", default: ".provisioner/db", describe: "memory | PGlite data DIR | postgres://… (shared by replicas)" })
      .option("access-url", { type: "string", describe: "URL agents use to reach the coordinator (default: the listen URL)" })
      .option("admin-token", { type: "string", describe: "Admin API token (default: generated once and stored 0600 next to the data)" })
      .option("sse-ping", { type: "string", default: "15s", describe: "Ping interval of reinit streams (e.g. 15s, 500ms)" })
      .option("log-format", { choices: ["text", "json"] as const, default: "text" as const, describe: "Log format (json: one JSON object per line)" })
      .option("json", { type: "boolean", default: false, describe: "Print a machine-readable ready line {url, admin_token, …}" })
      .example("$0 coordinator --db memory --listen 127.0.0.1:0 --trust-imds .provisioner/imds-keys", "ephemeral coordinator trusting the local fake IMDS")
      .example("$0 coordinator --db postgres://postgres@127.0.0.1/coder --listen 127.0.0.1:7081", "a replica sharing Postgres"),
  run: async (args) => {
    const { parseDuration } = await import("./duration.js");
    const ssePingMs = parseDuration(args.ssePing, "--sse-ping");
    const { startCoordinator, parseListen } = await import("../coordinator/index.js");
    try {
      parseListen(args.listen);
    } catch (err) {
      throw new UsageError((err as Error).message, "e.g. --listen 127.0.0.1:7080");
    }
    const trust = await loadTrustFromArgs(args);
    const log = createLogger(args.logFormat, "coordinator");
    let running;
    try {
      running = await startCoordinator({ listen: args.listen, db: args.db, accessUrl: args.accessUrl, adminToken: args.adminToken, trust, ssePingMs, log });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EADDRINUSE") throw new UsageError(`cannot listen on ${args.listen}: address in use`, "choose another --listen port (0 picks a free one)");
      if (e.code === "ECONNREFUSED" || /password authentication|does not exist/.test(e.message)) throw new UsageError(`cannot open the database: ${e.message}`, "check --db");
      throw err;
    }
    if (args.json) {
      process.stdout.write(JSON.stringify({ url: running.url, access_url: running.accessUrl, admin_token: running.adminToken, admin_token_file: running.adminTokenFile ?? null, database: running.dbKind }) + "\n");
    } else {
      process.stdout.write(`coordinator listening on ${running.url} (database: ${running.dbKind})\n`);
      if (running.adminTokenGenerated) process.stdout.write(`admin token (shown once${running.adminTokenFile ? `, stored in ${running.adminTokenFile}` : ""}): ${running.adminToken}\n`);
      else if (running.adminTokenFile) process.stdout.write(`admin token: stored in ${running.adminTokenFile}\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log({ level: "info", msg: "shutting down", signal });
        running.close().then(resolve, resolve);
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    return 0;
  },
});
