import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIdentityVerifier, loadOrCreateIdentityKeys, trustFromKeys } from "../../src/identity/index.js";
import { runCli } from "../support/cli.js";
import { spawnCli, type Spawned } from "../support/process.js";
import { tempDir } from "../support/tmp.js";

const keysDir = join(tempDir("imds-"), "keys");
const started: Spawned[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function imds(cloud: string, instanceId: string) {
  const s = spawnCli(["imds", "--cloud", cloud, "--instance-id", instanceId, "--keys", keysDir, "--json"]);
  started.push(s);
  const ready = await s.ready;
  expect(ready).toMatchObject({ cloud, instance_id: instanceId });
  expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return ready.url as string;
}

describe("provisioner imds (child process, real HTTP)", () => {
  it("AWS: IMDSv2 token first, then a document and signature that verify", async () => {
    const url = await imds("aws", "i-0123456789abcdef0");
    const noToken = await fetch(`${url}/latest/dynamic/instance-identity/document`);
    expect(noToken.status).toBe(401);
    const badTtl = await fetch(`${url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "99999" } });
    expect(badTtl.status).toBe(400);
    const token = await (await fetch(`${url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" } })).text();
    const headers = { "X-aws-ec2-metadata-token": token };
    const document = await (await fetch(`${url}/latest/dynamic/instance-identity/document`, { headers })).text();
    const signature = await (await fetch(`${url}/latest/dynamic/instance-identity/signature`, { headers })).text();
    expect(JSON.parse(document).instanceId).toBe("i-0123456789abcdef0");
    const verifier = createIdentityVerifier(trustFromKeys(await loadOrCreateIdentityKeys(keysDir)));
    expect(await verifier.aws({ document, signature })).toMatchObject({ instanceId: "i-0123456789abcdef0" });
    const wrongToken = await fetch(`${url}/latest/dynamic/instance-identity/signature`, { headers: { "X-aws-ec2-metadata-token": "nope" } });
    expect(wrongToken.status).toBe(401);
  });

  it("Azure: attested document needs Metadata: true and verifies", async () => {
    const url = await imds("azure", "6f2b7f52-5a8f-4e2c-9e55-0f4f0a5c1d11");
    expect((await fetch(`${url}/metadata/attested/document?api-version=2020-09-01`)).status).toBe(400);
    const doc = (await (await fetch(`${url}/metadata/attested/document?api-version=2020-09-01`, { headers: { Metadata: "true" } })).json()) as { encoding: string; signature: string };
    expect(doc.encoding).toBe("pkcs7");
    const verifier = createIdentityVerifier(trustFromKeys(await loadOrCreateIdentityKeys(keysDir)));
    expect(await verifier.azure(doc)).toMatchObject({ instanceId: "6f2b7f52-5a8f-4e2c-9e55-0f4f0a5c1d11" });
  });

  it("GCP: identity token needs Metadata-Flavor: Google and verifies", async () => {
    const url = await imds("gcp", "8811223344556677");
    const path = `${url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=coder&format=full`;
    expect((await fetch(path)).status).toBe(403);
    const jwt = await (await fetch(path, { headers: { "Metadata-Flavor": "Google" } })).text();
    const verifier = createIdentityVerifier(trustFromKeys(await loadOrCreateIdentityKeys(keysDir)));
    expect(await verifier.gcp(jwt)).toMatchObject({ instanceId: "8811223344556677" });
  });

  it("refuses bad flags with exit 2", async () => {
    const r = await runCli(["imds", "--cloud", "aws", "--instance-id", "i-1", "--listen", "0.0.0.0:0"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not a loopback address/);
    const r2 = await runCli(["imds", "--cloud", "ibm", "--instance-id", "i-1"]);
    expect(r2.exitCode).toBe(2);
  });
});
