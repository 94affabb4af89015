/** An identity that does not verify. `detail` says why, never echoing secrets. */
export class IdentityError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "IdentityError";
  }
}
