import { readFileSync } from "node:fs";
import type { CommandDefinition } from "./command.js";
import { CliError, EXIT_INTERNAL, UsageError } from "./errors.js";
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

function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`provisioner: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  fix: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`provisioner: internal error: ${e.stack ?? e.message}\n`);
  return EXIT_INTERNAL;
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
  lines.push("", "Options:", "      --version  Show version number", "  -h, --help     Show help", "", "Run `provisioner <command> --help` for the options of a command.");
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
    return 2;
  }
  const { default: yargs } = await import("yargs");
  let exitCode = 0;
  const cli = yargs(argv)
    .scriptName("provisioner")
    .usage(`$0 <command> [options]\n\n${DESCRIPTION}`)
    .version(version())
    .help()
    .alias("h", "help")
    .strict()
    .recommendCommands()
    .demandCommand(1, "Specify a command.")
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
    return reportError(err);
  }
  return exitCode;
}

const code = await main(process.argv.slice(2));
// Let stdout drain before exiting; servers keep the process alive on their own.
process.exitCode = code;
