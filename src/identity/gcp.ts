import { createLocalJWKSet, importPKCS8, jwtVerify, SignJWT, errors as joseErrors, type JSONWebKeySet, type JWK } from "jose";
import { IdentityError } from "./errors.js";
import type { IdentityKeys } from "./keys.js";

/** An RS256 identity token as GCP's metadata server issues with format=full. */
export async function signGcpIdentityToken(
  keys: IdentityKeys,
  claims: { instanceId: string; audience: string; ttlSeconds?: number; now?: Date; projectId?: string; zone?: string; instanceName?: string },
): Promise<string> {
  const now = Math.floor((claims.now ?? new Date()).getTime() / 1000);
  const key = await importPKCS8(keys.gcp.privateKeyPem, "RS256");
  return new SignJWT({
    azp: "112233445566778899000",
    email: "default@project.iam.gserviceaccount.com",
    email_verified: true,
    google: {
      compute_engine: {
        instance_creation_timestamp: now - 600,
        instance_id: claims.instanceId,
        instance_name: claims.instanceName ?? "workspace",
        project_id: claims.projectId ?? "provisioner-project",
        project_number: 1234567890,
        zone: claims.zone ?? "us-central1-a",
      },
    },
  })
    .setProtectedHeader({ alg: "RS256", kid: keys.gcp.kid, typ: "JWT" })
    .setIssuer("https://accounts.google.com")
    .setSubject("112233445566778899000")
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSeconds ?? 3600))
    .sign(key);
}

export function gcpKeySet(jwks: { keys: JWK[] }): ReturnType<typeof createLocalJWKSet> {
  return createLocalJWKSet(jwks as JSONWebKeySet);
}

/** Verifies the JWT (RS256) against the configured keys, with expiry. The audience is not pinned (coderd does not). */
export async function verifyGcpIdentity(keySet: ReturnType<typeof createLocalJWKSet>, token: string, now = new Date()): Promise<{ instanceId: string }> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keySet, { algorithms: ["RS256"], currentDate: now }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new IdentityError("token expired");
    if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) throw new IdentityError("token signature does not verify against the configured keys");
    throw new IdentityError(`invalid token: ${(err as Error).message}`);
  }
  const instanceId = (payload.google as { compute_engine?: { instance_id?: unknown } } | undefined)?.compute_engine?.instance_id;
  if (typeof instanceId !== "string" || instanceId === "") throw new IdentityError("token has no google.compute_engine.instance_id");
  return { instanceId };
}
