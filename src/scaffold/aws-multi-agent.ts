import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { AGENT_NAME_PATTERN } from "../template/names.js";
import type { AwsMultiAgentOptions, GeneratedFile } from "./options.js";

const TEMPLATE_DIR = new URL("../../templates/aws-multi-agent/", import.meta.url);
const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/** Parses `--agents main,dev` and checks every option; throws a UsageError naming the fix. */
export function checkAwsMultiAgentOptions(raw: {
  agents: string;
  region: string;
  instanceType: string;
  arch: string;
  os: string;
}): AwsMultiAgentOptions {
  const agents = raw.agents.split(",").map((a) => a.trim());
  if (agents.length === 0 || agents.every((a) => a === "")) {
    throw new UsageError("--agents is empty", "give at least one agent name, e.g. --agents main,dev", "E_INIT_AGENTS");
  }
  const seen = new Map<string, string>();
  for (const name of agents) {
    if (!AGENT_NAME_PATTERN.test(name)) {
      throw new UsageError(
        `invalid agent name ${JSON.stringify(name)}: names must match ${AGENT_NAME_PATTERN.source} (letters, digits and single hyphens, no leading or trailing hyphen)`,
        "rename the agent, e.g. --agents main,dev",
        "E_INIT_AGENT_NAME",
      );
    }
    const key = name.toLowerCase();
    if (seen.has(key)) {
      throw new UsageError(
        `duplicate agent name ${JSON.stringify(name)}: Coder rejects two agents with one name`,
        "give every agent its own name",
        "E_INIT_AGENT_DUPLICATE",
      );
    }
    seen.set(key, name);
  }
  if (!REGION_PATTERN.test(raw.region)) {
    throw new UsageError(
      `unknown region format ${JSON.stringify(raw.region)}`,
      "use an AWS region code such as us-east-1 or eu-west-2",
      "E_INIT_REGION",
    );
  }
  if (!INSTANCE_TYPE_PATTERN.test(raw.instanceType)) {
    throw new UsageError(
      `invalid instance type ${JSON.stringify(raw.instanceType)}`,
      "use an EC2 instance type such as t3.medium",
      "E_INIT_INSTANCE_TYPE",
    );
  }
  if (raw.arch !== "amd64" && raw.arch !== "arm64") {
    throw new UsageError(`unsupported --arch ${JSON.stringify(raw.arch)}`, "use --arch amd64 or --arch arm64", "E_INIT_ARCH");
  }
  if (raw.os !== "linux") {
    throw new UsageError(`unsupported --os ${JSON.stringify(raw.os)}`, "this template supports --os linux", "E_INIT_OS");
  }
  return {
    agents: agents.map((a) => a.toLowerCase()),
    region: raw.region,
    instanceType: raw.instanceType,
    arch: raw.arch,
    os: raw.os,
  };
}

/** Renders the HCL template files for the given (checked) options. */
export async function renderAwsMultiAgent(options: AwsMultiAgentOptions): Promise<GeneratedFile[]> {
  const { default: Handlebars } = await import("handlebars");
  const width = Math.max(...options.agents.map((a) => a.length));
  const sorted = [...options.agents].sort();
  const context = {
    ...options,
    amiArch: options.arch,
    agents: options.agents.map((name) => ({ name, padded: name.padEnd(width) })),
    agentCount: options.agents.length,
    agentList: options.agents.join(", "),
    agentListCode: options.agents.map((a) => `\`${a}\``).join(", "),
    sortedAgentList: sorted.join(", "),
  };
  // The cloud-config is a Terraform template already (shared with the cdktf construct): copied as is.
  const files: [path: string, source: string, handlebars: boolean][] = [
    ["main.tf", "main.tf.hbs", true],
    ["cloud-init.yaml.tftpl", "cloud-init.yaml.tftpl", false],
    ["README.md", "README.md.hbs", true],
  ];
  const out: GeneratedFile[] = [];
  for (const [path, source, handlebars] of files) {
    const text = await readFile(new URL(source, TEMPLATE_DIR), "utf8");
    out.push({ path, content: handlebars ? Handlebars.compile(text, { noEscape: true, strict: true })(context) : text });
  }
  return out;
}
