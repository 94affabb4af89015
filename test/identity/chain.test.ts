import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDer, writeOid } from "../../src/identity/der.js";
import { createIdentityVerifier, IdentityError, issueCertificate, rsaKeyPem, signAzureAttestedDocument, TrustUnavailableError, type IdentityKeys, type IdentityTrust } from "../../src/identity/index.js";
import { AZURE_DOCUMENTS, GCP_TOKENS, real } from "../support/real-identities.js";

const emptyTrust = (): IdentityTrust => ({ awsCertificates: [], azureRoots: [], azureIntermediates: [], gcpJwks: { keys: [] } });

async function refusal(p: Promise<unknown>): Promise<IdentityError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IdentityError);
  return err as IdentityError;
}

/** A root, and certificates under it with the extensions a test asks for (forge extension objects). */
const rootKey = rsaKeyPem();
const root = { cn: "Chain Test Root", keyPem: rootKey };
const rootPem = issueCertificate({ ...root, ca: true, years: 5 });
const CA_EXTENSIONS = [
  { name: "basicConstraints", cA: true, critical: true },
  { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true },
];

/** Signs an Azure-shaped document by `metadata.azure.com` issued by an intermediate with `extensions`. */
function documentUnder(intermediateExtensions: object[], opts: { leafExtensions?: object[]; leafCn?: string } = {}) {
  const interKey = rsaKeyPem();
  const inter = { cn: `Intermediate ${Math.random().toString(36).slice(2, 8)}`, keyPem: interKey };
  const intermediatePem = issueCertificate({ ...inter, issuer: root, ca: false, years: 2, extensions: intermediateExtensions });
  const leafKey = rsaKeyPem();
  const leafPem = issueCertificate({ cn: opts.leafCn ?? "metadata.azure.com", keyPem: leafKey, issuer: inter, ca: false, years: 1, extensions: opts.leafExtensions });
  const keys = { azure: { signerCertificatePem: leafPem, signerPrivateKeyPem: leafKey } } as IdentityKeys;
  return { intermediatePem, signed: (extra: string[] = []) => signAzureAttestedDocument(keys, { vmId: "vm-chain" }, { extraCertificates: extra }) };
}

