import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { AZURE_DOCUMENTS, GCP_TOKENS, REAL } from "../support/real-identities.js";

const fixture = (path: string) => fileURLToPath(new URL(path, REAL));
const dir = mkdtempSync(join(tmpdir(), "identity-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("provisioner identity verify (the coordinator's verifier, for operators)", () => {
  it("AWS: the real document verifies with the bundled certificates and no flag (exit 0)", async () => {
    const r = await runCli(["identity", "verify", "--cloud", "aws", "--signature", fixture("aws/signature.txt"), fixture("aws/document.json")]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("document.json: verified");
    expect(r.stdout).toMatch(/instance: +i-076e9b91f7c420782/);
    expect(r.stdout).toMatch(/signer: +ec2\.amazonaws\.com/);
    // The agent's request body works as well.
    const body = join(dir, "aws-body.json");
    writeFileSync(body, JSON.stringify({ document: readFileSync(fixture("aws/document.json"), "utf8"), signature: "AAAA" }));
    const bad = await runCli(["identity", "verify", "--cloud", "aws", body]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain("reason:      signature does not verify against any trusted AWS certificate");
  });

  it("Azure: each real document verifies --at inside its validity, printing VM ID, signer and chain; today it is refused as expired", async () => {
    for (const doc of AZURE_DOCUMENTS) {
      const ok = await runCli(["identity", "verify", "--cloud", "azure", "--at", doc.at, "--json", fixture(`azure/${doc.name}.b64`)]);
      expect(ok.exitCode, ok.stderr).toBe(0);
      const [v] = JSON.parse(ok.stdout) as { verified: boolean; instance_id: string; signer: string; chain: { subject: string }[]; at: string }[];
      expect(v).toMatchObject({ verified: true, instance_id: doc.vmId, signer: doc.signer, at: new Date(doc.at).toISOString() });
      expect(v.chain.map((c) => c.subject)).toEqual([doc.signer, ...doc.chain]);
    }
    const today = await runCli(["identity", "verify", "--cloud", "azure", ...AZURE_DOCUMENTS.map((d) => fixture(`azure/${d.name}.der`))]);
    expect(today.exitCode).toBe(1);
    expect(today.stdout.match(/NOT verified/g)).toHaveLength(3);
    expect(today.stdout).toMatch(/reason: +signer certificate metadata\.azure\.com expired at 2023-02-20T10:22:02\.000Z/);
    expect(today.stdout).toContain("coordinator: 401 Invalid Azure identity.");
  });

  it("GCP: each real token verifies with its JWKS and --at", async () => {
    for (const t of GCP_TOKENS) {
      const r = await runCli(["identity", "verify", "--cloud", "gcp", "--gcp-jwks", fixture("gcp/google-jwks.json"), "--at", t.at, fixture(`gcp/${t.name}.jwt`)]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`instance: +${t.instanceId}`));
    }
    const noKeys = await runCli(["identity", "verify", "--cloud", "gcp", "--at", GCP_TOKENS[0].at, fixture("gcp/token-infisical.jwt")]);
    expect(noKeys.exitCode).toBe(1);
    expect(noKeys.stdout).toContain(`no configured GCP key has the token's key ID "${GCP_TOKENS[0].kid}"`);
  });

  it("bad input exits 2 and prints no verdict", async () => {
    const notJwt = join(dir, "not.jwt");
    writeFileSync(notJwt, "hello");
    const cases = [
      [["identity", "verify", "--cloud", "gcp", notJwt], /not a JWT/],
      [["identity", "verify", "--cloud", "azure", fixture("azure/rsa-2024.b64"), join(dir, "missing.b64")], /cannot read file .*missing\.b64: no such file or directory/],
      [["identity", "verify", "--cloud", "azure", "--at", "yesterday", fixture("azure/rsa-2024.b64")], /--at "yesterday" is not an RFC 3339 time/],
      [["identity", "verify", "--cloud", "aws", fixture("aws/document.json")], /without its signature: pass the signature file with --signature/],
      [["identity", "verify", "--cloud", "aws", "--aws-certificate", notJwt, "--signature", fixture("aws/signature.txt"), fixture("aws/document.json")], /holds no PEM certificate/],
      [["identity", "verify", "--cloud", "azure"], /no FILE to verify/],
      [["identity", "check", "--cloud", "azure", fixture("azure/rsa-2024.b64")], /Invalid values/],
    ] as const;
    for (const [args, message] of cases) {
      const r = await runCli([...args]);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });
});
