import { z } from "zod";

/**
 * Instance-identity auth requests (SPEC §1). `agent_name` is optional; clients omit the key
 * entirely when no name is set (never send ""). The server trims it and treats
 * empty/whitespace as "not given".
 */
export const AwsInstanceIdentityRequest = z.object({
  signature: z.string().min(1),
  document: z.string().min(1),
  agent_name: z.string().optional(),
});
export type AwsInstanceIdentityRequest = z.infer<typeof AwsInstanceIdentityRequest>;

export const AzureInstanceIdentityRequest = z.object({
  signature: z.string().min(1),
  encoding: z.string().min(1),
  agent_name: z.string().optional(),
});
export type AzureInstanceIdentityRequest = z.infer<typeof AzureInstanceIdentityRequest>;

export const GoogleInstanceIdentityRequest = z.object({
  json_web_token: z.string().min(1),
  agent_name: z.string().optional(),
});
export type GoogleInstanceIdentityRequest = z.infer<typeof GoogleInstanceIdentityRequest>;

export const AuthenticateResponse = z.object({ session_token: z.string() });
export type AuthenticateResponse = z.infer<typeof AuthenticateResponse>;

export const AgentAuthType = z.enum(["token", "aws-instance-identity", "azure-instance-identity", "google-instance-identity"]);
export type AgentAuthType = z.infer<typeof AgentAuthType>;

export const AUTH_ROUTES = {
  "aws-instance-identity": "/api/v2/workspaceagents/aws-instance-identity",
  "azure-instance-identity": "/api/v2/workspaceagents/azure-instance-identity",
  "google-instance-identity": "/api/v2/workspaceagents/google-instance-identity",
} as const;

/** Header carrying the agent (or admin) token on every authenticated route. */
export const SESSION_TOKEN_HEADER = "Coder-Session-Token";

/** Cookie (and query parameter) that also carries the agent token: coderd's Go agent SDK sends it on the reinit stream. */
export const SESSION_TOKEN_COOKIE = "coder_session_token";
