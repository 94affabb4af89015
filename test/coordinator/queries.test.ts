import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/coordinator/app.js";
import { migrate, openDatabase, type Database } from "../../src/coordinator/db/index.js";
import { Store } from "../../src/coordinator/store.js";
import { createIdentityVerifier, trustFromKeys, type IdentityKeys } from "../../src/identity/index.js";
import { identityBody, testKeys } from "./support/identity.js";

// Handlers in-process (hono's app.request) on a real embedded Postgres, counting the queries.
describe("instance-identity agent lookup", () => {
  let db: Database;
  let keys: IdentityKeys;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    ({ keys } = await testKeys());
    db = await openDatabase("memory");
    await migrate(db);
    app = createApp({ store: new Store(db), verifier: createIdentityVerifier(trustFromKeys(keys)), adminToken: "t", cliPath: "/x", log: () => undefined });
  });
  afterAll(() => db.close());

  const admin = (body: unknown) => app.request("/api/v2/provisioner/workspaces", { method: "POST", headers: { "Coder-Session-Token": "t" }, body: JSON.stringify(body) });

  async function queriesFor(instanceId: string, agents: number, agentName?: string): Promise<{ queries: number; status: number }> {
    const res = await admin({ name: `w${agents}`, resources: [{ type: "vm", name: "dev", instance_id: instanceId, agents: Array.from({ length: agents }, (_, i) => ({ name: `agent-${i}`, auth: "aws-instance-identity" })) }] });
    expect(res.status).toBe(201);
    const body = JSON.stringify(await identityBody("aws", keys, instanceId, agentName));
    const before = db.queryCount;
    const r = await app.request("/api/v2/workspaceagents/aws-instance-identity", { method: "POST", body });
    return { queries: db.queryCount - before, status: r.status };
  }

  it("takes the same, constant number of queries for 1 and for 20 candidates", async () => {
    const one = await queriesFor("i-one", 1, "agent-0");
    const twenty = await queriesFor("i-twenty", 20, "agent-13");
    const ambiguous = await queriesFor("i-twenty-b", 20);
    expect(one.status).toBe(200);
    expect(twenty.status).toBe(200);
    expect(ambiguous.status).toBe(409);
    expect(one.queries).toBe(1);
    expect(twenty.queries).toBe(one.queries);
    expect(ambiguous.queries).toBe(one.queries);
  });
});
