import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const validateCommand = defineCommand({
  command: "validate",
  describe: "(validate: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("validate is not implemented yet");
  },
});
