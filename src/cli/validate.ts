import { defineCommand } from "./command.js";

const FORMATS = ["text", "json", "sarif", "junit"] as const;

export const validateCommand = defineCommand({
  command: "validate [paths..]",
  describe: "Check Coder templates for mistakes Terraform cannot see (agent names, CODER_AGENT_NAME wiring, cloud-config, ...)",
  builder: (y) =>
    y
      .positional("paths", { type: "string", array: true, default: ["."], describe: "Template directories (.tf / .tf.json)" })
      .option("format", { alias: "f", choices: FORMATS, default: "text" as const, describe: "Output format" })
      .option("strict", { type: "boolean", default: false, describe: "Fail on warnings too" })
      .option("json", { type: "boolean", default: false, describe: "Same as --format json" })
      .example("$0 validate examples/templates/aws-multi-agent", "check one template")
      .example("$0 validate templates/* --format sarif > results.sarif", "code-scanning upload")
      .epilogue("Exit codes: 0 clean (warnings allowed unless --strict), 1 findings, 2 unreadable input."),
  run: async (args) => {
    const { validatePaths, exitCodeOf } = await import("../validate/index.js");
    const report = await validatePaths(args.paths as string[]);
    const format = args.json ? "json" : args.format;
    let out: string;
    if (format === "json") out = (await import("../validate/reporters/json.js")).formatJson(report);
    else if (format === "sarif") {
      const { readFileSync } = await import("node:fs");
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
      out = (await import("../validate/reporters/sarif.js")).formatSarif(report, pkg.version);
    } else if (format === "junit") out = (await import("../validate/reporters/junit.js")).formatJunit(report, args.strict);
    else {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      out = (await import("../validate/reporters/text.js")).formatText(report, color);
    }
    process.stdout.write(out);
    return exitCodeOf(report, args.strict);
  },
});
