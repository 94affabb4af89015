import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const coordinatorCommand = defineCommand({
  command: "coordinator",
  describe: "(coordinator: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("coordinator is not implemented yet");
  },
});
