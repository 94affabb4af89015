import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

export const e2eCommand = defineCommand({
  command: "e2e [dir]",
  describe: "Run a template's real user data against a local coordinator, fake IMDS and agents, and check every agent",
  builder: (y) =>
    y
      .positional("dir", { type: "string", default: ".", describe: "Template directory (.tf or .tf.json, e.g. cdktf output)" })
      .option("scenario", { choices: ["start", "prebuild", "all"] as const, default: "start" as const, describe: "start: agents come up as themselves; prebuild: also claim and check one reinit each" })
      .option("timeout", { type: "string", default: "60s", describe: "How long agents may take per scenario (e.g. 30s, 2m)" })
      .option("keep", { type: "boolean", default: false, describe: "Keep the sandbox and logs, and print where" })
      .option("json", { type: "boolean", default: false, describe: "Print the report as JSON (for CI)" })
      .example("$0 e2e examples/templates/aws-multi-agent", "two agents on one EC2 instance")
      .example("$0 e2e . --scenario all --json", "start and prebuild-claim scenarios, machine-readable")
      .epilogue("Exit codes: 0 every check passed, 1 a check failed (the report names the agent and the server's answer), 2 bad input."),
  run: async (args) => {
    const { parseDuration } = await import("./duration.js");
    const timeoutMs = parseDuration(args.timeout, "--timeout");
    const { TemplateLoadError } = await import("../template/model.js");
    const { runE2e } = await import("../e2e/run.js");
    const { formatReport } = await import("../e2e/report.js");
    const live = process.stderr.isTTY === true && !args.json;
    let report;
    try {
      report = await runE2e({
        dir: args.dir,
        scenarios: args.scenario === "all" ? ["start", "prebuild"] : [args.scenario],
        timeoutMs,
        keep: args.keep,
        progress: (line) => {
          if (live) process.stderr.write(`  ${line}\n`);
        },
      });
    } catch (err) {
      if (err instanceof TemplateLoadError) throw new UsageError(`cannot read the template: ${err.message}`, "check the path and the file it names", err.code);
      throw err;
    }
    process.stdout.write(args.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report, process.stdout.isTTY === true && !process.env.NO_COLOR));
    return report.ok ? 0 : 1;
  },
});
