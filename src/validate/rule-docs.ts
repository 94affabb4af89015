/**
 * Rule documentation from the rules' own metadata: the `docs/rules.md` page (`npm run docs:rules`
 * writes it; a test checks it is current) and SARIF's `rules[].help`.
 */
import type { Rule } from "./rule.js";

const fence = (code: string) => {
  const lang = /^#cloud-config|^runcmd:|^\s*-\s/m.test(code) && !/^\s*(resource|data|locals|terraform|user_data)\b/m.test(code) ? "yaml" : "hcl";
  return "```" + lang + "\n" + code.trimEnd() + "\n```";
};

/** One rule as Markdown: id, severity, what, why, fix, example. */
export function ruleMarkdown(rule: Rule, heading = "##"): string {
  return [
    `${heading} \`${rule.id}\``,
    "",
    `**${rule.title}** — default severity: ${rule.severity}.`,
    "",
    `**What.** ${rule.description}`,
    "",
    `**Why.** ${rule.why}`,
    "",
    `**Fix.** ${rule.fix}`,
    "",
    "Fails:",
    "",
    fence(rule.example.bad),
    "",
    "Passes:",
    "",
    fence(rule.example.good),
  ].join("\n");
}

/** SARIF `reportingDescriptor.help`: plain text and Markdown. */
export function ruleHelp(rule: Rule): { text: string; markdown: string } {
  return {
    text: `${rule.description}\n\nWhy: ${rule.why}\n\nFix: ${rule.fix}\n\nFails:\n${rule.example.bad}\n\nPasses:\n${rule.example.good}\n`,
    markdown: ruleMarkdown(rule, "###"),
  };
}

/** The whole docs/rules.md. */
export function rulesDocument(rules: Rule[]): string {
  const toc = rules.map((r) => `| [\`${r.id}\`](#${r.id.replace(/[^a-z0-9-]/g, "")}) | ${r.severity} | ${r.title} |`);
  return [
    "# validate rules",
    "",
    "<!-- Generated from the rules' metadata by `npm run docs:rules` (src/validate/rules/*.ts); do not edit by hand. -->",
    "",
    "`provisioner validate` runs every rule on every template. Each finding names its rule id, the file and line, and how to fix it;",
    "`--format sarif` carries the same text in `rules[].help`. Errors exit 1; warnings exit 1 only with `--strict`.",
    "",
    "| rule | severity | checks |",
    "|---|---|---|",
    ...toc,
    "",
    ...rules.map((r) => ruleMarkdown(r) + "\n"),
  ].join("\n");
}
