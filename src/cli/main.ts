import { readFileSync } from "node:fs";
import type { CommandDefinition } from "./command.js";
import { EXIT_USAGE, exitCodeOf, UsageError, UserError } from "./errors.js";
import { initCommand } from "./init.js";
import { validateCommand } from "./validate.js";
import { synthCommand } from "./synth.js";
import { coordinatorCommand } from "./coordinator.js";
import { imdsCommand } from "./imds.js";
import { agentCommand } from "./agent.js";
import { identityCommand } from "./identity.js";
import { e2eCommand } from "./e2e.js";
import { logsCommand } from "./logs.js";
import { evalCommand } from "./eval.js";

const commands: CommandDefinition<any>[] = [
  initCommand,
  validateCommand,
  evalCommand,
  synthCommand,
  coordinatorCommand,
  imdsCommand,
  agentCommand,
  identityCommand,
  e2eCommand,
  logsCommand,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** A thrown value as an Error (PGlite and emscripten throw plain objects). */
function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (err && typeof err === "object") {
    const o = err as { message?: unknown; name?: unknown };
    return new Error(typeof o.message === "string" ? o.message : `${typeof o.name === "string" ? o.name : "error"} ${JSON.stringify(err)}`);
  }
  return new Error(String(err));
}

/** Prints an error as one line and a fix (the stack only with --debug / PROVISIONER_DEBUG=1) and returns the exit code. */
function reportError(err: unknown, debug: boolean): number {
  const e = asError(err);
  if (e instanceof UserError) {
    process.stderr.write(`provisioner: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  fix: ${e.hint}\n`);
  } else {
    process.stderr.write(`provisioner: internal error: ${e.message.split("\n")[0]}\n`);
    if (!debug) process.stderr.write("  fix: this is a bug; rerun with --debug (or PROVISIONER_DEBUG=1) for the stack trace and report it\n");
  }
  if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
  return exitCodeOf(e);
}

/**
 * A single-value flag given twice (`--format json --format sarif`) arrives as an array: refused, as
 * silently picking one would run something else than asked.
 */
function refuseRepeatedFlags(argv: Record<string, unknown>, options: { array: string[]; key: Record<string, unknown> }): void {
  for (const key of Object.keys(options.key)) {
    if (options.array.includes(key) || !Array.isArray(argv[key])) continue;
    throw new UsageError(`--${key} is given ${(argv[key] as unknown[]).length} times`, `give --${key} once`);
  }
}

const DESCRIPTION = "Toolkit for Coder template authors: scaffold, validate, synthesize and test multi-agent templates end to end.";

/**
 * Top-level help without loading yargs (its import alone costs ~100 ms): the command list comes
 * from the light command metadata. Every other invocation goes through yargs.
 */
function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.command.length)) + "provisioner ".length;
  const lines = ["provisioner <command> [options]", "", DESCRIPTION, "", "Commands:"];
  for (const c of commands) lines.push(`  ${`provisioner ${c.command}`.padEnd(width)}  ${c.describe}`);
  lines.push("", "Options:", "      --version  Show version number", "  -h, --help     Show help", "      --debug    Print stack traces of internal errors (also PROVISIONER_DEBUG=1)", "", "Run `provisioner <command> --help` for the options of a command.");
  return lines.join("\n") + "\n";
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) {
    process.stdout.write(topLevelHelp());
    return 0;
  }
  if (argv.length === 1 && argv[0] === "--version") {
    process.stdout.write(version() + "\n");
    return 0;
  }
  if (argv.length === 0) {
    process.stderr.write(topLevelHelp() + "\nprovisioner: specify a command\n");
    return EXIT_USAGE;
  }
  const debug = argv.includes("--debug") || process.env.PROVISIONER_DEBUG === "1";
  const { default: yargs } = await import("yargs");
  let exitCode = 0;
  const cli = yargs(argv)
    .scriptName("provisioner")
    .usage(`$0 <command> [options]\n\n${DESCRIPTION}`)
    .version(version())
    .help()
    .alias("h", "help")
    .strict()
    // `--var a=1 EXPR`: a repeatable flag takes one value each time, so EXPR stays a positional.
    .parserConfiguration({ "greedy-arrays": false })
    .recommendCommands()
    .demandCommand(1, "Specify a command.")
    .option("debug", { type: "boolean", global: true, describe: "Print stack traces of internal errors (also PROVISIONER_DEBUG=1)" })
    // yargs passes itself as the second argument (its types omit it).
    .middleware(((args: Record<string, unknown>, y: { getOptions(): { array: string[]; key: Record<string, unknown> } }) => refuseRepeatedFlags(args, y.getOptions())) as never)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg ?? "invalid usage", "run `provisioner --help` (or `provisioner <command> --help`) for usage");
    });
  for (const def of commands) {
    cli.command({
      command: def.command,
      describe: def.describe,
      builder: def.builder,
      handler: async (args) => {
        exitCode = (await def.run(args)) ?? 0;
      },
    });
  }
  try {
    await cli.parseAsync();
  } catch (err) {
    return reportError(err, debug);
  }
  return exitCode;
}

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting; servers keep the process alive on their own.
process.exitCode = code;
