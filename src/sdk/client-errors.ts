import type { z } from "zod";
import { CoderResponse } from "./response.js";

/**
 * Typed client errors: one function maps the server's HTTP status to an error class, so callers
 * branch on `instanceof` (or `code`) instead of on numbers scattered through the code.
 */
export class CoderClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly response: CoderResponse,
    readonly url: string,
  ) {
    super(response.detail ? `${response.message} ${response.detail}` : response.message);
    this.name = new.target.name;
  }
}
export class BadRequestError extends CoderClientError {}
export class UnauthorizedError extends CoderClientError {}
export class NotFoundError extends CoderClientError {}
export class ConflictError extends CoderClientError {}
export class PayloadTooLargeError extends CoderClientError {}
export class RateLimitedError extends CoderClientError {}
export class ServerError extends CoderClientError {}

/** Network failure (connection refused, reset, DNS): retryable. */
export class NetworkError extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(`cannot reach ${url}: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** Maps a non-2xx response to its typed error, keeping coderd's `{message, detail, validations}` body. */
export async function clientErrorFromResponse(res: Response): Promise<CoderClientError> {
  const text = await res.text().catch(() => "");
  let body: CoderResponse;
  try {
    const parsed = CoderResponse.safeParse(JSON.parse(text));
    body = parsed.success ? parsed.data : { message: text.slice(0, 500) || res.statusText };
  } catch {
    body = { message: text.slice(0, 500) || res.statusText || `HTTP ${res.status}` };
  }
  const args = [res.status, `E_HTTP_${res.status}`, body, res.url] as const;
  switch (res.status) {
    case 400:
      return new BadRequestError(...args);
    case 401:
    case 403:
      return new UnauthorizedError(...args);
    case 404:
      return new NotFoundError(...args);
    case 409:
      return new ConflictError(...args);
    case 413:
      return new PayloadTooLargeError(...args);
    case 429:
      return new RateLimitedError(...args);
    default:
      return res.status >= 500 ? new ServerError(...args) : new CoderClientError(...args);
  }
}

/** Whether retrying the same request later can succeed (network trouble, 429, 5xx). */
export function isRetryable(err: unknown): boolean {
  return err instanceof NetworkError || err instanceof RateLimitedError || err instanceof ServerError;
}

/** fetch + JSON + schema validation + typed errors. */
export async function requestJson<S extends z.ZodType>(
  url: string,
  init: RequestInit & { json?: unknown },
  schema: S,
): Promise<z.infer<S>> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, body });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new NetworkError(url, err);
  }
  if (!res.ok) throw await clientErrorFromResponse(res);
  const text = await res.text();
  return schema.parse(text === "" ? {} : JSON.parse(text));
}
