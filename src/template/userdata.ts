import { gunzipSync } from "node:zlib";
import { parseDocument } from "yaml";
import { shellQuote } from "../machine/shell.js";

/**
 * Interprets rendered user data the way cloud-init would: a `#cloud-config` document, a MIME
 * multipart archive of parts, or a shell script. validate reads it; e2e executes it.
 */

export interface UserDataFile {
  path: string;
  content: string;
  permissions?: string;
  owner?: string;
  defer: boolean;
  append: boolean;
}

export interface UserDataCommand {
  /** Where it comes from, for messages: "runcmd[1]", "bootcmd[0]", "part userdata.sh". */
  origin: string;
  /** bootcmd runs early; runcmd entries make one script ("runcmd"); parts and plain scripts are scripts of their own. */
  stage: "bootcmd" | "runcmd" | "part";
  /** Its file in /var/lib/cloud/instance/scripts (scripts-user runs them in name order). */
  file: string;
  /** argv for the list form of runcmd; a shell script otherwise. */
  argv?: string[];
  script?: string;
}

/** cloud-config `users:` and `groups:` (cloud-init creates them before the scripts run). */
export interface CloudAccounts {
  users: { name: string; home?: string; shell?: string; groups: string[]; noCreateHome: boolean; system: boolean }[];
  groups: string[];
}

export interface UserDataProblem {
  message: string;
  /** 1-based line within the rendered document, when known. */
  line?: number;
  key?: string;
}

export interface UserDataPlan {
  format: "cloud-config" | "shell" | "multipart" | "empty" | "unknown";
  files: UserDataFile[];
  /** In the order cloud-init runs them: bootcmd, then runcmd, then shell scripts. */
  commands: UserDataCommand[];
  /** Keys cloud-init handles that e2e does not execute (packages, …), for logging. */
  ignoredKeys: string[];
  problems: UserDataProblem[];
  /** Names in cloud-config `users:` ("default" is the image's default user); undefined when absent. */
  users?: string[];
  accounts?: CloudAccounts;
  /**
   * cloud-config `cloud_final_modules` runs scripts-user `always`: the user data's scripts run at
   * every boot, not only at the instance's first (cloud-init's default is once per instance).
   */
  scriptsUserAlways: boolean;
}

const ENCODINGS: Record<string, "b64" | "gz" | "gzb64" | "text"> = {
  b64: "b64",
  base64: "b64",
  gz: "gz",
  gzip: "gz",
  "gz+b64": "gzb64",
  "gz+base64": "gzb64",
  "gzip+b64": "gzb64",
  "gzip+base64": "gzb64",
  "text/plain": "text",
};

