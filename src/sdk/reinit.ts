import { z } from "zod";

/** Prebuilds system user (SPEC §3). Owns unclaimed prebuilt workspaces and initiates their builds. */
export const PREBUILDS_SYSTEM_USER_ID = "c42fdf75-3097-471c-8c33-fb52454d81c0";

export const REINIT_REASON_PREBUILD_CLAIMED = "prebuild_claimed";

export const prebuildClaimedChannel = (workspaceId: string): string => `prebuild_claimed_${workspaceId}`;

/** The reinit event as sent on the wire. */
export const ReinitEvent = z.object({
  workspace_id: z.string(),
  reason: z.string(),
  owner_id: z.string(),
});
export type ReinitEvent = z.infer<typeof ReinitEvent>;

/** Legacy field spellings clients must also accept. */
const LegacyReinitEvent = z.object({
  WorkspaceID: z.string(),
  Reason: z.string(),
  UserID: z.string().optional().default(""),
});

/**
 * Parses a reinit event in either spelling. `fallbackWorkspaceId` fills the workspace ID when the
 * payload is the legacy raw string (the whole payload is the reason).
 */
export function parseReinitEvent(payload: string, fallbackWorkspaceId: string): ReinitEvent {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { workspace_id: fallbackWorkspaceId, reason: payload, owner_id: "" };
  }
  const modern = ReinitEvent.safeParse(value);
  if (modern.success) return modern.data;
  const legacy = LegacyReinitEvent.safeParse(value);
  if (legacy.success) return { workspace_id: legacy.data.WorkspaceID, reason: legacy.data.Reason, owner_id: legacy.data.UserID };
  if (typeof value === "string") return { workspace_id: fallbackWorkspaceId, reason: value, owner_id: "" };
  throw new Error(`unrecognised reinit event payload: ${payload.slice(0, 200)}`);
}
