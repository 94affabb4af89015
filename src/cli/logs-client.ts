import { SseParser } from "../agent/sse.js";
import { SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import { clientErrorFromResponse, NetworkError, NotFoundError } from "../sdk/client-errors.js";
import { agentLogLine, provisionerLogLine, type ProvisionerJobLog, type WorkspaceAgentLog } from "../sdk/logs.js";

export class LogsNotFoundError extends Error {}

interface LogsRequest {
  url: string;
  token: string;
  id: string;
  after: number;
  format: "text" | "json";
}

async function get(req: LogsRequest, path: string): Promise<Response> {
  const url = new URL(path, req.url).toString();
  let res: Response;
  try {
    res = await fetch(url, { headers: { [SESSION_TOKEN_HEADER]: req.token } });
  } catch (err) {
    throw new NetworkError(url, err);
  }
  if (!res.ok) throw await clientErrorFromResponse(res);
  return res;
}

/** The logs route of an ID: an agent's first, then a build's (the IDs never collide). */
async function resolve(req: LogsRequest, query: string): Promise<{ kind: "agent" | "build"; res: Response }> {
  for (const kind of ["agent", "build"] as const) {
    try {
      return { kind, res: await get(req, `/api/v2/${kind === "agent" ? "workspaceagents" : "workspacebuilds"}/${req.id}/logs?${query}`) };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  throw new LogsNotFoundError(`no workspace agent or build with ID ${req.id}`);
}

/** Prints the logs once: text exactly as the server's format=text, or the JSON array. */
export async function fetchLogs(req: LogsRequest, out: (s: string) => void): Promise<void> {
  const { res } = await resolve(req, `format=${req.format}&after=${req.after}`);
  const body = await res.text();
  if (body !== "") out(req.format === "json" ? body.trimEnd() + "\n" : body + "\n");
}

/**
 * Follows the logs (the server streams JSON arrays as SSE): text lines rendered as the server's
 * format=text renders them, or one JSON object per line. A build's stream ends with its job.
 */
export async function followLogs(req: LogsRequest, out: (s: string) => void): Promise<void> {
  const { kind, res } = await resolve(req, `follow&after=${req.after}`);
  let agent: { name: string; sources: Map<string, string> } | undefined;
  const agentInfo = async () => {
    const a = (await (await get(req, `/api/v2/workspaceagents/${req.id}`)).json()) as { name: string; log_sources: { id: string; display_name: string }[] };
    return { name: a.name, sources: new Map(a.log_sources.map((s) => [s.id, s.display_name])) };
  };
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (ev.event !== "data") continue;
      const logs = JSON.parse(ev.data) as (WorkspaceAgentLog | ProvisionerJobLog)[];
      if (req.format === "json") {
        out(logs.map((l) => JSON.stringify(l) + "\n").join(""));
        continue;
      }
      if (kind === "build") {
        out(logs.map((l) => provisionerLogLine(l as ProvisionerJobLog) + "\n").join(""));
        continue;
      }
      // Sources may be registered after the stream started.
      if (!agent || (logs as WorkspaceAgentLog[]).some((l) => !agent!.sources.has(l.source_id))) agent = await agentInfo();
      out((logs as WorkspaceAgentLog[]).map((l) => agentLogLine(l, agent!.name, agent!.sources.get(l.source_id) ?? l.source_id) + "\n").join(""));
    }
  }
}
