import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/agent/backoff.js";
import { fetchIdentity } from "../../src/agent/metadata.js";
import { identityRequestBody } from "../../src/agent/run.js";
import { loginShell } from "../../src/agent/scripts.js";
import { SseParser } from "../../src/agent/sse.js";
import { parseReinitEvent } from "../../src/sdk/reinit.js";

describe("agent building blocks", () => {
  it("runs scripts in the user's login shell from /etc/passwd, as Coder's agent does; sh when there is none", () => {
    const root = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("root:"))!.split(":")[6];
    expect(loginShell("root")).toBe(/(nologin|false)$/.test(root) ? "/bin/sh" : root);
    expect(loginShell("no-such-user-here")).toBe("/bin/sh");
  });

  it("backs off from 100 ms doubling to 10 s, within ±20 % jitter", () => {
    const low = new Backoff(100, 10_000, () => 0);
    const high = new Backoff(100, 10_000, () => 0.999999);
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(lows).toEqual([80, 160, 320, 640, 1280, 2560, 5120, 8000, 8000, 8000]);
    expect(highs).toEqual([120, 240, 480, 960, 1920, 3840, 7680, 10000, 10000, 10000]);
    low.reset();
    expect(low.next()).toBe(80);
  });

  it("sends agent_name only when set", () => {
    expect(identityRequestBody({ document: "d", signature: "s" }, undefined)).toEqual({ document: "d", signature: "s" });
    expect("agent_name" in identityRequestBody({ document: "d" }, "   ")).toBe(false);
    expect(identityRequestBody({ document: "d" }, " dev ")).toEqual({ document: "d", agent_name: "dev" });
  });

  it("parses server-sent events split across chunks, CRLF and comments", () => {
    const p = new SseParser();
    expect(p.push("event: ping\ndata: \n\n: comment\nevent: da")).toEqual([{ event: "ping", data: "" }]);
    expect(p.push('ta\r\ndata: {"a":\r\ndata: 1}\r\n\r\n')).toEqual([{ event: "data", data: '{"a":\n1}' }]);
  });

  it("accepts every reinit field spelling of SPEC §3, keys case-insensitively, and the legacy raw string", () => {
    const want = { workspace_id: "w", reason: "prebuild_claimed", user_id: "o" };
    for (const payload of [
      '{"workspace_id":"w","reason":"prebuild_claimed","user_id":"o"}',
      '{"workspace_id":"w","reason":"prebuild_claimed","owner_id":"o"}',
      '{"WorkspaceID":"w","Reason":"prebuild_claimed","UserID":"o"}',
      '{"workspaceid":"w","REASON":"prebuild_claimed","userId":"o"}',
      '{"Workspace_ID":"w","Reason":"prebuild_claimed","Owner_Id":"o","extra":1}',
    ]) {
      expect(parseReinitEvent(payload, "x"), payload).toEqual(want);
    }
    expect(parseReinitEvent("prebuild_claimed", "fallback")).toEqual({ workspace_id: "fallback", reason: "prebuild_claimed", user_id: "" });
    expect(parseReinitEvent('"prebuild_claimed"', "fallback")).toEqual({ workspace_id: "fallback", reason: "prebuild_claimed", user_id: "" });
    expect(() => parseReinitEvent('{"workspace_id":"w"}', "x")).toThrow(/no reason/);
  });

  it("fetches the AWS identity with IMDSv2 headers exactly as SPEC §2 says", async () => {
    const seen: { method?: string; url?: string; headers: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      res.end(req.url === "/latest/api/token" ? "TOKEN" : req.url!.endsWith("signature") ? "SIG" : "DOC");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await fetchIdentity("aws-instance-identity", base)).toEqual({ signature: "SIG", document: "DOC" });
    } finally {
      server.close();
    }
    expect(seen[0]).toMatchObject({ method: "PUT", url: "/latest/api/token", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } });
    expect(seen.slice(1).map((s) => [s.method, s.url, s.headers["x-aws-ec2-metadata-token"]])).toEqual([
      ["GET", "/latest/dynamic/instance-identity/signature", "TOKEN"],
      ["GET", "/latest/dynamic/instance-identity/document", "TOKEN"],
    ]);
  });
});
