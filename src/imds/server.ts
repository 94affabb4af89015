import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  awsIdentityDocument,
  loadOrCreateIdentityKeys,
  signAwsIdentityDocument,
  signAzureAttestedDocument,
  signGcpIdentityToken,
  type IdentityKeys,
} from "../identity/index.js";

export type ImdsCloud = "aws" | "azure" | "gcp";

export interface ImdsOptions {
  cloud: ImdsCloud;
  instanceId: string;
  /** HOST:PORT, default 127.0.0.1:0. */
  listen?: string;
  /** Where the signing keys live (created on first use). Default .provisioner/imds-keys. */
  keysDir?: string;
  keys?: IdentityKeys;
  region?: string;
  log?: (event: Record<string, unknown>) => void;
}

export interface RunningImds {
  url: string;
  cloud: ImdsCloud;
  instanceId: string;
  close(): Promise<void>;
}

const AWS_MAX_TTL = 21600;

function send(res: ServerResponse, status: number, body: string, type = "text/plain"): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A fake cloud metadata service for one instance, serving the identity routes agents read
 * (SPEC §2), signed with real keys. AWS requires an IMDSv2 session token like AWS does.
 */
export async function startImds(opts: ImdsOptions): Promise<RunningImds> {
  const keys = opts.keys ?? (await loadOrCreateIdentityKeys(opts.keysDir ?? ".provisioner/imds-keys"));
  const log = opts.log ?? (() => undefined);
  const awsTokens = new Map<string, number>();
  const awsDocument = awsIdentityDocument({ instanceId: opts.instanceId, region: opts.region });
  const awsSignature = signAwsIdentityDocument(keys, awsDocument);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://imds.local");
    const path = url.pathname;
    if (opts.cloud === "aws") {
      if (path === "/latest/api/token") {
        if (req.method !== "PUT") return send(res, 405, "Method Not Allowed");
        const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > AWS_MAX_TTL) return send(res, 400, "Bad Request");
        const token = randomBytes(32).toString("base64url");
        awsTokens.set(token, Date.now() + ttl * 1000);
        res.setHeader("X-aws-ec2-metadata-token-ttl-seconds", String(ttl));
        return send(res, 200, token);
      }
      const token = req.headers["x-aws-ec2-metadata-token"];
      const expires = typeof token === "string" ? awsTokens.get(token) : undefined;
      const routes: Record<string, string> = {
        "/latest/dynamic/instance-identity/document": awsDocument,
        "/latest/dynamic/instance-identity/signature": awsSignature,
        "/latest/meta-data/instance-id": opts.instanceId,
      };
      if (!(path in routes)) return send(res, 404, "Not Found");
      if (expires === undefined || expires < Date.now()) return send(res, 401, "Unauthorized");
      return send(res, 200, routes[path], path.endsWith("document") ? "application/json" : "text/plain");
    }
    if (opts.cloud === "azure") {
      if (req.headers.metadata !== "true") return send(res, 400, JSON.stringify({ error: "Bad request. Required metadata header not specified" }), "application/json");
      if (path === "/metadata/attested/document") {
        if (!url.searchParams.get("api-version")) return send(res, 400, JSON.stringify({ error: "Bad request. api-version was not specified in the request" }), "application/json");
        return send(res, 200, JSON.stringify(signAzureAttestedDocument(keys, { vmId: opts.instanceId })), "application/json");
      }
      if (path === "/metadata/instance/compute/vmId") return send(res, 200, opts.instanceId);
      return send(res, 404, JSON.stringify({ error: "Not found" }), "application/json");
    }
    if (req.headers["metadata-flavor"] !== "Google") return send(res, 403, "Missing Metadata-Flavor:Google header.");
    if (path === "/computeMetadata/v1/instance/service-accounts/default/identity") {
      const audience = url.searchParams.get("audience");
      if (!audience) return send(res, 400, "non-empty audience parameter required");
      return send(res, 200, await signGcpIdentityToken(keys, { instanceId: opts.instanceId, audience }));
    }
    if (path === "/computeMetadata/v1/instance/id") return send(res, 200, opts.instanceId);
    return send(res, 404, "Not Found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log({ level: "error", msg: "imds request failed", error: err.message });
      if (!res.headersSent) send(res, 500, "Internal Server Error");
    });
    res.on("finish", () => log({ level: "debug", msg: "imds request", method: req.method, path: req.url, status: res.statusCode }));
  });
  const [host, portText] = (opts.listen ?? "127.0.0.1:0").split(/:(?=\d+$)/);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(portText), host.replace(/^\[|\]$/g, ""), () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  log({ level: "info", msg: "imds listening", cloud: opts.cloud, instance_id: opts.instanceId, url });
  return {
    url,
    cloud: opts.cloud,
    instanceId: opts.instanceId,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
