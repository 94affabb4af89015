import pg from "pg";
import { Backoff, sleep } from "../agent/backoff.js";
import type { Transaction } from "./db/index.js";

/** Postgres NOTIFY payloads must be shorter than 8000 bytes; channel names at most 63 bytes. */
export const MAX_PAYLOAD_BYTES = 8000;
export const MAX_CHANNEL_BYTES = 63;

export type Listener = (payload: string) => void;

/** Publish/subscribe between the coordinator's handlers, and across replicas when they share Postgres. */
export interface Pubsub {
  /** Resolves once the subscription is active; returns the unsubscribe function. */
  subscribe(channel: string, listener: Listener): Promise<() => void>;
  /**
   * Publishes now, or — given a transaction — if and only if it commits: Postgres sends a NOTIFY
   * issued inside a transaction at commit, so a replica dying right after the commit loses nothing.
   */
  publish(channel: string, payload: string, tx?: Transaction): Promise<void>;
  /** Called after the pubsub lost and re-established its connection (events may have been missed). */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

export function checkMessage(channel: string, payload: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(channel) || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
    throw new Error(`invalid pubsub channel ${JSON.stringify(channel)}: use [A-Za-z0-9_-], at most ${MAX_CHANNEL_BYTES} bytes`);
  }
  const size = Buffer.byteLength(payload);
  if (size >= MAX_PAYLOAD_BYTES) throw new Error(`pubsub payload of ${size} bytes on ${channel} is too large: Postgres NOTIFY takes less than ${MAX_PAYLOAD_BYTES} bytes`);
}

/** For the embedded database: everything happens in this process. */
export class InProcessPubsub implements Pubsub {
  private readonly channels = new Map<string, Set<Listener>>();

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    checkMessage(channel, "");
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.channels.delete(channel);
    };
  }

  async publish(channel: string, payload: string, tx?: Transaction): Promise<void> {
    checkMessage(channel, payload);
    const deliver = () => {
      for (const l of [...(this.channels.get(channel) ?? [])]) queueMicrotask(() => l(payload));
    };
    if (tx) tx.afterCommit(deliver);
    else deliver();
  }

  onReconnect(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}

/**
 * LISTEN/NOTIFY on a shared Postgres: one listener connection per replica, reconnecting with
 * backoff and re-listening every channel. NOTIFY goes through the query pool (parameterised pg_notify).
 */
export class PostgresPubsub implements Pubsub {
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private readonly channels = new Map<string, Set<Listener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private closed = false;
  private readonly closing = new AbortController();
  private everConnected = false;

  constructor(
    private readonly url: string,
    private readonly notify: (channel: string, payload: string) => Promise<unknown>,
    private readonly log: (e: Record<string, unknown>) => void,
  ) {}

  /** The backend PID of the listener connection (tests terminate it to simulate a drop). */
  async listenerPid(): Promise<number> {
    await this.connection();
    return (this.client as unknown as { processID: number }).processID;
  }

  private connection(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const backoff = new Backoff(100, 5_000);
    for (let attempt = 0; !this.closed; attempt++) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
      try {
        await client.connect();
        client.on("notification", (n) => {
          for (const l of [...(this.channels.get(n.channel) ?? [])]) l(n.payload ?? "");
        });
        client.on("error", (err) => this.lost(client, err));
        client.on("end", () => this.lost(client, new Error("connection ended")));
        for (const channel of this.channels.keys()) await client.query(`LISTEN "${channel}"`);
        this.client = client;
        if (attempt > 0 || this.everConnected) {
          this.log({ level: "info", msg: "pubsub listener reconnected", channels: this.channels.size });
          for (const l of [...this.reconnectListeners]) l();
        }
        this.everConnected = true;
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        const delay = backoff.next();
        this.log({ level: "warn", msg: "pubsub listener connect failed", error: (err as Error).message, retry_in_ms: delay });
        await sleep(delay, this.closing.signal);
      }
    }
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.log({ level: "warn", msg: "pubsub listener connection lost", error: err.message });
    void this.connection();
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    checkMessage(channel, "");
    let set = this.channels.get(channel);
    const first = !set;
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(listener);
    // Until the listener first connects, wait for it. While it reconnects, do not: the reconnect
    // LISTENs every channel and then runs the reconnect listeners (the durable checks).
    if (!this.everConnected) await this.connection();
    else void this.connection();
    const client = this.client;
    if (first && client) await client.query(`LISTEN "${channel}"`).catch((err: Error) => this.lost(client, err));
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.channels.get(channel) === set) {
        this.channels.delete(channel);
        this.client?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
      }
    };
  }

  async publish(channel: string, payload: string, tx?: Transaction): Promise<void> {
    checkMessage(channel, payload);
    if (tx) await tx.query("SELECT pg_notify($1, $2)", [channel, payload]);
    else await this.notify(channel, payload);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
