#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("provisioner: dist/ is missing; run `npm run build` (or `npm ci`) in the provisioner checkout first.\n");
  process.exit(2);
}
await import(entry.href);
