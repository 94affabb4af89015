import { SseParser } from "../agent/sse.js";
import { AdminClient } from "../sdk/admin-client.js";
import { NotFoundError } from "../sdk/client-errors.js";
import { agentLogLine, provisionerLogLine, type ProvisionerJobLog, type WorkspaceAgentLog } from "../sdk/logs.js";

export class LogsNotFoundError extends Error {}

interface LogsRequest {
  url: string;
  token: string;
  id: string;
  after: number;
  format: "text" | "json";
}

/** Runs `read` for the agent with that ID, else for the build (the IDs never collide). */
async function agentOrBuild<T>(req: LogsRequest, read: (kind: "agent" | "build") => Promise<T>): Promise<{ kind: "agent" | "build"; value: T }> {
  for (const kind of ["agent", "build"] as const) {
    try {
      return { kind, value: await read(kind) };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  throw new LogsNotFoundError(`no workspace agent or build with ID ${req.id}`);
}

/** Prints the logs once: text exactly as the server's format=text, or the JSON array. */
export async function fetchLogs(req: LogsRequest, out: (s: string) => void): Promise<void> {
  const client = new AdminClient(req.url, req.token);
  const { value } = await agentOrBuild(req, async (kind) => {
    if (req.format === "text") return kind === "agent" ? client.agentLogsText(req.id, req.after) : client.buildLogsText(req.id, req.after);
    return JSON.stringify(kind === "agent" ? await client.agentLogs(req.id, req.after) : await client.buildLogs(req.id, req.after));
  });
  if (value !== "") out(value + "\n");
}

/**
 * Follows the logs (the server streams JSON arrays as SSE): text lines rendered as the server's
 * format=text renders them, or one JSON object per line. A build's stream ends with its job.
 */
export async function followLogs(req: LogsRequest, out: (s: string) => void): Promise<void> {
  const client = new AdminClient(req.url, req.token);
  const { kind, value: res } = await agentOrBuild(req, (k) => client.open(`/api/v2/${k === "agent" ? "workspaceagents" : "workspacebuilds"}/${req.id}/logs?follow&after=${req.after}`));
  let agent: { name: string; sources: Map<string, string> } | undefined;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (ev.event !== "data") continue;
      const logs = JSON.parse(ev.data) as (WorkspaceAgentLog | ProvisionerJobLog)[];
      if (req.format === "json") out(logs.map((l) => JSON.stringify(l) + "\n").join(""));
      else if (kind === "build") out(logs.map((l) => provisionerLogLine(l as ProvisionerJobLog) + "\n").join(""));
      else {
        // Sources may be registered after the stream started.
        if (!agent || (logs as WorkspaceAgentLog[]).some((l) => !agent!.sources.has(l.source_id))) {
          const a = await client.agent(req.id);
          agent = { name: a.name, sources: new Map(a.log_sources.map((s) => [s.id, s.display_name])) };
        }
        out((logs as WorkspaceAgentLog[]).map((l) => agentLogLine(l, agent!.name, agent!.sources.get(l.source_id) ?? l.source_id) + "\n").join(""));
      }
    }
  }
}
