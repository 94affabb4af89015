/**
 * Accounts in a machine's /etc (passwd and group), under a root directory: what useradd, adduser and
 * cloud-init's `users:` do on a real instance. The e2e sandbox's shim edits `/`, the e2e runner edits a
 * sandbox root before boot.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { passwdLookup, type UserEntry } from "./environment.js";

export interface NewUser {
  home?: string;
  shell?: string;
  uid?: number;
  groups?: string[];
  createHome: boolean;
  system?: boolean;
}

export class Accounts {
  constructor(readonly root = "/") {}

  private path(p: string): string {
    return join(this.root, p);
  }

  lookup(name: string): UserEntry | undefined {
    const f = this.path("/etc/passwd");
    return passwdLookup(existsSync(f) ? readFileSync(f, "utf8") : "")(name);
  }

  addGroup(name: string, gid?: number): number {
    const f = this.path("/etc/group");
    const text = existsSync(f) ? readFileSync(f, "utf8") : "";
    const existing = text.split("\n").find((l) => l.split(":")[0] === name);
    if (existing) return Number(existing.split(":")[2]);
    const used = new Set(text.split("\n").map((l) => Number(l.split(":")[2])));
    let id = gid ?? 1000;
    while (used.has(id)) id++;
    appendFileSync(f, `${name}:x:${id}:\n`);
    return id;
  }

  addToGroups(user: string, groups: string[]): void {
    for (const g of groups) this.addGroup(g);
    const f = this.path("/etc/group");
    const updated = readFileSync(f, "utf8")
      .split("\n")
      .map((l) => {
        const parts = l.split(":");
        if (parts.length < 4 || !groups.includes(parts[0])) return l;
        const members = parts[3] ? parts[3].split(",") : [];
        if (!members.includes(user)) members.push(user);
        return `${parts[0]}:${parts[1]}:${parts[2]}:${members.join(",")}`;
      });
    writeFileSync(f, updated.join("\n"));
  }

  /** Creates a user (and its home from /etc/skel when asked); an existing user is returned as is. */
  addUser(name: string, opts: NewUser): UserEntry {
    const existing = this.lookup(name);
    if (existing) {
      if (opts.groups?.length) this.addToGroups(name, opts.groups);
      return existing;
    }
    const f = this.path("/etc/passwd");
    const used = new Set(readFileSync(f, "utf8").split("\n").map((l) => Number(l.split(":")[2])));
    let uid = opts.uid ?? (opts.system ? 100 : 1000);
    while (used.has(uid)) uid++;
    const gid = this.addGroup(name, uid);
    const home = opts.home ?? `/home/${name}`;
    const shell = opts.shell ?? "/bin/sh";
    appendFileSync(f, `${name}:x:${uid}:${gid}::${home}:${shell}\n`);
    if (opts.groups?.length) this.addToGroups(name, opts.groups);
    const homeDir = this.path(home);
    if (opts.createHome && !existsSync(homeDir)) {
      mkdirSync(homeDir, { recursive: true });
      if (existsSync(this.path("/etc/skel"))) cpSync(this.path("/etc/skel"), homeDir, { recursive: true });
    }
    return { name, uid, gid, home, shell };
  }
}
