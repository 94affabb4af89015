import { defineCommand } from "./command.js";
import { CheckFailedError, UsageError } from "./errors.js";

const STATES = ["working", "idle", "complete", "failure"] as const;

/** `provisioner agent app-status`: what a script inside a workspace runs to report an app's status (SPEC §6). */
export const agentAppStatusCommand = defineCommand({
  command: "app-status",
  describe: "Report an app's status from inside the workspace (PATCH /api/v2/workspaceagents/me/app-status)",
  builder: (y) =>
    y
      .option("app", { type: "string", demandOption: true, describe: "The app's slug (a coder_app of this agent)" })
      .option("state", { choices: STATES, demandOption: true, describe: "working | idle | complete | failure" })
      .option("message", { type: "string", default: "", describe: "What the app is doing (at most 160 characters)" })
      .option("uri", { type: "string", default: "", describe: "A link for the status (e.g. a pull request)" })
      .option("url", { type: "string", describe: "Coordinator URL [env: CODER_AGENT_URL]" })
      .epilogue("Reads the agent token from CODER_AGENT_TOKEN (or CODER_AGENT_TOKEN_FILE): the agent sets both CODER_AGENT_URL and CODER_AGENT_TOKEN for the scripts it runs.")
      .example("$0 agent app-status --app code-server --state working --message 'Installing extensions'", ""),
  run: async (args) => {
    const url = args.url ?? process.env.CODER_AGENT_URL;
    if (!url) throw new UsageError("no coordinator URL", "run it from a script the agent started, or set CODER_AGENT_URL / pass --url");
    let token = process.env.CODER_AGENT_TOKEN;
    if (!token && process.env.CODER_AGENT_TOKEN_FILE) {
      const { readFile } = await import("node:fs/promises");
      token = (await readFile(process.env.CODER_AGENT_TOKEN_FILE, "utf8")).trim();
    }
    if (!token) throw new UsageError("no agent token", "run it from a script the agent started, or set CODER_AGENT_TOKEN");
    const { SESSION_TOKEN_HEADER } = await import("../sdk/auth.js");
    const { clientErrorFromResponse } = await import("../sdk/client-errors.js");
    let res: Response;
    try {
      res = await fetch(new URL("/api/v2/workspaceagents/me/app-status", url), {
        method: "PATCH",
        headers: { [SESSION_TOKEN_HEADER]: token, "Content-Type": "application/json" },
        body: JSON.stringify({ app_slug: args.app, state: args.state, message: args.message, uri: args.uri }),
      });
    } catch (err) {
      throw new CheckFailedError(`cannot reach ${url}: ${(err as Error).message}`, "E_UNREACHABLE", "check CODER_AGENT_URL");
    }
    if (!res.ok) {
      const err = await clientErrorFromResponse(res);
      const detail = err.response.detail ? ` ${err.response.detail}` : "";
      if (err.status === 400) throw new UsageError(`app status refused: ${err.response.message}${detail}`, "check --app (a coder_app slug of this agent) and --message (at most 160 characters)");
      throw new CheckFailedError(`app status refused (${err.status}): ${err.response.message}${detail}`, "E_APP_STATUS");
    }
    return 0;
  },
});
