import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

export const synthCommand = defineCommand({
  command: "synth",
  describe: "Synthesize a cdktf app (TypeScript/JavaScript) in-process into plain Terraform JSON (cdk.tf.json)",
  builder: (y) =>
    y
      .option("app", { type: "string", describe: "The app module (default export: (app: App) => void); default: cdktf.json's app" })
      .option("out", { type: "string", describe: "Output directory; default: cdktf.json's output, else cdktf.out" })
      .option("json", { type: "boolean", default: false, describe: "Print the written stacks as JSON" })
      .example("$0 synth", "synthesize the app named in ./cdktf.json")
      .example("$0 synth --app main.ts --out template", "write template/cdk.tf.json"),
  run: async (args) => {
    const { appFromCdktfJson, synthesize } = await import("../synth/index.js");
    const fromJson = await appFromCdktfJson(process.cwd());
    const app = args.app ?? fromJson?.app;
    if (!app) throw new UsageError("no cdktf app given and no cdktf.json here", "pass --app FILE (e.g. --app main.ts)");
    const out = args.out ?? fromJson?.output ?? "cdktf.out";
    const result = await synthesize(app, out);
    if (args.json) process.stdout.write(JSON.stringify({ stacks: result.stacks }) + "\n");
    else for (const s of result.stacks) process.stdout.write(`synthesized stack ${s.name} → ${s.file}\n`);
    return 0;
  },
});
