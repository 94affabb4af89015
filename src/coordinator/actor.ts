import { createHash, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import { HttpError } from "./http-error.js";
import type { Store } from "./store.js";

/** Who calls a user-facing route: the administrator (admin token) or a user (session token). */
export type Actor = { kind: "admin" } | { kind: "user"; id: string; username: string };

/** Actions on a workspace (coderd's rbac: read to see it, ssh to open a connection to its agents). */
export type WorkspaceAction = "read" | "ssh";

/** coderd's session token lifetime (24 h). */
const API_KEY_LIFETIME_MS = 24 * 3600_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Issues a session token for a user, in coderd's `<10-char id>-<22-char secret>` shape; only the secret's hash is stored. */
export async function issueApiKey(store: Store, userId: string): Promise<string> {
  const id = randomBytes(8).toString("base64url").replace(/[-_]/g, "x").slice(0, 10);
  const secret = randomBytes(16).toString("base64url").replace(/[-_]/g, "x").slice(0, 22);
  await store.db.query("INSERT INTO api_keys (id, hashed_secret, user_id, expires_at) VALUES ($1, $2, $3, $4)", [id, sha256(secret), userId, new Date(Date.now() + API_KEY_LIFETIME_MS).toISOString()]);
  return `${id}-${secret}`;
}

/** Resolves the caller of a user-facing route; 401 without a valid admin or session token. `isAdmin` compares in constant time (adminTokenMatcher). */
export async function resolveActor(c: Context, store: Store, isAdmin: (token: string) => boolean): Promise<Actor> {
  const token = c.req.header(SESSION_TOKEN_HEADER) ?? c.req.query("coder_session_token");
  if (!token) throw HttpError.unauthorized("You must be logged in.", `Set the ${SESSION_TOKEN_HEADER} header to a session token (POST /api/v2/users/{user}/keys with the admin token issues one) or the admin token.`);
  if (isAdmin(token)) return { kind: "admin" };
  const m = /^([A-Za-z0-9]{10})-([A-Za-z0-9]{22})$/.exec(token);
  if (m) {
    const rows = await store.db.query<{ hashed_secret: string; user_id: string; username: string; expires_at: unknown }>(
      "SELECT k.hashed_secret, k.user_id, u.username, k.expires_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1",
      [m[1]],
    );
    const key = rows[0];
    if (key && key.hashed_secret === sha256(m[2]) && new Date(String(key.expires_at instanceof Date ? key.expires_at.toISOString() : key.expires_at)).getTime() > Date.now()) {
      return { kind: "user", id: key.user_id, username: key.username };
    }
  }
  throw HttpError.unauthorized("Invalid session token.", "The token is unknown or expired; issue a new one with POST /api/v2/users/{user}/keys.");
}

/** Owner: read and ssh; admin: everything; another user: 403. */
export function authorize(actor: Actor, workspace: { owner_id: string }, action: WorkspaceAction): void {
  if (actor.kind === "admin" || actor.id === workspace.owner_id) return;
  throw new HttpError(403, { message: "Forbidden.", detail: `You do not have ${action} permission on this workspace.` });
}

/** The owner of the workspace an agent belongs to (404 for an unknown agent). One query. */
export async function agentWorkspace(store: Store, agentId: string): Promise<{ workspace_id: string; owner_id: string; name: string }> {
  if (!/^[0-9a-f-]{36}$/i.test(agentId)) throw HttpError.badRequest(`Invalid UUID "${agentId}".`);
  const rows = await store.db.query<{ workspace_id: string; owner_id: string; name: string }>(
    `SELECT b.workspace_id, w.owner_id, a.name FROM workspace_agents a
       JOIN workspace_resources r ON r.id = a.resource_id
       JOIN workspace_builds b ON b.job_id = r.job_id
       JOIN workspaces w ON w.id = b.workspace_id
      WHERE a.id = $1`,
    [agentId],
  );
  if (!rows[0]) throw HttpError.notFound("Workspace agent not found.", `No agent with ID "${agentId}".`);
  return rows[0];
}

/** A build's job and its workspace's owner (404 for an unknown build). One query. */
export async function buildWorkspace(store: Store, buildId: string): Promise<{ job_id: string; owner_id: string }> {
  const rows = await store.db.query<{ job_id: string; owner_id: string }>(
    "SELECT b.job_id, w.owner_id FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id WHERE b.id = $1",
    [buildId],
  );
  if (!rows[0]) throw HttpError.notFound("Workspace build not found.", `No build with ID "${buildId}".`);
  return rows[0];
}