function decodeContent(content: string, encoding: string | undefined): string {
  const kind = encoding ? ENCODINGS[encoding.toLowerCase()] : "text";
  if (kind === "b64") return Buffer.from(content, "base64").toString("utf8");
  if (kind === "gzb64") return gunzipSync(Buffer.from(content, "base64")).toString("utf8");
  return content;
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === "string";
const isBool: Check = (v) => typeof v === "boolean";
const isCommand: Check = (v) => typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number"));
const listOf = (c: Check): Check => (v) => Array.isArray(v) && v.every(c);

/** Types of the cloud-config keys templates commonly use (cloud-init's schema, abridged). */
const KEY_TYPES: Record<string, { check: Check; expected: string }> = {
  runcmd: { check: listOf(isCommand), expected: "a list of commands (strings or lists of strings)" },
  bootcmd: { check: listOf(isCommand), expected: "a list of commands (strings or lists of strings)" },
  write_files: { check: listOf((f) => !!f && typeof f === "object" && !Array.isArray(f)), expected: "a list of file entries" },
  packages: { check: listOf((p) => typeof p === "string" || (Array.isArray(p) && p.every(isString))), expected: "a list of package names" },
  package_update: { check: isBool, expected: "a boolean" },
  package_upgrade: { check: isBool, expected: "a boolean" },
  package_reboot_if_required: { check: isBool, expected: "a boolean" },
  hostname: { check: isString, expected: "a string" },
  fqdn: { check: isString, expected: "a string" },
  users: { check: (v) => isString(v) || listOf((u) => isString(u) || (!!u && typeof u === "object" && !Array.isArray(u)))(v), expected: "a list of users" },
  ssh_authorized_keys: { check: listOf(isString), expected: "a list of strings" },
  cloud_final_modules: { check: listOf((m) => isString(m) || (Array.isArray(m) && m.every(isString))), expected: "a list of module names" },
  cloud_config_modules: { check: listOf((m) => isString(m) || (Array.isArray(m) && m.every(isString))), expected: "a list of module names" },
  cloud_init_modules: { check: listOf((m) => isString(m) || (Array.isArray(m) && m.every(isString))), expected: "a list of module names" },
};

const WRITE_FILE_KEYS: Record<string, Check> = {
  path: isString,
  content: (v) => v === null || typeof v === "string",
  encoding: (v) => typeof v === "string" && v.toLowerCase() in ENCODINGS,
  permissions: (v) => typeof v === "string" && /^0?[0-7]{3,4}$/.test(v),
  owner: isString,
  append: isBool,
  defer: isBool,
};

function lineAt(text: string, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  return text.slice(0, offset).split("\n").length;
}

function cloudConfig(text: string, plan: UserDataPlan, origin: string): void {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    plan.problems.push({ message: `${origin} is not valid YAML: ${e.message.split("\n")[0]}`, line: e.linePos?.[0]?.line });
    return;
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return;
  if (typeof value !== "object" || Array.isArray(value)) {
    plan.problems.push({ message: `${origin} must be a YAML mapping of cloud-config keys`, line: 1 });
    return;
  }
  const cfg = value as Record<string, unknown>;
  const keyLine = (key: string): number | undefined => {
    const node = doc.contents && "items" in doc.contents ? (doc.contents.items as { key: { value: unknown; range?: number[] } }[]).find((p) => p.key?.value === key) : undefined;
    return lineAt(text, node?.key?.range?.[0]);
  };
  for (const [key, v] of Object.entries(cfg)) {
    const t = KEY_TYPES[key];
    if (t && !t.check(v)) plan.problems.push({ key, message: `${origin}: cloud-config key ${key} must be ${t.expected}`, line: keyLine(key) });
  }
  const files = Array.isArray(cfg.write_files) ? cfg.write_files : [];
  files.forEach((f, i) => {
    if (!f || typeof f !== "object" || Array.isArray(f)) return;
    const entry = f as Record<string, unknown>;
    for (const [k, check] of Object.entries(WRITE_FILE_KEYS)) {
      if (k in entry && !check(entry[k])) plan.problems.push({ key: `write_files[${i}].${k}`, message: `${origin}: write_files[${i}].${k} has a wrong value or type (${JSON.stringify(entry[k])})`, line: keyLine("write_files") });
    }
    if (typeof entry.path !== "string") {
      plan.problems.push({ key: `write_files[${i}].path`, message: `${origin}: write_files[${i}] has no path`, line: keyLine("write_files") });
      return;
    }
    let content = "";
    try {
      content = decodeContent(typeof entry.content === "string" ? entry.content : "", typeof entry.encoding === "string" ? entry.encoding : undefined);
    } catch (err) {
      plan.problems.push({ key: `write_files[${i}].content`, message: `${origin}: write_files[${i}] content does not decode as ${String(entry.encoding)}: ${(err as Error).message}` });
    }
    plan.files.push({
      path: entry.path,
      content,
      permissions: typeof entry.permissions === "string" ? entry.permissions : undefined,
      owner: typeof entry.owner === "string" ? entry.owner : undefined,
      defer: entry.defer === true,
      append: entry.append === true,
    });
  });
  for (const key of ["bootcmd", "runcmd"] as const) {
    const cmds = cfg[key];
    if (!Array.isArray(cmds)) continue;
    cmds.forEach((c, i) => {
      const base = { origin: `${origin} ${key}[${i}]`, stage: key, file: key };
      if (typeof c === "string") plan.commands.push({ ...base, script: c });
      else if (Array.isArray(c)) plan.commands.push({ ...base, argv: c.map(String) });
    });
  }
  if (Array.isArray(cfg.users) || typeof cfg.users === "string") {
    const list = typeof cfg.users === "string" ? cfg.users.split(",").map((u) => u.trim()) : (cfg.users as unknown[]);
    plan.users = [];
    plan.accounts ??= { users: [], groups: [] };
    for (const u of list) {
      if (typeof u === "string") {
        plan.users.push(u);
        if (u !== "default") plan.accounts.users.push({ name: u, groups: [], noCreateHome: false, system: false });
      } else if (u && typeof u === "object" && typeof (u as Record<string, unknown>).name === "string") {
        const o = u as Record<string, unknown>;
        const groups = typeof o.groups === "string" ? o.groups.split(",").map((g) => g.trim()) : Array.isArray(o.groups) ? o.groups.map(String) : [];
        if (o.sudo !== undefined && o.sudo !== false && !groups.includes("sudo")) groups.push("sudo");
        plan.users.push(String(o.name));
        plan.accounts.users.push({ name: String(o.name), home: typeof o.homedir === "string" ? o.homedir : undefined, shell: typeof o.shell === "string" ? o.shell : undefined, groups, noCreateHome: o.no_create_home === true, system: o.system === true });
      }
    }
  }
  if (Array.isArray(cfg.groups)) {
    plan.accounts ??= { users: [], groups: [] };
    for (const g of cfg.groups) {
      if (typeof g === "string") plan.accounts.groups.push(g);
      else if (g && typeof g === "object") plan.accounts.groups.push(...Object.keys(g));
    }
  }
  if (Array.isArray(cfg.cloud_final_modules)) {
    plan.scriptsUserAlways ||= cfg.cloud_final_modules.some((m) => Array.isArray(m) && /^scripts[-_]user$/.test(String(m[0])) && m.slice(1).map(String).includes("always"));
  }
  for (const key of Object.keys(cfg)) if (!["write_files", "runcmd", "bootcmd", "users", "groups", "cloud_final_modules"].includes(key)) plan.ignoredKeys.push(key);
}

function multipart(text: string, plan: UserDataPlan): void {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
  if (!boundary) {
    plan.problems.push({ message: "MIME multipart user data without a boundary" });
    return;
  }
  const chunks = text.split(`--${boundary}`).slice(1);
  for (const chunk of chunks) {
    if (chunk.startsWith("--")) break;
    const sep = chunk.search(/\r?\n\r?\n/);
    if (sep < 0) continue;
    const headers = chunk.slice(0, sep);
    let body = chunk.slice(sep).replace(/^\r?\n\r?\n/, "").replace(/\r?\n$/, "");
    const type = /content-type:\s*([^;\r\n]+)/i.exec(headers)?.[1].trim().toLowerCase() ?? "text/plain";
    const filename = /filename="?([^";\r\n]+)"?/i.exec(headers)?.[1] ?? type;
    if (/content-transfer-encoding:\s*base64/i.test(headers)) body = Buffer.from(body, "base64").toString("utf8");
    if (type === "text/cloud-config") cloudConfig(body, plan, `part ${filename}`);
    else if (type === "text/x-shellscript") {
      plan.commands.push({ origin: `part ${filename}`, stage: "part", file: filename === type ? `part-${String(plan.commands.filter((c) => c.stage === "part").length + 1).padStart(3, "0")}` : filename, script: body });
    }
    else plan.ignoredKeys.push(`part ${filename} (${type})`);
  }
}

