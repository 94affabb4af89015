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
      .option("admin-token", { type: "string", describe: "Admin API token, at least 16 characters (visible to local users in the process list: prefer the file or the environment)" })
      .option("admin-token-file", { type: "string", describe: "File holding the admin token (yours alone: mode 0600) [env: PROVISIONER_ADMIN_TOKEN for the token itself; default: generated once and kept 0600 in the data directory]" })
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
    if (args.accessUrl !== undefined && !/^https?:$/.test(URL.parse(args.accessUrl)?.protocol ?? "")) {
      throw new UsageError(`--access-url ${JSON.stringify(args.accessUrl)} is not an http(s) URL`, "give the URL agents reach this coordinator at, e.g. --access-url http://10.0.0.5:7080");
    }
    const adminToken = await adminTokenFromArgs(args.adminToken, args.adminTokenFile);
    const trust = await loadTrustFromArgs(args);
    const log = createLogger(args.logFormat, "coordinator");
    if (args.adminToken !== undefined) log({ level: "warn", msg: "--admin-token is visible to every local user in the process list; prefer --admin-token-file or PROVISIONER_ADMIN_TOKEN" });
    let running;
    try {
      running = await startCoordinator({ listen: args.listen, db: args.db, accessUrl: args.accessUrl, adminToken, trust, ssePingMs, log });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new UsageError(`cannot listen on ${args.listen}: address in use`, "choose another --listen port (0 picks a free one)");
      throw err;
    }
    // Signal handlers first: whoever reads the ready line may signal at once.
    const stopped = new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        log({ level: "info", msg: "shutting down", signal });
        // Whatever hangs (a database that does not answer), the process ends within the deadline.
        setTimeout(() => {
          log({ level: "error", msg: `shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s, exiting` });
          process.exit(1);
        }, SHUTDOWN_DEADLINE_MS).unref();
        const exit = (code: number) => {
          resolve(code);
          // A database left unclosed (full disk) may keep handles open: end anyway, once output is written.
          setTimeout(() => process.exit(code), 200).unref();
        };
        running.close().then(
          () => exit(0),
          (err: Error) => {
            log({ level: "error", msg: "shutdown failed", error: err.message });
            exit(1);
          },
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    if (args.json) {
      process.stdout.write(JSON.stringify({ url: running.url, access_url: running.accessUrl, admin_token: running.adminToken, admin_token_file: running.adminTokenFile ?? null, database: running.dbKind }) + "\n");
    } else {
      process.stdout.write(`coordinator listening on ${running.url} (database: ${running.dbKind})\n`);
      if (running.adminTokenGenerated) process.stdout.write(`admin token (shown once${running.adminTokenFile ? `, stored in ${running.adminTokenFile}` : ""}): ${running.adminToken}\n`);
      else if (running.adminTokenFile) process.stdout.write(`admin token: stored in ${running.adminTokenFile}\n`);
    }
    return stopped;
  },
});

/** SIGTERM to exit, at most (orchestrators kill after 10 s). */
const SHUTDOWN_DEADLINE_MS = 8_000;

/** One source of the admin token at most: the flag, a file, or PROVISIONER_ADMIN_TOKEN; none → generated and kept. */
async function adminTokenFromArgs(flag: string | undefined, file: string | undefined): Promise<string | undefined> {
  const env = process.env.PROVISIONER_ADMIN_TOKEN;
  const given = [flag !== undefined && "--admin-token", file !== undefined && "--admin-token-file", env !== undefined && "PROVISIONER_ADMIN_TOKEN"].filter(Boolean);
  if (given.length > 1) throw new UsageError(`the admin token is given twice (${given.join(" and ")})`, "give it one way only");
  const { checkAdminToken, readAdminTokenFile } = await import("../coordinator/admin-token.js");
  if (flag !== undefined) return checkAdminToken(flag, "--admin-token");
  if (env !== undefined) return checkAdminToken(env, "PROVISIONER_ADMIN_TOKEN");
  if (file !== undefined) return readAdminTokenFile(file, { followSymlinks: true });
  return undefined;
}
