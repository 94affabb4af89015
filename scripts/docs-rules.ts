/**
 * Writes docs/rules.md from the rules' metadata (src/validate/rules/*.ts).
 * Usage: npm run docs:rules            (write)
 *        npm run docs:rules -- --check (exit 1 when the file is out of date)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { rulesDocument } from "../src/validate/rule-docs.js";
import { RULES } from "../src/validate/rules/index.js";

const file = fileURLToPath(new URL("../docs/rules.md", import.meta.url));
const text = rulesDocument(RULES);
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {
    // missing: out of date
  }
  if (current !== text) {
    process.stderr.write("docs/rules.md is out of date: run npm run docs:rules\n");
    process.exit(1);
  }
} else writeFileSync(file, text);
