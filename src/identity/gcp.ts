import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, importPKCS8, jwtVerify, SignJWT, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { IdentityError, TrustUnavailableError, type VerifiedIdentity } from "./errors.js";
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

export interface GcpKeySource {
  /** Keys from a JWKS file. */
  jwks: { keys: JWK[] };
  /** Google's published key URL (or a mirror): fetched on first use, cached, re-fetched on an unknown `kid`. */
  jwksUrl?: string;
  /** Minimum time between two fetches (jose's cooldown; default 30 s). */
  cooldownMs?: number;
  /** How long fetched keys are used before the next token fetches them again (default 10 min). */
  cacheMaxAgeMs?: number;
}

/** A key resolver over the static keys and, for a `kid` they lack, the key URL. */
export function gcpKeyResolver(source: GcpKeySource): JWTVerifyGetKey {
  const local = createLocalJWKSet(source.jwks as JSONWebKeySet);
  if (!source.jwksUrl) return local;
  const remote = createRemoteJWKSet(new URL(source.jwksUrl), { cooldownDuration: source.cooldownMs ?? 30_000, cacheMaxAge: source.cacheMaxAgeMs ?? 600_000, timeoutDuration: 5_000 });
  return async (header, token) => {
    if (source.jwks.keys.length > 0) {
      try {
        return await local(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      }
    }
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) throw err;
      throw new TrustUnavailableError(`cannot fetch the GCP keys from ${source.jwksUrl}: ${(err as Error).message}`);
    }
  };
}

/** Verifies the JWT (RS256) against the configured keys, with expiry. The audience is not pinned (coderd does not). */
export async function verifyGcpIdentity(keys: JWTVerifyGetKey, token: string, now: Date): Promise<VerifiedIdentity> {
  let payload;
  let kid = "";
  try {
    kid = decodeProtectedHeader(token).kid ?? "";
    ({ payload } = await jwtVerify(token, keys, { algorithms: ["RS256"], currentDate: now }));
  } catch (err) {
    if (err instanceof TrustUnavailableError) throw err;
    const signer = kid ? `key ${kid}` : "no key ID";
    if (err instanceof joseErrors.JWTExpired) throw new IdentityError(`token expired (verification time ${now.toISOString()})`, { signer });
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === "nbf") throw new IdentityError(`token is not valid yet (verification time ${now.toISOString()})`, { signer });
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw new IdentityError(`no configured GCP key has the token's key ID ${JSON.stringify(kid)}`, { signer });
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new IdentityError("token signature does not verify against the configured keys", { signer });
    throw new IdentityError(`invalid token: ${(err as Error).message}`, { signer });
  }
  const signer = `key ${kid}`;
  const instanceId = (payload.google as { compute_engine?: { instance_id?: unknown } } | undefined)?.compute_engine?.instance_id;
  if (typeof instanceId !== "string" || instanceId === "") throw new IdentityError("token has no google.compute_engine.instance_id", { signer });
  return { instanceId, signer, chain: [] };
}
