import type { Hono } from "hono";
import { HttpError } from "./http-error.js";

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  static: boolean;
}

const compile = (path: string): RegExp =>
  new RegExp(
    "^" +
      path
        .split("/")
        .map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/") +
      "/?$",
  );

/**
 * Answers 405 with `Allow` (coderd's router does) for a path that has routes, but not for this
 * method. Read from the app's own route table, so every route added later is covered.
 */
export function methodGuard(app: Hono<any>): { notAllowed(method: string, path: string, opts?: { staticOnly?: boolean }): HttpError | undefined } {
  let routes: CompiledRoute[] | undefined;
  return {
    notAllowed(method, path, opts = {}) {
      routes ??= app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, pattern: compile(r.path), static: !/[:*]/.test(r.path) }));
      const methods = new Set(routes.filter((r) => (!opts.staticOnly || r.static) && r.pattern.test(path)).map((r) => r.method));
      methods.delete(method);
      if (methods.size === 0) return undefined;
      if (methods.has("GET")) methods.add("HEAD");
      const allow = [...methods].sort().join(", ");
      return new HttpError(405, { message: "Method not allowed.", detail: `${method} is not supported here; use ${allow}.` }, { Allow: allow });
    },
  };
}
