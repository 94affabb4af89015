import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const synthCommand = defineCommand({
  command: "synth",
  describe: "(synth: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("synth is not implemented yet");
  },
});
