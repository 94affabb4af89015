import type { Rule } from "../rule.js";
import { agentFields } from "./agent-fields.js";
import { agentNameWiring } from "./agent-name-wiring.js";
import { agentToken } from "./agent-token.js";
import { appFields } from "./app-fields.js";
import { cloudConfig } from "./cloud-config.js";
import { evaluation } from "./evaluation.js";
import { identityCloudMismatch } from "./identity-cloud-mismatch.js";
import { initScriptUnused } from "./init-script-unused.js";
import { mixedAuth } from "./mixed-auth.js";
import { providerCompat } from "./provider-compat.js";
import { scriptFields } from "./script-fields.js";

export const RULES: Rule[] = [agentNameWiring, agentToken, initScriptUnused, identityCloudMismatch, agentFields, mixedAuth, appFields, scriptFields, cloudConfig, providerCompat, evaluation];
