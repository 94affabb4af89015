import { defineCommand } from "./command.js";
import { UsageError } from "./errors.js";

// Placeholder: replaced by the owner of this command.
export const agentCommand = defineCommand({
  command: "agent",
  describe: "(agent: not implemented yet)",
  builder: (y) => y,
  run: async () => {
    throw new UsageError("agent is not implemented yet");
  },
});
