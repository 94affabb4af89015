import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

export const evalCommand = defineCommand({
  command: "eval [exprs..]",
  describe: "Evaluate expressions in a template's scope, as terraform console does (offline)",
  builder: (y) =>
    y
      .positional("exprs", { type: "string", array: true, default: [] as string[], describe: "Expressions (default: one per line on stdin)" })
      .option("dir", { type: "string", default: ".", describe: "Template directory" })
      .option("parameter", { type: "string", array: true, default: [] as string[], describe: "A coder_parameter value, NAME=VALUE (repeatable)" })
      .option("var", { type: "string", array: true, default: [] as string[], describe: "An input variable, NAME=VALUE (repeatable; as terraform -var)" })
      .option("var-file", { type: "string", array: true, default: [] as string[], describe: "A .tfvars or .tfvars.json file (repeatable)" })
      .option("format", { choices: ["json", "text"] as const, default: "json" as const, describe: "json: one line per expression ({value}, {unknown} or {error}); text: as terraform console prints" })
      .example('$0 eval --dir examples/templates/aws-multi-agent "local.agents"', "a local value")
      .example("echo 'jsonencode({a = 1})' | $0 eval", "expressions from stdin")
      .epilogue("Resources' computed attributes are unknown (known only after apply); coder data sources have a workspace's values.\nExit codes: 0 every expression evaluated, 1 one did not, 2 bad input."),
  run: async (args) => {
    const { TemplateLoadError } = await import("../template/config.js");
    const { loadModule } = await import("../template/load.js");
    const { workspaceContext } = await import("../plan/context.js");
    const { ModuleScope } = await import("../plan/scope.js");
    const { evaluateConsole, consoleJson } = await import("../plan/console.js");
    const { InputError, pairs, variableValues } = await import("../plan/inputs.js");
    const { resolve } = await import("node:path");
    let config;
    try {
      config = loadModule(args.dir);
    } catch (err) {
      if (!(err instanceof TemplateLoadError)) throw err;
      // Like terraform console in an empty directory: no declarations, every built-in function.
      if (err.code !== "E_TEMPLATE_EMPTY") throw new UsageError(`cannot read the template: ${err.message}`, "check the path and the file it names", err.code);
      const dir = resolve(args.dir);
      config = { dir, relDir: ".", files: [], resources: [], locals: {}, variables: {}, outputs: {}, modules: {}, requiredProviders: {}, lockedVersions: {}, skipped: [] };
    }
    let ctx;
    try {
      ctx = workspaceContext({ parameters: Object.fromEntries(pairs(args.parameter, "--parameter")), variables: variableValues(config, args.var, args["var-file"]) });
    } catch (err) {
      if (err instanceof InputError) throw new UsageError(err.message, "give inputs as NAME=VALUE for variables the template declares");
      throw err;
    }
    let exprs = args.exprs as string[];
    if (exprs.length === 0) {
      const { readFileSync } = await import("node:fs");
      exprs = readFileSync(0, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "");
    }
    let failed = false;
    for (const e of exprs) {
      // Each expression in a fresh scope, as terraform console evaluates each line.
      const r = evaluateConsole(ModuleScope.root(config, ctx), e);
      if (r.kind === "error") failed = true;
      if (args.format === "text") {
        if (r.kind === "error") process.stdout.write(`Error: ${r.summary}\n\n${r.file ? `  on ${r.file} line ${r.line}\n\n` : ""}${r.detail}\n`);
        else process.stdout.write(r.text + "\n");
      } else process.stdout.write(JSON.stringify(consoleJson(r)) + "\n");
    }
    return failed ? 1 : 0;
  },
});
