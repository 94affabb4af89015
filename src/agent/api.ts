import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SESSION_TOKEN_HEADER } from "../sdk/auth.js";
import type { ListContainersResponse } from "../sdk/containers.js";
import { listContainers } from "./containers.js";
import type { Devcontainers } from "./devcontainers.js";

/**
 * The agent's own HTTP API (coderd reaches it over tailnet; here the coordinator calls it on
 * loopback with the agent's token): `GET /api/v0/containers`, `POST
 * /api/v0/containers/devcontainers/{id}/recreate`.
 */
export async function startAgentApi(opts: { token: string; devcontainers: Devcontainers; env: NodeJS.ProcessEnv; host?: string }): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers[SESSION_TOKEN_HEADER.toLowerCase()] !== opts.token) return reply(401, { message: "Unauthorized.", detail: "The agent API takes the agent's token." });
    const path = new URL(req.url ?? "/", "http://agent").pathname;
    if (req.method === "GET" && path === "/api/v0/containers") {
      listContainers(opts.env).then(
        ({ containers, warnings }) => {
          const body: ListContainersResponse = { devcontainers: opts.devcontainers.list(containers), containers, ...(warnings.length > 0 ? { warnings } : {}) };
          reply(200, body);
        },
        (err: Error) => reply(500, { message: "Could not get containers.", detail: err.message }),
      );
      return;
    }
    const m = /^\/api\/v0\/containers\/devcontainers\/([^/]+)\/recreate$/.exec(path);
    if (req.method === "POST" && m) {
      const r = opts.devcontainers.recreate(decodeURIComponent(m[1]));
      return reply(r.status, r.body);
    }
    reply(404, { message: "Route not found." });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
