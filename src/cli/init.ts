import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

const TEMPLATES = ["aws-multi-agent"] as const;
/** t3 is x86 only; Graviton's t4g is its arm64 twin. */
const DEFAULT_INSTANCE_TYPE = { amd64: "t3.medium", arm64: "t4g.medium" } as const;

export const initCommand = defineCommand({
  command: "init <template> [dir]",
  describe: "Scaffold a Coder template (aws-multi-agent: one EC2 instance, several agents)",
  builder: (y) =>
    y
      .positional("template", { type: "string", describe: `Template to scaffold: ${TEMPLATES.join(", ")}`, demandOption: true })
      .positional("dir", { type: "string", describe: "Output directory (created; must be empty unless --force)", default: "aws-multi-agent" })
      .option("agents", { type: "string", default: "main,dev", describe: "Comma-separated agent names, one coder_agent each" })
      .option("region", { type: "string", default: "us-east-1", describe: "AWS region" })
      .option("instance-type", { type: "string", describe: "EC2 instance type [default: t3.medium for amd64, t4g.medium for arm64]" })
      .option("arch", { type: "string", default: "amd64", choices: ["amd64", "arm64"], describe: "Agent and AMI architecture" })
      .option("os", { type: "string", default: "linux", choices: ["linux"], describe: "Agent operating system" })
      .option("force", { type: "boolean", default: false, describe: "Write into a non-empty directory, overwriting generated files" })
      .option("cdktf", { type: "boolean", default: false, describe: "Scaffold a TypeScript cdktf project that builds the same template" })
      .option("json", { type: "boolean", default: false, describe: "Print the written files as JSON" })
      .example("$0 init aws-multi-agent my-template", "HCL template with agents main and dev")
      .example("$0 init aws-multi-agent my-template --agents main,dev,ci --region eu-west-1", "three agents")
      .example("$0 init aws-multi-agent my-cdktf --cdktf", "cdktf project (synthesize with `provisioner synth`)"),
  run: async (args) => {
    if (!(TEMPLATES as readonly string[]).includes(args.template)) {
      throw new UsageError(`unknown template ${JSON.stringify(args.template)}`, `known templates: ${TEMPLATES.join(", ")}`, "E_INIT_TEMPLATE");
    }
    const { checkAwsMultiAgentOptions, renderAwsMultiAgent } = await import("../scaffold/aws-multi-agent.js");
    const { writeScaffold } = await import("../scaffold/write.js");
    const options = checkAwsMultiAgentOptions({
      agents: args.agents,
      region: args.region,
      instanceType: args.instanceType ?? DEFAULT_INSTANCE_TYPE[args.arch as "amd64" | "arm64"] ?? "t3.medium",
      arch: args.arch,
      os: args.os,
    });
    const files = args.cdktf
      ? await (await import("../scaffold/cdktf.js")).renderCdktfProject(options)
      : await renderAwsMultiAgent(options);
    const written = await writeScaffold(args.dir, files, { force: args.force });
    if (args.json) {
      process.stdout.write(JSON.stringify({ template: args.template, dir: args.dir, cdktf: args.cdktf, files: files.map((f) => f.path) }) + "\n");
    } else {
      process.stdout.write(`Scaffolded ${args.template}${args.cdktf ? " (cdktf)" : ""} with agents ${options.agents.join(", ")} in ${args.dir}:\n`);
      for (const f of files) process.stdout.write(`  ${f.path}\n`);
      process.stdout.write(
        args.cdktf
          ? `Next: cd ${args.dir} && npm install && npx provisioner synth   (package.json installs provisioner from ${(await import("../scaffold/cdktf.js")).PACKAGE_DIR})\n`
          : `Next: provisioner validate ${args.dir} && provisioner e2e ${args.dir}\n`,
      );
    }
    return written.length > 0 ? 0 : 0;
  },
});
