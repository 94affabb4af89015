import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const imdsCommand = defineCommand({
  command: "imds",
  describe: "(imds: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("imds is not implemented yet");
  },
});
