import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { issueApiKey } from "../actor.js";
import { HttpError } from "../http-error.js";
import { openSse } from "../sse.js";
import type { App, RouteDeps } from "./context.js";

export function registerUserRoutes(app: App, deps: RouteDeps): void {
  const { store } = deps;

  // A session token for a user (coderd's route; here only the administrator issues them). Unknown users are created.
  app.post("/api/v2/users/:user/keys", deps.admin, async (c) => {
    const username = c.req.param("user")!;
    if (!/^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/.test(username) || username.length > 32) {
      throw HttpError.badRequest("Validation failed.", undefined, [{ field: "user", detail: "must be a username: letters, digits and single hyphens, at most 32 characters" }]);
    }
    const userId = await store.userId(store.db, username);
    return c.json({ key: await issueApiKey(store, userId) }, 201);
  });

  // SPEC §8 over Server-Sent Events: `event: data` messages of WorkspaceUpdate JSON, pings in between.
  app.get("/api/v2/users/me/workspace-updates", deps.actor, async (c) => {
    const actor = c.get("actor");
    const stream = openSse(c, deps.ssePingMs, deps.streams);
    const unsubscribe = await deps.updates.subscribe(actor, (u) => stream.send(u), (err) => {
      deps.log({ level: "warn", msg: "workspace updates failed", error: err.message });
      stream.end();
    });
    stream.onClose(unsubscribe);
    return RESPONSE_ALREADY_SENT;
  });
}
