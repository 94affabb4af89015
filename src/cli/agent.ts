import { defineCommand } from "./command.js";
import { CheckFailedError, UsageError } from "./errors.js";
import { agentAppStatusCommand } from "./agent-app-status.js";
import { createLogger } from "./log.js";

const AUTHS = ["token", "aws-instance-identity", "azure-instance-identity", "google-instance-identity"] as const;

export const agentCommand = defineCommand({
  command: "agent",
  describe: "Run a Coder-compatible agent: authenticate, run the template's scripts and dev containers, ship logs, follow prebuild reinit",
  builder: (y) =>
    y
      .command({
        command: agentAppStatusCommand.command,
        describe: agentAppStatusCommand.describe,
        builder: agentAppStatusCommand.builder,
        handler: async (args) => {
          await agentAppStatusCommand.run(args);
        },
      })
      .option("url", { global: false, type: "string", describe: "Coordinator URL [env: CODER_AGENT_URL]" })
      .option("auth", { global: false, choices: AUTHS, describe: "Auth method [env: CODER_AGENT_AUTH, default token]" })
      .option("agent-name", { global: false, type: "string", describe: "This agent's name, for several agents on one instance [env: CODER_AGENT_NAME]" })
      .option("metadata-url", { global: false, type: "string", describe: "Cloud metadata base URL, e.g. a `provisioner imds` [env: CODER_AGENT_METADATA_URL]" })
      .option("log-format", { global: false, choices: ["text", "json"] as const, default: "text" as const, describe: "Log format (json: one object per line)" })
      .option("data-dir", { global: false, type: "string", describe: "Keep script data and log files under DIR/<agent name> (default: a temporary directory, removed at exit)" })
      .option("script-wait-delay", { global: false, type: "string", default: "10s", describe: "How long a script's output may stay open after it exits before it counts as pipes_left_open" })
      .epilogue("Token auth reads CODER_AGENT_TOKEN or CODER_AGENT_TOKEN_FILE. Instance-identity auth needs a metadata URL: nothing here ever talks to 169.254.169.254.")
      .example("CODER_AGENT_URL=http://127.0.0.1:7080 CODER_AGENT_AUTH=aws-instance-identity CODER_AGENT_NAME=dev $0 agent --metadata-url http://127.0.0.1:9000", ""),
  run: async (args) => {
    const env = process.env;
    const url = args.url ?? env.CODER_AGENT_URL;
    if (!url) throw new UsageError("no coordinator URL", "set CODER_AGENT_URL or pass --url");
    try {
      new URL(url);
    } catch {
      throw new UsageError(`invalid coordinator URL ${JSON.stringify(url)}`, "e.g. --url http://127.0.0.1:7080");
    }
    const auth = (args.auth ?? env.CODER_AGENT_AUTH ?? "token") as (typeof AUTHS)[number];
    if (!AUTHS.includes(auth)) throw new UsageError(`unknown CODER_AGENT_AUTH ${JSON.stringify(auth)}`, `use one of ${AUTHS.join(", ")}`);
    const metadataUrl = args.metadataUrl ?? env.CODER_AGENT_METADATA_URL;
    if (auth !== "token" && !metadataUrl) {
      throw new UsageError(`${auth} needs the cloud metadata service URL`, "set CODER_AGENT_METADATA_URL or pass --metadata-url (e.g. the URL `provisioner imds` prints)");
    }
    const token = env.CODER_AGENT_TOKEN || undefined;
    const tokenFile = env.CODER_AGENT_TOKEN_FILE || undefined;
    if (auth === "token" && !token && !tokenFile) throw new UsageError("token auth needs a token", "set CODER_AGENT_TOKEN or CODER_AGENT_TOKEN_FILE, or use an instance-identity CODER_AGENT_AUTH");
    const agentName = args.agentName ?? env.CODER_AGENT_NAME;

    const { parseDuration } = await import("./duration.js");
    const scriptWaitDelayMs = parseDuration(args.scriptWaitDelay, "--script-wait-delay");
    const { runAgent, AgentAuthError, readTokenFile } = await import("../agent/run.js");
    // A token file that cannot be read is a usage error now, not at the first authentication.
    if (auth === "token" && !token && tokenFile) await readTokenFile(tokenFile);
    const { fileURLToPath } = await import("node:url");
    const cliPath = fileURLToPath(new URL("../../bin/provisioner.js", import.meta.url));
    const log = createLogger(args.logFormat, "agent");
    const controller = new AbortController();
    const stop = (signal: string) => {
      log({ level: "info", msg: "stopping", signal });
      controller.abort();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    try {
      await runAgent({ url, auth, token, tokenFile, agentName, metadataUrl, cliPath, dataDir: args.dataDir, scriptWaitDelayMs }, controller.signal, log);
    } catch (err) {
      if (err instanceof AgentAuthError) {
        const c = err.refusal;
        log({ level: "error", msg: "authentication refused", status: c.status, message: c.response.message, detail: c.response.detail });
        throw new CheckFailedError(
          `the coordinator refused the agent (${c.status}): ${c.response.message}${c.response.detail ? ` ${c.response.detail}` : ""}`,
          "E_AGENT_AUTH",
          c.status === 409 ? "set CODER_AGENT_NAME (or --agent-name) to one of the names above" : "check the agent token or identity, and that the workspace's latest build has this agent",
        );
      }
      if (controller.signal.aborted) return 0;
      throw err;
    }
    return 0;
  },
});
