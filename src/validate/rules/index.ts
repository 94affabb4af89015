import type { Rule } from "../rule.js";
import { agentFields } from "./agent-fields.js";
import { agentNameWiring } from "./agent-name-wiring.js";
import { agentToken } from "./agent-token.js";
import { appSlugUnique } from "./app-slug-unique.js";
import { appFields } from "./app-fields.js";
import { cloudConfig } from "./cloud-config.js";
import { deviceWait } from "./device-wait.js";
import { evaluation } from "./evaluation.js";
import { identityCloudMismatch } from "./identity-cloud-mismatch.js";
import { initScriptQuoting } from "./init-script-quoting.js";
import { initScriptUnused } from "./init-script-unused.js";
import { metadata } from "./metadata.js";
import { mixedAuth } from "./mixed-auth.js";
import { multiAgentSupervised } from "./multi-agent-supervised.js";
import { parameters } from "./parameters.js";
import { prebuildReplacement } from "./prebuild-replacement.js";
import { providerCompat } from "./provider-compat.js";
import { scriptFields } from "./script-fields.js";
import { startupBlocks } from "./startup-blocks.js";
import { tokenIgnoreChanges } from "./token-ignore-changes.js";

export const RULES: Rule[] = [
  agentNameWiring,
  agentToken,
  initScriptUnused,
  initScriptQuoting,
  identityCloudMismatch,
  agentFields,
  mixedAuth,
  multiAgentSupervised,
  appFields,
  appSlugUnique,
  scriptFields,
  startupBlocks,
  metadata,
  parameters,
  prebuildReplacement,
  tokenIgnoreChanges,
  cloudConfig,
  deviceWait,
  providerCompat,
  evaluation,
];
