import { z } from "zod";

/** Prebuilds system user (SPEC §3). Owns unclaimed prebuilt workspaces and initiates their builds. */
export const PREBUILDS_SYSTEM_USER_ID = "c42fdf75-3097-471c-8c33-fb52454d81c0";

export const REINIT_REASON_PREBUILD_CLAIMED = "prebuild_claimed";

export const prebuildClaimedChannel = (workspaceId: string): string => `prebuild_claimed_${workspaceId}`;

/** The reinit event as sent on the wire (coderd's tagged struct: workspace_id, reason, user_id = the new owner). */
export const ReinitEvent = z.object({
  workspace_id: z.string(),
  reason: z.string(),
  user_id: z.string(),
});
export type ReinitEvent = z.infer<typeof ReinitEvent>;

/** SSE event types of the reinit stream: `ping` (no data line), `data` (the event), `error` (a Coder response; the stream ends). */
export const REINIT_SSE = { ping: "ping", data: "data", error: "error" } as const;

/** Message of the 409 (and of the stream's error event) when the claim build failed. */
export const CLAIM_BUILD_FAILED = "Claim build failed permanently.";

/**
 * Parses a reinit event in any spelling coderd has used. Keys match case-insensitively, as Go's JSON
 * decoder does: workspace_id/WorkspaceID, reason, user_id/UserID/owner_id. A payload that is a bare
 * string (raw or JSON) is the legacy form: the whole payload is the reason and `fallbackWorkspaceId`
 * fills the workspace.
 */
export function parseReinitEvent(payload: string, fallbackWorkspaceId: string): ReinitEvent {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { workspace_id: fallbackWorkspaceId, reason: payload, user_id: "" };
  }
  if (typeof value === "string") return { workspace_id: fallbackWorkspaceId, reason: value, user_id: "" };
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`unrecognised reinit event payload: ${payload.slice(0, 200)}`);
  const fields = new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
  const text = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const v = fields.get(k);
      if (typeof v === "string") return v;
    }
    return undefined;
  };
  const reason = text("reason");
  if (reason === undefined) throw new Error(`reinit event payload has no reason: ${payload.slice(0, 200)}`);
  return { workspace_id: text("workspace_id", "workspaceid") ?? fallbackWorkspaceId, reason, user_id: text("user_id", "userid", "owner_id", "ownerid") ?? "" };
}
