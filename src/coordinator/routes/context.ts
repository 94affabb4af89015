import type { Context, Hono } from "hono";
import type { Actor } from "../actor.js";
import type { LogStore } from "../logs.js";
import type { Pubsub } from "../pubsub.js";
import type { SseStream } from "../sse.js";
import type { AgentIdentity, Store } from "../store.js";
import type { WorkspaceUpdates } from "../workspace-updates.js";

export type AppEnv = { Variables: { agent: AgentIdentity; actor: Actor } };
export type App = Hono<AppEnv>;
export type AppContext = Context<AppEnv>;

/** What the issue-12 route groups (logs, timings, apps, containers, workspace updates, users) share. */
export interface RouteDeps {
  store: Store;
  logs: LogStore;
  pubsub: Pubsub;
  updates: WorkspaceUpdates;
  log: (event: Record<string, unknown>) => void;
  /** Open SSE streams (ended on shutdown). */
  streams: Set<SseStream>;
  ssePingMs: number;
  /** Middleware: resolves the caller of a user-facing route (admin or session token) into `actor`. */
  actor: (c: AppContext, next: () => Promise<void>) => Promise<void>;
  /** Middleware: the admin token only. */
  admin: (c: AppContext, next: () => Promise<void>) => Promise<void>;
}
