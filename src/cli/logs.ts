import { defineCommand } from "./command.js";
import { CheckFailedError, UsageError } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const logsCommand = defineCommand({
  command: "logs <id>",
  describe: "Print an agent's logs or a build's provisioner job logs (text as coderd's format=text, or JSON); --follow streams them",
  builder: (y) =>
    y
      .positional("id", { type: "string", demandOption: true, describe: "A workspace agent ID or a workspace build ID" })
      .option("format", { choices: ["text", "json"] as const, default: "text" as const, describe: "text: one `<time> [<level>] [<source>] <output>` line per log; json: the logs as JSON (one object per line with --follow)" })
      .option("follow", { alias: "f", type: "boolean", default: false, describe: "Keep printing new logs (a build's end when its job completes)" })
      .option("after", { type: "number", default: 0, describe: "Only logs with an ID greater than this" })
      .option("url", { type: "string", describe: "Coordinator URL [env: PROVISIONER_URL, default http://127.0.0.1:7080]" })
      .option("token", { type: "string", describe: "Admin or session token [env: CODER_SESSION_TOKEN, default: .provisioner/admin-token]" })
      .example("$0 logs 0b9c…-agent-id", "an agent's logs as text")
      .example("$0 logs 5d1e…-build-id --follow --format json", "a build's job logs as they come, one JSON object per line"),
  run: async (args) => {
    if (!UUID.test(args.id)) throw new UsageError(`invalid ID ${JSON.stringify(args.id)}`, "pass a workspace agent ID or a workspace build ID (a UUID)");
    if (!Number.isSafeInteger(args.after) || args.after < 0) throw new UsageError("--after must be an integer ≥ 0", "e.g. --after 120 (the last log ID you have)");
    const url = args.url ?? process.env.PROVISIONER_URL ?? "http://127.0.0.1:7080";
    let token = args.token ?? process.env.CODER_SESSION_TOKEN;
    if (!token) {
      const { existsSync, readFileSync } = await import("node:fs");
      if (existsSync(".provisioner/admin-token")) token = readFileSync(".provisioner/admin-token", "utf8").trim();
    }
    if (!token) throw new UsageError("no token", "pass --token or set CODER_SESSION_TOKEN (an admin token, or a user's session token from POST /api/v2/users/{user}/keys)");
    const { followLogs, fetchLogs, LogsNotFoundError } = await import("./logs-client.js");
    const out = (s: string) => process.stdout.write(s);
    try {
      if (args.follow) await followLogs({ url, token, id: args.id, after: args.after, format: args.format }, out);
      else await fetchLogs({ url, token, id: args.id, after: args.after, format: args.format }, out);
    } catch (err) {
      if (err instanceof LogsNotFoundError) throw new CheckFailedError(err.message, "E_NOT_FOUND", "check the ID: `GET /api/v2/workspaces/{id}` lists a workspace's latest build and its agents");
      const { CoderClientError, NetworkError } = await import("../sdk/client-errors.js");
      if (err instanceof NetworkError) throw new CheckFailedError(err.message, "E_UNREACHABLE", "is the coordinator running? pass --url or set PROVISIONER_URL");
      if (err instanceof CoderClientError) throw new CheckFailedError(`${err.status}: ${err.message}`, `E_HTTP_${err.status}`, err.status === 401 || err.status === 403 ? "pass a token that may read this workspace (--token)" : undefined);
      throw err;
    }
    return 0;
  },
});
