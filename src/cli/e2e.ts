import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

export const e2eCommand = defineCommand({
  command: "e2e [dir]",
  describe: "Run a template's real user data against a local coordinator, fake IMDS and agents, and check every agent",
  builder: (y) =>
    y
      .positional("dir", { type: "string", default: ".", describe: "Template directory (.tf or .tf.json, e.g. cdktf output)" })
      .option("scenario", {
        choices: ["start", "prebuild", "lifecycle", "all"] as const,
        default: "start" as const,
        describe: "start: agents come up as themselves; prebuild: what the claim changes, then claim and check one reinit each; lifecycle: start → stop → start → template update, every build checked; all: the three",
      })
      .option("update", { type: "string", describe: "The template's next version (a directory), for the lifecycle's update step (default: this template with every init_script changed)" })
      .option("fuzz-bootstrap", { type: "boolean", default: false, describe: "Give every agent a bootstrap holding ' \" $ ` %{ and prove each still starts" })
      .option("timeout", { type: "string", default: "60s", describe: "How long agents may take to be ready, per build (e.g. 30s, 2m)" })
      .option("keep", { type: "boolean", default: false, describe: "Keep the sandbox and logs, and print where" })
      .option("json", { type: "boolean", default: false, describe: "Print the report as JSON (for CI)" })
      .option("quiet", { alias: "q", type: "boolean", default: false, describe: "No progress lines on stderr (the report still prints)" })
      .option("logs", { type: "boolean", default: false, describe: "Print each agent's logs (as GET …/logs?format=text does) after the report" })
      .option("parameter", { type: "string", array: true, default: [] as string[], describe: "A template parameter, NAME=VALUE (repeatable; as `coder create --parameter`)" })
      .example("$0 e2e examples/templates/aws-multi-agent", "two agents on one EC2 instance")
      .example("$0 e2e . --scenario all --json", "start, prebuild-claim and lifecycle scenarios, machine-readable")
      .example("$0 e2e v1/ --scenario lifecycle --update v2/", "will running workspaces survive the update to v2?")
      .example("$0 e2e . --fuzz-bootstrap", "no quoting of the init script breaks when Coder's bootstrap changes")
      .epilogue("Exit codes: 0 every check passed, 1 a check failed (the report names the agent and the server's answer), 2 bad input."),
  run: async (args) => {
    const { parseDuration } = await import("./duration.js");
    const timeoutMs = parseDuration(args.timeout, "--timeout");
    const { TemplateLoadError } = await import("../template/config.js");
    const { runE2e, E2eInputError } = await import("../e2e/run.js");
    if (args.update !== undefined && args.scenario !== "lifecycle" && args.scenario !== "all") throw new UsageError("--update is for the lifecycle scenario", "add --scenario lifecycle (or all), or drop --update");
    const parameters: Record<string, string> = {};
    for (const p of args.parameter) {
      const eq = p.indexOf("=");
      if (eq <= 0) throw new UsageError(`--parameter ${JSON.stringify(p)} is not NAME=VALUE`, "give each parameter as --parameter NAME=VALUE");
      parameters[p.slice(0, eq)] = p.slice(eq + 1);
    }
    // Ctrl-C, SIGTERM and SIGHUP stop every sandbox and remove it before exiting (130, 143, 129).
    const controller = new AbortController();
    let signalled: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      signalled = sig;
      controller.abort();
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, onSignal);
    const { formatReport } = await import("../e2e/report.js");
    const live = !args.quiet;
    let report;
    try {
      report = await runE2e({
        dir: args.dir,
        scenarios: args.scenario === "all" ? ["start", "prebuild", "lifecycle"] : [args.scenario],
        updateDir: args.update,
        fuzzBootstrap: args.fuzzBootstrap,
        timeoutMs,
        keep: args.keep,
        parameters,
        logs: args.logs,
        signal: controller.signal,
        progress: (line) => {
          if (live) process.stderr.write(`  ${line}\n`);
        },
      });
    } catch (err) {
      if (err instanceof TemplateLoadError) throw new UsageError(`cannot read the template: ${err.message}`, "check the path and the file it names", err.code);
      if (err instanceof E2eInputError) throw new UsageError(err.message, "fix the template or the machine as the message says");
      throw err;
    } finally {
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(sig, onSignal);
    }
    if (signalled) {
      process.stderr.write(`e2e interrupted (${signalled}): every instance was stopped${args.keep ? "" : " and its sandbox removed"}\n`);
      return signalled === "SIGINT" ? 130 : signalled === "SIGTERM" ? 143 : 129;
    }
    process.stdout.write(args.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report, process.stdout.isTTY === true && !process.env.NO_COLOR));
    if (report.nothing_to_test) return 2;
    return report.ok ? 0 : 1;
  },
});
