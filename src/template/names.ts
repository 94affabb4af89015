/** Coder agent and app names (terraform-provider-coder), matched case-insensitively. */
export const AGENT_NAME_PATTERN = /^[a-z0-9](-?[a-z0-9])*$/i;
export const APP_SLUG_PATTERN = /^[a-z0-9](-?[a-z0-9])*$/;
