import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const initCommand = defineCommand({
  command: "init",
  describe: "(init: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("init is not implemented yet");
  },
});
