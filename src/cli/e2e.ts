import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const e2eCommand = defineCommand({
  command: "e2e",
  describe: "(e2e: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("e2e is not implemented yet");
  },
});
