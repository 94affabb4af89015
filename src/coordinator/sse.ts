import type { Context } from "hono";
import type { ServerResponse } from "node:http";
import { HttpError } from "./http-error.js";

export interface SseStream {
  /** Writes one `event: data` carrying JSON. */
  send(value: unknown): void;
  /** Ends the stream (idempotent). */
  end(): void;
  readonly closed: boolean;
  /** Runs when the stream ends, from either side. */
  onClose(fn: () => void): void;
}

/**
 * Opens a Server-Sent-Events response on the raw Node response, with pings written as coderd writes
 * them (`event: ping` and an empty data line).
 */
export function openSse(c: Context, pingMs: number, streams: Set<SseStream>): SseStream {
  const res = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!res) throw new HttpError(500, { message: "Streaming is not available on this server." });
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const closers: (() => void)[] = [];
  const ping = setInterval(() => res.write("event: ping\ndata: \n\n"), pingMs);
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    streams.delete(stream);
    if (!res.writableEnded) res.end();
    for (const fn of closers.splice(0)) fn();
  };
  const stream: SseStream = {
    send: (value) => {
      if (!closed) res.write(`event: data\ndata: ${JSON.stringify(value)}\n\n`);
    },
    end: finish,
    get closed() {
      return closed;
    },
    onClose: (fn) => (closed ? fn() : closers.push(fn)),
  };
  streams.add(stream);
  res.on("close", finish);
  // A client that left while the route was still querying: its 'close' has fired already.
  if (res.destroyed) finish();
  return stream;
}
