import type { CoderResponse, ValidationError } from "../sdk/response.js";

/** The one HTTP error type: a status, coderd's response body `{message, detail, validations}`, and headers (Allow, Retry-After). */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 429 | 500 | 503 | 507,
    readonly body: CoderResponse,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = "HttpError";
  }

  static badRequest(message: string, detail?: string, validations?: ValidationError[]): HttpError {
    return new HttpError(400, { message, ...(detail ? { detail } : {}), ...(validations ? { validations } : {}) });
  }
  static unauthorized(message: string, detail?: string): HttpError {
    return new HttpError(401, { message, ...(detail ? { detail } : {}) });
  }
  static notFound(message: string, detail?: string): HttpError {
    return new HttpError(404, { message, ...(detail ? { detail } : {}) });
  }
  static conflict(message: string, detail?: string): HttpError {
    return new HttpError(409, { message, ...(detail ? { detail } : {}) });
  }
  /** coderd's answer for a deleted workspace. */
  static workspaceDeleted(workspaceId: string): HttpError {
    return new HttpError(410, { message: `Workspace "${workspaceId}" was deleted, you can view this workspace by specifying '?include_deleted=true' and trying again.` });
  }
}
