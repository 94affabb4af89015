/**
 * The workspace a template is evaluated for: what Coder passes to Terraform (workspace and owner
 * data, parameters, variables, the transition) and what the agents' computed attributes are.
 */
import { randomUUID } from "node:crypto";
import type { Value } from "../template/hcl/index.js";

/** The prebuilds system user (SPEC §3). */
export const PREBUILDS_USER = { id: "c42fdf75-3097-471c-8c33-fb52454d81c0", name: "prebuilds" };

export interface OwnerContext {
  id: string;
  name: string;
  fullName: string;
  email: string;
  sshPublicKey: string;
  sshPrivateKey: string;
  groups: string[];
  sessionToken: string;
  oidcAccessToken: string;
  loginType: string;
  rbacRoles: { name: string; org_id: string }[];
}

export interface WorkspaceContext {
  transition: "start" | "stop" | "delete";
  /**
   * plan: attributes only the provider computes are unknown (validate reads what Terraform's plan
   * knows); apply: they have concrete values, as when e2e boots the instance.
   */
  phase: "plan" | "apply";
  workspace: {
    id: string;
    name: string;
    accessUrl: string;
    accessPort: number;
    templateId: string;
    templateName: string;
    templateVersion: string;
    /** Built for the prebuild pool (owned by the prebuilds user). */
    isPrebuild: boolean;
    /** The build that claims a prebuilt workspace for a real user. */
    isPrebuildClaim: boolean;
  };
  owner: OwnerContext;
  /** `--parameter name=value`, as `coder create` takes them. */
  parameters: Record<string, string>;
  /** `--var` / `--var-file` values, already parsed. */
  variables: Record<string, Value>;
  /** The provisioner's platform (data.coder_provisioner). */
  provisioner: { os: string; arch: string };
  /** Each agent's computed attributes; `initScript` is what the user data will run. */
  agent(name: string): { id: string; token: string; initScript: string };
  now: Date;
}

export interface ContextOptions {
  transition?: WorkspaceContext["transition"];
  phase?: WorkspaceContext["phase"];
  prebuild?: "none" | "prebuild" | "claim";
  owner?: Partial<OwnerContext>;
  workspaceName?: string;
  accessUrl?: string;
  parameters?: Record<string, string>;
  variables?: Record<string, Value>;
  agent?: WorkspaceContext["agent"];
  /** Workspace values to keep (two plans of one workspace: its id, template ids, name). */
  workspace?: Partial<Omit<WorkspaceContext["workspace"], "isPrebuild" | "isPrebuildClaim">>;
  now?: Date;
}

/** A realistic workspace context; every id is a fresh UUID. */
export function workspaceContext(opts: ContextOptions = {}): WorkspaceContext {
  const prebuild = opts.prebuild ?? "none";
  const agents = new Map<string, { id: string; token: string; initScript: string }>();
  const accessUrl = opts.accessUrl ?? "https://coder.example.com";
  const owner: OwnerContext =
    prebuild === "prebuild"
      ? { ...defaultOwner(), id: PREBUILDS_USER.id, name: PREBUILDS_USER.name, fullName: "Prebuilds", email: "prebuilds@system", ...opts.owner }
      : { ...defaultOwner(), ...opts.owner };
  const url = new URL(accessUrl);
  return {
    transition: opts.transition ?? "start",
    phase: opts.phase ?? "plan",
    workspace: {
      id: randomUUID(),
      name: opts.workspaceName ?? "dev",
      accessUrl,
      accessPort: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      templateId: randomUUID(),
      templateName: "template",
      templateVersion: "v1",
      ...opts.workspace,
      isPrebuild: prebuild === "prebuild",
      isPrebuildClaim: prebuild === "claim",
    },
    owner,
    parameters: opts.parameters ?? {},
    variables: opts.variables ?? {},
    provisioner: { os: "linux", arch: "amd64" },
    agent:
      opts.agent ??
      ((name) => {
        let a = agents.get(name);
        if (!a) {
          a = { id: randomUUID(), token: randomUUID(), initScript: `#!/bin/sh\n# coder agent ${name}\n` };
          agents.set(name, a);
        }
        return a;
      }),
    now: opts.now ?? new Date(),
  };
}

function defaultOwner(): OwnerContext {
  return {
    id: randomUUID(),
    name: "alice",
    fullName: "Alice Example",
    email: "alice@example.com",
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3GpXz2cI1M1wqv7bM6f1Jm6H0Z2+u9Wn2n3mQy8rT alice@example.com",
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n",
    groups: ["Everyone"],
    sessionToken: "provisioner-session-token",
    oidcAccessToken: "",
    loginType: "password",
    rbacRoles: [{ name: "member", org_id: "" }],
  };
}