/**
 * Reads rendered user data into files to write and commands to run. `asScript` is for attributes
 * the cloud always runs as a script (GCP startup scripts).
 */
export function interpretUserData(text: string, asScript = false): UserDataPlan {
  const plan: UserDataPlan = { format: "unknown", files: [], commands: [], ignoredKeys: [], problems: [], scriptsUserAlways: false };
  const trimmed = text.replace(/^\uFEFF/, "");
  if (trimmed.trim() === "") {
    plan.format = "empty";
  } else if (/^#cloud-config\b/.test(trimmed)) {
    plan.format = "cloud-config";
    cloudConfig(trimmed, plan, "cloud-config");
  } else if (/^content-type:\s*multipart\//im.test(trimmed.slice(0, 2000)) && /^(mime-version|content-type):/i.test(trimmed)) {
    plan.format = "multipart";
    multipart(trimmed, plan);
  } else if (trimmed.startsWith("#!") || asScript) {
    plan.format = "shell";
    plan.commands.push({ origin: "script", stage: "part", file: "part-001", script: trimmed.startsWith("#!") ? trimmed : `#!/bin/bash\n${trimmed}` });
  }
  return plan;
}

/** A command as the shell line cloud-init writes for it (list-form argv: each word quoted). */
export function commandText(c: UserDataCommand): string {
  return c.script ?? (c.argv ?? []).map(shellQuote).join(" ");
}
