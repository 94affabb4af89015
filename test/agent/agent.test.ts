import { randomUUID } from "node:crypto";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/index.js";
import { loadOrCreateIdentityKeys, trustFromKeys, type IdentityKeys } from "../../src/identity/index.js";
import { startImds, type RunningImds } from "../../src/imds/server.js";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { runCli } from "../support/cli.js";
import { spawnCli, type Spawned } from "../support/process.js";
import { tempDir } from "../support/tmp.js";

/** A loopback proxy in front of the coordinator that counts reinit requests. */
async function countingProxy(target: string): Promise<{ url: string; reinitRequests: () => number; close: () => void }> {
  let reinit = 0;
  const t = new URL(target);
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/api/v2/workspaceagents/me/reinit")) reinit++;
    const upstream = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reinitRequests: () => reinit,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe("provisioner agent against imds + coordinator (real processes and servers)", { timeout: 90_000 }, () => {
  let coord: RunningCoordinator;
  let admin: AdminClient;
  let keys: IdentityKeys;
  const imdses: RunningImds[] = [];
  const agents: Spawned[] = [];

  beforeAll(async () => {
    keys = await loadOrCreateIdentityKeys(join(tempDir("agent-"), "keys"));
    coord = await startCoordinator({ listen: "127.0.0.1:0", db: "memory", trust: trustFromKeys(keys), adminToken: "admin", ssePingMs: 1000 });
    admin = new AdminClient(coord.url, "admin");
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all(imdses.map((i) => i.close()));
    await coord?.close();
  });

  async function instance(cloud: "aws" | "azure" | "gcp", id: string): Promise<string> {
    const imds = await startImds({ cloud, instanceId: id, keys });
    imdses.push(imds);
    return imds.url;
  }
  function agent(env: Record<string, string | undefined>, url = coord.url): Spawned {
    const a = spawnCli(["agent", "--log-format", "json"], { CODER_AGENT_URL: url, ...env });
    agents.push(a);
    return a;
  }
  async function waitForLifecycle(agentId: string, state: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = await admin.agent(agentId);
      if (a.lifecycle_state === state) return a;
      if (Date.now() > deadline) throw new Error(`agent ${a.name} is ${a.lifecycle_state}, not ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  for (const cloud of ["aws", "azure", "gcp"] as const) {
    it(`${cloud}: reaches ready as the agent named by CODER_AGENT_NAME`, async () => {
      const id = cloud === "aws" ? "i-0aaaaaaaaaaaaaaa1" : cloud === "gcp" ? "7000000000000001" : randomUUID();
      const metadata = await instance(cloud, id);
      const auth = ({ aws: "aws-instance-identity", azure: "azure-instance-identity", gcp: "google-instance-identity" } as const)[cloud];
      const ws = await admin.createWorkspace({ name: `ws-${cloud}`, resources: [{ type: "vm", name: "dev", instance_id: id, agents: [{ name: "main", auth }, { name: "dev", auth }] }] });
      const a = agent({ CODER_AGENT_AUTH: auth, CODER_AGENT_NAME: "dev", CODER_AGENT_METADATA_URL: metadata });
      await a.waitFor(/"msg":"agent ready"/);
      const dev = ws.agents.find((x) => x.name === "dev")!;
      const state = await waitForLifecycle(dev.id, "ready");
      expect(state.status).toBe("connected");
      expect((await admin.agent(ws.agents.find((x) => x.name === "main")!.id)).lifecycle_state).toBe("created");
      expect(a.lines.find((l) => l.includes('"msg":"manifest"'))).toContain('"agent_name":"dev"');
      expect(await a.stop()).toBe(0);
      expect((await admin.agent(dev.id)).lifecycle_state).toBe("off");
    });
  }

  it("without CODER_AGENT_NAME on a two-agent instance: exits non-zero printing the 409 message", async () => {
    const id = "i-0bbbbbbbbbbbbbbb2";
    const metadata = await instance("aws", id);
    await admin.createWorkspace({ name: "two", resources: [{ type: "vm", name: "dev", instance_id: id, agents: [{ name: "main", auth: "aws-instance-identity" }, { name: "dev", auth: "aws-instance-identity" }] }] });
    const a = agent({ CODER_AGENT_AUTH: "aws-instance-identity", CODER_AGENT_METADATA_URL: metadata, CODER_AGENT_NAME: undefined });
    expect(await a.exited).toBe(1);
    expect(a.lines.join("\n")).toContain(`Multiple agents found with instance ID "${id}". Set CODER_AGENT_NAME to one of: dev, main`);
  });

  it("token auth works, and on a regular workspace the agent stops polling reinit after the 409", async () => {
    const ws = await admin.createWorkspace({ name: "regular", owner: "ann", resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] });
    const proxy = await countingProxy(coord.url);
    try {
      const a = agent({ CODER_AGENT_AUTH: "token", CODER_AGENT_TOKEN: ws.agents[0].auth_token }, proxy.url);
      await a.waitFor(/reinit not applicable, polling stopped/);
      await waitForLifecycle(ws.agents[0].id, "ready");
      await new Promise((r) => setTimeout(r, 1500));
      expect(proxy.reinitRequests()).toBe(1);
      expect(await a.stop()).toBe(0);
    } finally {
      proxy.close();
    }
  });

  it("a claim build that fails: the open stream ends with the 409 and the agent stops polling, still running", async () => {
    const ws = await admin.createWorkspace({ name: "pb-fail", prebuild: true, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] });
    const proxy = await countingProxy(coord.url);
    try {
      const a = agent({ CODER_AGENT_AUTH: "token", CODER_AGENT_TOKEN: ws.agents[0].auth_token }, proxy.url);
      await a.waitFor(/"msg":"agent ready"/);
      const claimed = await admin.claim(ws.id, { owner: "ursula", job: "running" });
      await new Promise((r) => setTimeout(r, 300));
      await admin.completeJob(claimed.build.job_id, { status: "failed", error: "apply failed" });
      const line = await a.waitFor(/reinit not applicable, polling stopped/);
      expect(line).toContain("Claim build failed permanently.");
      expect(line).toContain("apply failed");
      const requests = proxy.reinitRequests();
      await new Promise((r) => setTimeout(r, 1500));
      expect(proxy.reinitRequests()).toBe(requests);
      expect(a.lines.some((l) => l.includes('"msg":"reinitializing"'))).toBe(false);
      expect(await a.stop()).toBe(0);
    } finally {
      proxy.close();
    }
  });

  it("a claimed prebuild: the agent re-initialises once, re-authenticates with its name, and is ready again", async () => {
    const id = "i-0ccccccccccccccc3";
    const metadata = await instance("aws", id);
    const ws = await admin.createWorkspace({ name: "pb", prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: id, agents: [{ name: "main", auth: "aws-instance-identity" }, { name: "dev", auth: "aws-instance-identity" }] }] });
    const a = agent({ CODER_AGENT_AUTH: "aws-instance-identity", CODER_AGENT_NAME: "main", CODER_AGENT_METADATA_URL: metadata });
    await a.waitFor(/"msg":"agent ready"/);
    const claimed = await admin.claim(ws.id, { owner: "zoe" });
    await a.waitFor(/"msg":"reinitializing"/);
    const readyAgain = async () => a.lines.filter((l) => l.includes('"msg":"agent ready"')).length >= 2;
    const deadline = Date.now() + 20_000;
    while (!(await readyAgain())) {
      if (Date.now() > deadline) throw new Error(a.lines.join("\n"));
      await new Promise((r) => setTimeout(r, 100));
    }
    const mainNow = claimed.build.resources[0].agents.find((x) => x.name === "main")!;
    await waitForLifecycle(mainNow.id, "ready");
    // Let it reconnect its stream: no second reinit.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.lines.filter((l) => l.includes('"msg":"reinitializing"'))).toHaveLength(1);
    expect(a.lines.filter((l) => l.includes('"msg":"authenticated"') && l.includes('"agent_name":"main"'))).toHaveLength(2);
    expect(a.lines.find((l) => l.includes('"msg":"manifest"') && l.includes('"owner":"zoe"'))).toBeDefined();
    expect(await a.stop()).toBe(0);
  });

  it("usage errors exit 2", async () => {
    const noMeta = await runCli(["agent", "--url", coord.url, "--auth", "aws-instance-identity"], { env: { CODER_AGENT_METADATA_URL: undefined } });
    expect(noMeta.exitCode).toBe(2);
    expect(noMeta.stderr).toMatch(/needs the cloud metadata service URL/);
    const noUrl = await runCli(["agent"], { env: { CODER_AGENT_URL: undefined } });
    expect(noUrl.exitCode).toBe(2);
    const noToken = await runCli(["agent", "--url", coord.url], { env: { CODER_AGENT_TOKEN: undefined, CODER_AGENT_TOKEN_FILE: undefined, CODER_AGENT_AUTH: undefined } });
    expect(noToken.exitCode).toBe(2);
  });
});
