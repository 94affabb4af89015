import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { AwsMultiAgentOptions, GeneratedFile } from "./options.js";

const TEMPLATE_DIR = new URL("../../templates/aws-multi-agent-cdktf/", import.meta.url);
/** This package's directory: the project depends on it by path (`file:`), as it is not on a registry. */
export const PACKAGE_DIR = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/**
 * Renders the `init aws-multi-agent --cdktf` project: a small TypeScript cdktf program that builds
 * the same template as the HCL scaffold with the constructs of `provisioner/constructs`.
 */
export async function renderCdktfProject(options: AwsMultiAgentOptions): Promise<GeneratedFile[]> {
  const { default: Handlebars } = await import("handlebars");
  const context = {
    ...options,
    // JSON-escaped without its quotes: the path goes inside a JSON string.
    packageDir: JSON.stringify(PACKAGE_DIR).slice(1, -1),
    agentCount: options.agents.length,
    agentList: options.agents.join(", "),
    sortedAgentList: [...options.agents].sort().join(", "),
    agentsArray: options.agents.map((a) => JSON.stringify(a)).join(", "),
  };
  const files: [path: string, source: string][] = [
    ["main.ts", "main.ts.hbs"],
    ["package.json", "package.json.hbs"],
    ["cdktf.json", "cdktf.json"],
    ["tsconfig.json", "tsconfig.json"],
    ["README.md", "README.md.hbs"],
  ];
  const out: GeneratedFile[] = [];
  for (const [path, source] of files) {
    const text = await readFile(new URL(source, TEMPLATE_DIR), "utf8");
    out.push({ path, content: source.endsWith(".hbs") ? Handlebars.compile(text, { noEscape: true, strict: true })(context) : text });
  }
  return out;
}
