/** One certificate of a verified (or attempted) chain, for operators reading why. */
export interface ChainEntry {
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  /** Where it came from: "message", "trusted root", "trusted intermediate", "fetched from URL", or an AWS certificate's origin. */
  source: string;
}

/** What a verification established. */
export interface VerifiedIdentity {
  instanceId: string;
  /** The signing certificate (AWS, Azure) or key ID (GCP). */
  signer: string;
  chain: ChainEntry[];
}

/** An identity that does not verify. `detail` says why, never echoing secrets; `info` is what was learnt before. */
export class IdentityError extends Error {
  constructor(
    readonly detail: string,
    readonly info: { signer?: string; chain?: ChainEntry[] } = {},
  ) {
    super(detail);
    this.name = "IdentityError";
  }
}

/** The trust itself is unavailable (a key URL cannot be fetched): the identity was not judged. */
export class TrustUnavailableError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "TrustUnavailableError";
  }
}
