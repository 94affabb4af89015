import { databaseErrorKind } from "./db/errors.js";
import { HttpError } from "./http-error.js";

/** Seconds a client should wait before retrying a request the database could not serve. */
const RETRY_AFTER_SECONDS = "1";

/**
 * The answer to an error a route did not turn into an HttpError itself. Database trouble is the
 * server's (503, or 507 for a full disk, with Retry-After); a value the database refused is the
 * client's (400). The database's own text never reaches the client: it names tables and SQL.
 */
export function httpErrorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  switch (databaseErrorKind(err)) {
    case "disk-full":
      return new HttpError(
        507,
        { message: "The coordinator's database is out of disk space.", detail: "Nothing was written. The operator must free space on the data directory's volume; the coordinator recovers on its own." },
        { "Retry-After": RETRY_AFTER_SECONDS },
      );
    case "unavailable":
      return new HttpError(503, { message: "The coordinator's database is unavailable.", detail: "The request was not completed. Retry later." }, { "Retry-After": RETRY_AFTER_SECONDS });
    case "invalid-input":
      return HttpError.badRequest("Validation failed.", "A value in the request is not valid for its field.");
    case "conflict":
      return HttpError.conflict("The request conflicts with the current state.", "Retry with fresh data.");
    default:
      return new HttpError(500, { message: "An internal error occurred.", detail: "The coordinator's log has the cause." });
  }
}
