import { describe, expect, it } from "vitest";
import { createIdentityVerifier, IdentityError, loadIdentityTrust, type IdentityTrust } from "../../src/identity/index.js";
import { AZURE_DOCUMENTS, GCP_TOKENS, real, REAL } from "../support/real-identities.js";

const defaultTrust = await loadIdentityTrust();
const at = (time: string, trust: IdentityTrust = defaultTrust) => createIdentityVerifier(trust, { now: () => new Date(time) });

async function refusal(p: Promise<unknown>): Promise<IdentityError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IdentityError);
  return err as IdentityError;
}

/** Every copy of `bytes` with one byte flipped (XOR 0x01). */
function* flips(bytes: Buffer): Generator<[number, Buffer]> {
  for (let i = 0; i < bytes.length; i++) {
    const copy = Buffer.from(bytes);
    copy[i] ^= 0x01;
    yield [i, copy];
  }
}

describe("real AWS identity", () => {
  const document = real("aws/document.json").toString("utf8");
  const signature = real("aws/signature.txt").toString("utf8").trim();

  it("verifies with the bundled certificates, no flag, today (AWS certificates are used for their key)", async () => {
    const v = await createIdentityVerifier(defaultTrust).aws({ document, signature });
    expect(v).toMatchObject({ instanceId: "i-076e9b91f7c420782", signer: "ec2.amazonaws.com" });
  });

  it("is refused with any single byte of the document or the signature flipped", async () => {
    const verifier = createIdentityVerifier(defaultTrust);
    let refused = 0;
    for (const [, doc] of flips(Buffer.from(document, "utf8"))) {
      await refusal(verifier.aws({ document: doc.toString("latin1"), signature }));
      refused++;
    }
    for (const [, sig] of flips(Buffer.from(signature, "base64"))) {
      await refusal(verifier.aws({ document, signature: sig.toString("base64") }));
      refused++;
    }
    expect(refused).toBe(Buffer.byteLength(document) + Buffer.from(signature, "base64").length);
  });

  it("is refused without the bundle", async () => {
    const bare = await loadIdentityTrust({ bundled: false });
    expect((await refusal(createIdentityVerifier(bare).aws({ document, signature }))).detail).toBe("signature does not verify against any trusted AWS certificate");
  });
});

describe("real Azure attested documents (default trust: bundled Microsoft intermediates and roots)", () => {
  for (const doc of AZURE_DOCUMENTS) {
    const signature = real(`azure/${doc.name}.b64`).toString("utf8").trim();

    it(`${doc.name}: verifies inside its leaf's validity, with the digest OID and the single certificate it really has`, async () => {
      const v = await at(doc.at).azure({ encoding: "pkcs7", signature });
      expect(v.instanceId).toBe(doc.vmId);
      expect(v.signer).toBe(doc.signer);
      expect(v.chain.map((c) => c.subject)).toEqual([doc.signer, ...doc.chain]);
      expect(v.chain.map((c) => c.source)).toEqual(["message", "trusted intermediate", "trusted root"]);
      // The DER form is the same document.
      expect((await at(doc.at).azure({ encoding: "pkcs7", signature: real(`azure/${doc.name}.der`).toString("base64") })).instanceId).toBe(doc.vmId);
    });

    it(`${doc.name}: refused today as expired (not a digest or chain problem)`, async () => {
      const err = await refusal(createIdentityVerifier(defaultTrust).azure({ encoding: "pkcs7", signature }));
      expect(err.detail).toMatch(new RegExp(`^signer certificate ${doc.signer.replace(/\./g, "\\.")} expired at `));
      expect(err.detail).not.toMatch(/digest|chain/);
    });

    it(`${doc.name}: refused with any single byte flipped`, async () => {
      const verifier = at(doc.at);
      const der = Buffer.from(signature, "base64");
      const accepted: number[] = [];
      for (const [i, flipped] of flips(der)) {
        const err = await verifier.azure({ encoding: "pkcs7", signature: flipped.toString("base64") }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(err instanceof IdentityError)) accepted.push(i);
      }
      expect(accepted).toEqual([]);
    });
  }

  it("without the bundled intermediates the chain is incomplete (the document carries only the leaf)", async () => {
    const rootsOnly = await loadIdentityTrust({ bundled: false });
    rootsOnly.azureRoots.push(...defaultTrust.azureRoots);
    const err = await refusal(at("2022-06-01T00:00:00Z", rootsOnly).azure({ encoding: "pkcs7", signature: real("azure/regular-2022.b64").toString("utf8") }));
    expect(err.detail).toMatch(/^signer certificate metadata\.azure\.com, issued by Microsoft RSA TLS CA 01, does not chain to a trusted Azure root/);
  });
});

describe("real GCP identity tokens", () => {
  const jwksFile = new URL("gcp/google-jwks.json", REAL).pathname;

  for (const t of GCP_TOKENS) {
    const token = real(`gcp/${t.name}.jwt`).toString("utf8").trim();

    it(`${t.name}: verifies with its JWKS inside its hour, and is refused as expired today`, async () => {
      const trust = await loadIdentityTrust({ gcpJwksFile: jwksFile });
      expect(await at(t.at, trust).gcp(token)).toMatchObject({ instanceId: t.instanceId, signer: `key ${t.kid}` });
      expect((await refusal(createIdentityVerifier(trust).gcp(token))).detail).toMatch(/^token expired/);
    });

    it(`${t.name}: refused with any single byte of its header, payload or signature flipped`, async () => {
      const verifier = at(t.at, await loadIdentityTrust({ gcpJwksFile: jwksFile }));
      const parts = token.split(".");
      let refused = 0;
      for (let p = 0; p < 3; p++) {
        for (const [, flipped] of flips(Buffer.from(parts[p], "base64url"))) {
          const copy = [...parts];
          copy[p] = flipped.toString("base64url");
          await refusal(verifier.gcp(copy.join(".")));
          refused++;
        }
      }
      expect(refused).toBe(parts.reduce((n, s) => n + Buffer.from(s, "base64url").length, 0));
    });
  }
});
