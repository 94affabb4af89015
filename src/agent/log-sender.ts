import type { LogLevel } from "../sdk/logs.js";
import { SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import { clientErrorFromResponse, isRetryable, NetworkError, PayloadTooLargeError } from "../sdk/client-errors.js";
import { Backoff, sleep } from "./backoff.js";

interface Entry {
  created_at: string;
  output: string;
  level: LogLevel;
}

/** Lines and bytes per request: well under the coordinator's 1 MiB body limit. */
const MAX_BATCH_LINES = 1000;
const MAX_BATCH_BYTES = 256 << 10;
const FLUSH_INTERVAL_MS = 100;

/**
 * Ships log lines to `PATCH /api/v2/workspaceagents/me/logs`, batched per log source (`undefined`:
 * the agent's default source), in order, retrying network errors. Once the coordinator answers 413
 * (the agent's 1 MiB cap), further logs are dropped, as Coder's agent does.
 */
export class LogSender {
  private readonly queues = new Map<string | undefined, Entry[]>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  overflowed = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly onError: (err: Error) => void,
    private readonly signal?: AbortSignal,
  ) {}

  enqueue(sourceId: string | undefined, output: string, level: LogLevel = "info", at = new Date()): void {
    if (this.overflowed) return;
    let q = this.queues.get(sourceId);
    if (!q) this.queues.set(sourceId, (q = []));
    q.push({ created_at: at.toISOString(), output, level });
    if (q.length >= MAX_BATCH_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Sends everything queued so far; resolves when it is stored (or dropped). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batches: [string | undefined, Entry[]][] = [];
    for (const [source, entries] of this.queues) {
      let batch: Entry[] = [];
      let bytes = 0;
      for (const e of entries) {
        const size = Buffer.byteLength(e.output) + 64;
        if (batch.length > 0 && (batch.length >= MAX_BATCH_LINES || bytes + size > MAX_BATCH_BYTES)) {
          batches.push([source, batch]);
          batch = [];
          bytes = 0;
        }
        batch.push(e);
        bytes += size;
      }
      if (batch.length > 0) batches.push([source, batch]);
    }
    this.queues.clear();
    this.sending = this.sending.then(async () => {
      for (const [source, logs] of batches) await this.send(source, logs);
    });
    return this.sending;
  }

  private async send(sourceId: string | undefined, logs: Entry[]): Promise<void> {
    const backoff = new Backoff();
    while (!this.overflowed) {
      try {
        const res = await fetch(new URL("/api/v2/workspaceagents/me/logs", this.url), {
          method: "PATCH",
          headers: { [SESSION_TOKEN_HEADER]: this.token, "Content-Type": "application/json" },
          body: JSON.stringify(sourceId ? { log_source_id: sourceId, logs } : { logs }),
        });
        if (res.ok) {
          await res.body?.cancel();
          return;
        }
        throw await clientErrorFromResponse(res);
      } catch (raw) {
        const err = raw instanceof TypeError ? new NetworkError("logs", raw) : (raw as Error);
        if (err instanceof PayloadTooLargeError) {
          this.overflowed = true;
          this.onError(new Error(`log limit exceeded, further logs are dropped: ${err.message}`));
          return;
        }
        if (!isRetryable(err) || this.signal?.aborted) {
          this.onError(err);
          return;
        }
        await sleep(backoff.next(), this.signal);
      }
    }
  }
}
