/**
 * Which coder provider version a template runs with: the version locked in .terraform.lock.hcl, else
 * the newest release its `required_providers` constraint allows (Terraform's choice at `init`).
 */
import type { ModuleConfig } from "../template/config.js";

export type Version = [number, number, number];

/** Known releases of coder/coder (major.minor series; patch levels do not change the schema here). */
const RELEASES: Version[] = [
  ...range(4, 23).map((m): Version => [0, m, 0]),
  [0, 4, 2],
  [0, 6, 10],
  [1, 0, 0],
  ...range(0, 16).map((m): Version => [2, m, 0]),
];
RELEASES.sort(compare);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export const LATEST: Version = RELEASES[RELEASES.length - 1];

export function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function parseVersion(s: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

export const formatVersion = (v: Version) => v.join(".");

/** Whether `v` satisfies a Terraform version constraint ("~> 2.0", ">= 0.6, < 1.0", "0.6.0"). */
export function satisfies(v: Version, constraint: string): boolean {
  return constraint.split(",").every((part) => {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(v?[\d.]+)\s*$/.exec(part);
    if (!m) return true;
    const op = m[1] ?? "=";
    const c = parseVersion(m[2])!;
    const cmp = compare(v, c);
    switch (op) {
      case "=":
        return cmp === 0;
      case "!=":
        return cmp !== 0;
      case ">":
        return cmp > 0;
      case ">=":
        return cmp >= 0;
      case "<":
        return cmp < 0;
      case "<=":
        return cmp <= 0;
      case "~>": {
        // ~> 1.2 allows >= 1.2, < 2.0; ~> 1.2.3 allows >= 1.2.3, < 1.3.0.
        const segments = m[2].replace(/^v/, "").split(".").length;
        if (cmp < 0) return false;
        return segments >= 3 ? v[0] === c[0] && v[1] === c[1] : v[0] === c[0];
      }
    }
    return true;
  });
}

/** The known releases a constraint allows (oldest first); every release when there is none. */
export function allowedVersions(constraint: string | undefined): Version[] {
  return constraint ? RELEASES.filter((v) => satisfies(v, constraint)) : [...RELEASES];
}

export interface ProviderVersion {
  version: Version;
  /** Where it came from: "lock file", "constraint \"0.6.0\"", or "no constraint". */
  source: string;
  constraint?: string;
  pinned: boolean;
}

/** The coder provider version of a module (root module's requirement). */
export function coderProviderVersion(m: ModuleConfig): ProviderVersion {
  const locked = Object.entries(m.lockedVersions).find(([addr]) => /(^|\/)coder\/coder$/.test(addr));
  const req = Object.values(m.requiredProviders).find((p) => p.name === "coder" || /(^|\/)coder\/coder$/.test(p.source ?? ""));
  if (locked) {
    const v = parseVersion(locked[1]);
    if (v) return { version: v, source: ".terraform.lock.hcl", constraint: req?.version, pinned: true };
  }
  if (req?.version) {
    const best = [...RELEASES].reverse().find((v) => satisfies(v, req.version!));
    const exact = parseVersion(req.version.replace(/^\s*=?\s*/, ""));
    const version = best ?? exact ?? LATEST;
    return { version, source: `constraint ${JSON.stringify(req.version)}`, constraint: req.version, pinned: true };
  }
  return { version: LATEST, source: "no version constraint (the newest release)", pinned: false };
}
