import type { Argv, ArgumentsCamelCase } from "yargs";

/**
 * One CLI command per file under src/cli/. A command file must stay light:
 * import services lazily inside `run` so `provisioner --help` never loads
 * cdktf, hcl2json, the database or the HTTP stack.
 */
export interface CommandDefinition<A = Record<string, unknown>> {
  /** yargs command string, e.g. "init <template> [dir]". */
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  /** Returns the process exit code (0 when omitted). */
  run: (args: ArgumentsCamelCase<A>) => Promise<number | void>;
}

export function defineCommand<A>(def: CommandDefinition<A>): CommandDefinition<A> {
  return def;
}
