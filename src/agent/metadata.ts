import type { AgentAuthType } from "../sdk/auth.js";

/** Reads the instance identity from the (overridable) cloud metadata service, as SPEC §2 says. */
export async function fetchIdentity(auth: Exclude<AgentAuthType, "token">, metadataUrl: string, signal?: AbortSignal): Promise<Record<string, string>> {
  const base = metadataUrl.replace(/\/+$/, "");
  const text = async (res: Response, what: string): Promise<string> => {
    if (!res.ok) throw new Error(`metadata service: ${what} returned ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.text();
  };
  if (auth === "aws-instance-identity") {
    const token = await text(await fetch(`${base}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" }, signal }), "IMDSv2 token");
    const headers = { "X-aws-ec2-metadata-token": token };
    const signature = await text(await fetch(`${base}/latest/dynamic/instance-identity/signature`, { headers, signal }), "identity signature");
    const document = await text(await fetch(`${base}/latest/dynamic/instance-identity/document`, { headers, signal }), "identity document");
    return { signature, document };
  }
  if (auth === "azure-instance-identity") {
    const body = await text(await fetch(`${base}/metadata/attested/document?api-version=2020-09-01`, { headers: { Metadata: "true" }, signal }), "attested document");
    const doc = JSON.parse(body) as { signature?: string; encoding?: string };
    if (!doc.signature || !doc.encoding) throw new Error("metadata service: attested document lacks signature or encoding");
    return { signature: doc.signature, encoding: doc.encoding };
  }
  const jwt = await text(
    await fetch(`${base}/computeMetadata/v1/instance/service-accounts/default/identity?audience=coder&format=full`, { headers: { "Metadata-Flavor": "Google" }, signal }),
    "identity token",
  );
  return { json_web_token: jwt.trim() };
}
