/**
 * A Terraform module's configuration as written: its blocks with their expressions and source
 * positions, before any evaluation. `loadModule` reads a directory into this.
 */
import type { Expr, Pos } from "./hcl/index.js";

/** An argument: its expression, where it is, and its source text (HCL files). */
export interface Attr {
  name: string;
  expr: Expr;
  /** Path of the file relative to the root template directory. */
  file: string;
  pos: Pos;
  /** Source text of the expression (empty for .tf.json values). */
  source: string;
}

export interface BlockConfig {
  type: string;
  labels: string[];
  attrs: Record<string, Attr>;
  blocks: BlockConfig[];
  file: string;
  pos: Pos;
}

export interface ResourceConfig {
  mode: "managed" | "data";
  type: string;
  name: string;
  /** `aws_instance.dev` or `data.coder_workspace.me`. */
  address: string;
  file: string;
  pos: Pos;
  /** Arguments other than the meta-arguments below. */
  attrs: Record<string, Attr>;
  /** Nested blocks other than lifecycle/connection/provisioner. */
  blocks: BlockConfig[];
  /** connection and provisioner blocks (their references are dependencies, as in Terraform's graph). */
  provisioners?: BlockConfig[];
  count?: Attr;
  forEach?: Attr;
  /** lifecycle { ignore_changes = … } as written: attribute paths, or "all". */
  ignoreChanges?: string[] | "all";
  lifecycle?: BlockConfig;
}

export interface VariableConfig {
  name: string;
  type?: Expr;
  default?: Attr;
  nullable: boolean;
  sensitive: boolean;
  file: string;
  pos: Pos;
}

export interface OutputConfig {
  name: string;
  value?: Attr;
  file: string;
  pos: Pos;
}

export interface ModuleCallConfig {
  name: string;
  /** The `source` argument as written (a literal in every valid configuration). */
  source: string;
  version?: string;
  attrs: Record<string, Attr>;
  count?: Attr;
  forEach?: Attr;
  file: string;
  pos: Pos;
}

export interface RequiredProvider {
  name: string;
  source?: string;
  /** Version constraint string, e.g. ">= 2.0.0" or "0.6.0". */
  version?: string;
  file: string;
  pos: Pos;
}

export interface ModuleConfig {
  /** Absolute directory of the module. */
  dir: string;
  /** Directory relative to the root module ("." for the root). */
  relDir: string;
  files: string[];
  resources: ResourceConfig[];
  locals: Record<string, Attr>;
  variables: Record<string, VariableConfig>;
  outputs: Record<string, OutputConfig>;
  modules: Record<string, ModuleCallConfig>;
  requiredProviders: Record<string, RequiredProvider>;
  /** Versions locked in .terraform.lock.hcl, by provider source (e.g. "registry.terraform.io/coder/coder"). */
  lockedVersions: Record<string, string>;
  /** Files that were skipped, with why (not regular files). */
  skipped: { file: string; reason: string }[];
}

/** A template or module that cannot be read: which file, where, and why. */
export class TemplateLoadError extends Error {
  /** The message without the location. */
  readonly reason: string;

  constructor(
    readonly code: string,
    readonly file: string,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line ? `:${line}${column ? `:${column}` : ""}` : ""}: ${message}`);
    this.reason = message;
    this.name = "TemplateLoadError";
  }
}
