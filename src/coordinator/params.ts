import type { Context } from "hono";
import { HttpError } from "./http-error.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path parameter that must be a UUID: otherwise coderd's 400 `Invalid UUID "…".` (the value quoted and cut at 64 characters). */
export function uuidParam(c: Context<any>, name: string): string {
  const v = c.req.param(name) ?? "";
  if (!UUID.test(v)) throw HttpError.badRequest(`Invalid UUID ${JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v)}.`, `The ${name} in the path must be a UUID.`);
  return v;
}
