import { SseParser, type SseEvent } from "../../../src/agent/sse.js";

/** A real HTTP client of the reinit stream, recording status, headers and events. */
export interface ReinitStream {
  status: number;
  headers: Headers;
  body: string;
  events: SseEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  nextData(timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export async function openReinit(baseUrl: string, token: string): Promise<ReinitStream> {
  const controller = new AbortController();
  const res = await fetch(new URL("/api/v2/workspaceagents/me/reinit?wait=true", baseUrl), { headers: { "Coder-Session-Token": token }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  const stream: ReinitStream = {
    status: res.status,
    headers: res.headers,
    body: "",
    events,
    ended: Promise.resolve(),
    async nextData(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ev = events.find((e) => e.event === "data");
        if (ev) return JSON.parse(ev.data) as Record<string, unknown>;
        if (Date.now() > deadline) throw new Error(`no data event within ${timeoutMs} ms (events: ${JSON.stringify(events)})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => controller.abort(),
  };
  if (res.status !== 200 || !res.body) {
    stream.body = await res.text();
    return stream;
  }
  const parser = new SseParser();
  const decoder = new TextDecoder();
  stream.ended = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        events.push(...parser.push(decoder.decode(chunk, { stream: true })));
        waiters.splice(0).forEach((w) => w());
      }
    } catch {
      // aborted by close()
    }
  })();
  return stream;
}

/** Resolves false if no data event arrived within `ms`. */
export async function noDataWithin(stream: ReinitStream, ms: number): Promise<boolean> {
  await new Promise((r) => setTimeout(r, ms));
  return !stream.events.some((e) => e.event === "data");
}