describe("Azure chain rules (as a browser builds chains)", () => {
  const trusted = (intermediates: string[] = []) => createIdentityVerifier({ ...emptyTrust(), azureRoots: [rootPem], azureIntermediates: intermediates });

  it("a proper CA intermediate, from the message or from the trusted set, chains", async () => {
    const d = documentUnder(CA_EXTENSIONS);
    expect((await trusted().azure(d.signed([d.intermediatePem]))).chain.map((c) => c.source)).toEqual(["message", "message", "trusted root"]);
    expect((await trusted([d.intermediatePem]).azure(d.signed())).chain.map((c) => c.source)).toEqual(["message", "trusted intermediate", "trusted root"]);
  });

  const nonCa: [string, object[], RegExp][] = [
    ["CA:false", [{ name: "basicConstraints", cA: false, critical: true }, { name: "keyUsage", keyCertSign: true }], /cannot issue certificates: it has basicConstraints CA:false$/],
    ["no extensions at all", [], /cannot issue certificates: it has no basicConstraints extension$/],
    ["CA:true but a keyUsage without keyCertSign", [{ name: "basicConstraints", cA: true, critical: true }, { name: "keyUsage", critical: true, digitalSignature: true }], /cannot issue certificates: it has a keyUsage without keyCertSign$/],
  ];
  for (const [what, extensions, reason] of nonCa) {
    it(`an issuer with ${what} breaks the chain, wherever it comes from`, async () => {
      const d = documentUnder(extensions);
      expect((await refusal(trusted().azure(d.signed([d.intermediatePem])))).detail).toMatch(reason);
      expect((await refusal(trusted([d.intermediatePem]).azure(d.signed()))).detail).toMatch(reason);
    });
  }

  it("a leaf signed directly by another end-entity leaf under the trusted root is refused", async () => {
    // The "issuer" is itself a metadata.azure.com end-entity certificate (CA:false), as in the reported attack.
    const d = documentUnder([{ name: "basicConstraints", cA: false, critical: true }, { name: "keyUsage", critical: true, digitalSignature: true }]);
    expect((await refusal(trusted().azure(d.signed([d.intermediatePem])))).detail).toMatch(/cannot issue certificates/);
  });

  it("pathLen of an issuer is enforced", async () => {
    const tightKey = rsaKeyPem();
    const tight = { cn: "Tight Root", keyPem: tightKey };
    const tightRoot = issueCertificate({ ...tight, ca: true, years: 5, extensions: [{ name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true }, { name: "keyUsage", keyCertSign: true }] });
    const midKey = rsaKeyPem();
    const mid = { cn: "Mid", keyPem: midKey };
    const midPem = issueCertificate({ ...mid, issuer: tight, ca: true, years: 2 });
    const lowKey = rsaKeyPem();
    const low = { cn: "Low", keyPem: lowKey };
    const lowPem = issueCertificate({ ...low, issuer: mid, ca: true, years: 2 });
    const leafKey = rsaKeyPem();
    const leafPem = issueCertificate({ cn: "metadata.azure.com", keyPem: leafKey, issuer: low, ca: false, years: 1 });
    const keys = { azure: { signerCertificatePem: leafPem, signerPrivateKeyPem: leafKey } } as IdentityKeys;
    const verifier = createIdentityVerifier({ ...emptyTrust(), azureRoots: [tightRoot] });
    const err = await refusal(verifier.azure(signAzureAttestedDocument(keys, { vmId: "v" }, { extraCertificates: [midPem, lowPem] })));
    expect(err.detail).toMatch(/^trusted root Tight Root allows 0 intermediate\(s\) below it, the chain has 2$/);
  });

  it("an expired intermediate is refused, naming it", async () => {
    const interKey = rsaKeyPem();
    const inter = { cn: "Old Intermediate", keyPem: interKey };
    const old = issueCertificate({ ...inter, issuer: root, ca: true, years: 0, notBefore: new Date(Date.now() - 3 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    const leafKey = rsaKeyPem();
    const leafPem = issueCertificate({ cn: "metadata.azure.com", keyPem: leafKey, issuer: inter, ca: false, years: 1 });
    const doc = signAzureAttestedDocument({ azure: { signerCertificatePem: leafPem, signerPrivateKeyPem: leafKey } } as IdentityKeys, { vmId: "v" }, { extraCertificates: [old] });
    expect((await refusal(trusted().azure(doc))).detail).toMatch(/^intermediate Old Intermediate expired at /);
  });
});

describe("Azure: caps before parsing, malformed input is a refusal", () => {
  const d = documentUnder(CA_EXTENSIONS);
  const verifier = createIdentityVerifier({ ...emptyTrust(), azureRoots: [rootPem] });

  it("more than 8 certificates are refused before any is parsed", async () => {
    const err = await refusal(verifier.azure(d.signed(Array.from({ length: 9 }, () => d.intermediatePem))));
    expect(err.detail).toBe("malformed PKCS#7 message: more than 8 elements");
  });

  it("a signature stuffed with 700 certificates is refused by its size", async () => {
    const err = await refusal(verifier.azure(d.signed(Array.from({ length: 700 }, () => d.intermediatePem))));
    expect(err.detail).toMatch(/^signature is \d+ characters; at most 65536 are accepted$/);
  });

  it("malformed structures and attributes are IdentityErrors", async () => {
    const attrs = (inner: Buffer) => writeDer(0xa0, inner);
    // A signed-attributes block whose attribute is not a SEQUENCE, and one whose digest value is missing.
    const broken = [
      Buffer.from("nope"),
      writeDer(0x30, writeOid("1.2.840.113549.1.7.2")),
      writeDer(0x30, writeOid("1.2.840.113549.1.7.2"), writeDer(0xa0, writeDer(0x30, writeDer(0x02, Buffer.from([1])), writeDer(0x31), writeDer(0x30, writeOid("1.2.840.113549.1.7.1")), writeDer(0x31)))),
      attrs(writeDer(0x04, Buffer.from("x"))),
    ];
    for (const der of broken) {
      const err = await refusal(verifier.azure({ encoding: "pkcs7", signature: der.toString("base64") }));
      expect(err.detail).toMatch(/^(malformed PKCS#7 message|PKCS#7 message)/);
    }
  });
});

/** A loopback HTTP server answering from a table of paths, counting requests. */
async function serve(routes: (path: string) => { status: number; body: Buffer | string } | undefined): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const r = routes(req.url ?? "") ?? { status: 404, body: "not found" };
    res.writeHead(r.status);
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe("Azure: fetching a missing intermediate from the signer's AIA URL (loopback only)", () => {
  let repo: Awaited<ReturnType<typeof serve>>;
  const intermediatePem = real("azure/certs/ms-rsa-tls-ca-01.pem").toString("utf8");
  const intermediateDer = Buffer.from(intermediatePem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const baltimore = real("azure/certs/baltimore-cybertrust-root.pem").toString("utf8");
  const regular = AZURE_DOCUMENTS[0];
  const signature = real(`azure/${regular.name}.b64`).toString("utf8").trim();

  beforeAll(async () => {
    repo = await serve((path) => (path === "/pki/mscorp/Microsoft%20RSA%20TLS%20CA%2001.crt" ? { status: 200, body: intermediateDer } : undefined));
  });
  afterAll(() => repo.server.close());

  // Microsoft's host mapped to the loopback server: nothing leaves the machine.
  const toLoopback = (url: URL) => new URL(url.pathname + url.search, repo.url);
  const rootsOnly = (fetch: boolean): IdentityTrust => ({ ...emptyTrust(), azureRoots: [baltimore], ...(fetch ? { azureAia: { resolve: toLoopback } } : {}) });

  it("off (the default): nothing is fetched and the chain is incomplete", async () => {
    const before = repo.requests.length;
    const err = await refusal(createIdentityVerifier(rootsOnly(false), { now: () => new Date(regular.at) }).azure({ encoding: "pkcs7", signature }));
    expect(err.detail).toMatch(/does not chain to a trusted Azure root \(add the issuing intermediate/);
    expect(repo.requests.length).toBe(before);
  });

  it("on: the real document's intermediate is fetched once from the allow-listed URL, then cached", async () => {
    const verifier = createIdentityVerifier(rootsOnly(true), { now: () => new Date(regular.at) });
    const before = repo.requests.length;
    const v = await verifier.azure({ encoding: "pkcs7", signature });
    expect(v.instanceId).toBe(regular.vmId);
    expect(v.chain[1]).toMatchObject({ subject: "Microsoft RSA TLS CA 01", source: "fetched from http://www.microsoft.com/pki/mscorp/Microsoft%20RSA%20TLS%20CA%2001.crt" });
    await verifier.azure({ encoding: "pkcs7", signature });
    expect(repo.requests.slice(before)).toEqual(["/pki/mscorp/Microsoft%20RSA%20TLS%20CA%2001.crt"]);
  });

  it("on: an AIA URL off Microsoft's allow-list is never requested", async () => {
    const aia = (url: string) => ({
      id: "1.3.6.1.5.5.7.1.1",
      value: writeDer(0x30, writeDer(0x30, writeOid("1.3.6.1.5.5.7.48.2"), writeDer(0x86, Buffer.from(url)))).toString("binary"),
    });
    const before = repo.requests.length;
    for (const url of ["http://evil.example.com/pkiops/certs/x.crt", "http://www.microsoft.com.evil.example/pkiops/certs/x.crt", "http://www.microsoft.com/elsewhere/x.crt", "file:///etc/passwd"]) {
      const d = documentUnder(CA_EXTENSIONS, { leafExtensions: [{ name: "basicConstraints", cA: false }, aia(url)] });
      const verifier = createIdentityVerifier({ ...emptyTrust(), azureRoots: [rootPem], azureAia: { resolve: toLoopback } });
      const err = await refusal(verifier.azure(d.signed()));
      expect(err.detail).toContain(`its AIA URL ${url} is not on Microsoft's certificate allow-list`);
    }
    expect(repo.requests.length).toBe(before);
  });
});

describe("GCP keys from a URL: fetched, cached, refreshed on an unknown kid (rotating JWKS on 127.0.0.1)", () => {
  const all = JSON.parse(real("gcp/google-jwks.json").toString("utf8")) as { keys: { kid: string }[] };
  const only = (kid: string) => JSON.stringify({ keys: all.keys.filter((k) => k.kid === kid) });
  let served = only(GCP_TOKENS[0].kid);
  let jwks: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    jwks = await serve((path) => (path === "/oauth2/v3/certs" ? { status: 200, body: served } : undefined));
  });
  afterAll(() => jwks.server.close());

  it("rotates", async () => {
    let now = new Date(GCP_TOKENS[0].at);
    const verifier = createIdentityVerifier({ ...emptyTrust(), gcpJwksUrl: `${jwks.url}/oauth2/v3/certs` }, { now: () => now, gcpFetchCooldownMs: 0 });
    const [first, second] = GCP_TOKENS.map((t) => real(`gcp/${t.name}.jwt`).toString("utf8").trim());

    expect(await verifier.gcp(first)).toMatchObject({ instanceId: GCP_TOKENS[0].instanceId });
    expect(await verifier.gcp(first)).toMatchObject({ instanceId: GCP_TOKENS[0].instanceId });
    expect(jwks.requests).toHaveLength(1); // cached

    // Google rotates: the set now holds only the other key. A token with that kid refreshes the cache.
    served = only(GCP_TOKENS[1].kid);
    now = new Date(GCP_TOKENS[1].at);
    expect(await verifier.gcp(second)).toMatchObject({ instanceId: GCP_TOKENS[1].instanceId });
    expect(jwks.requests).toHaveLength(2);

    // The retired key is gone after a refresh: its token is refused, naming the kid.
    now = new Date(GCP_TOKENS[0].at);
    expect((await refusal(verifier.gcp(first))).detail).toBe(`no configured GCP key has the token's key ID "${GCP_TOKENS[0].kid}"`);
    expect(jwks.requests).toHaveLength(3);
  });

  it("an unreachable key URL is 'trust unavailable', not a verdict on the token", async () => {
    const down = await serve(() => ({ status: 500, body: "down" }));
    down.server.close();
    const verifier = createIdentityVerifier({ ...emptyTrust(), gcpJwksUrl: `${down.url}/certs` }, { now: () => new Date(GCP_TOKENS[0].at) });
    const err = await verifier.gcp(real("gcp/token-infisical.jwt").toString("utf8").trim()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TrustUnavailableError);
  });
});
