import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { spawnCli, type Spawned } from "../support/process.js";

/** The admin token is the operator's alone: where it is kept, what is refused, how it is compared. */
describe("admin token", () => {
  const base = mkdtempSync(join(tmpdir(), "faults-token-"));
  const db = join(base, "data", "db");
  const file = join(db, "admin-token");
  const processes: Spawned[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.stop("SIGKILL");
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const start = (args: string[] = [], env: Record<string, string | undefined> = {}) => {
    const p = spawnCli(["coordinator", "--db", db, "--listen", "127.0.0.1:0", "--json", ...args], env);
    processes.push(p);
    return p;
  };
  const post = (url: string, token: string | undefined) =>
    fetch(new URL("/api/v2/provisioner/workspaces", url), { method: "POST", headers: token === undefined ? {} : { "Coder-Session-Token": token }, body: '{"name":"t"}' }).then((r) => r.status);

  it("is generated into the data directory (0600), never read from its parent, and an empty header never matches", async () => {
    // A token planted next to the data directory (the old location) by someone else is ignored.
    const planted = join(dirname(db), "admin-token");
    mkdirSync(dirname(db));
    writeFileSync(planted, "planted-by-another-user-0123456789\n", { mode: 0o644 });
    const p = start();
    const ready = await p.ready;
    expect(ready.admin_token_file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`${ready.admin_token}\n`);
    expect(ready.admin_token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await post(ready.url, "planted-by-another-user-0123456789")).toBe(401);
    expect(await post(ready.url, "")).toBe(401);
    expect(await post(ready.url, undefined)).toBe(401);
    expect(await post(ready.url, ready.admin_token)).toBe(201);
    expect(await p.stop("SIGTERM")).toBe(0);
    unlinkSync(planted);
  }, 30_000);

  it("a kept token file that is empty, short, readable by others, someone else's or a symlink is refused in one line", async () => {
    const good = readFileSync(file, "utf8");
    const uid = process.getuid?.();
    const cases: [string, () => void, RegExp][] = [
      ["empty (a first start on a full disk left it)", () => writeFileSync(file, "", { mode: 0o600 }), /^provisioner: the admin token from .*admin-token is empty$/m],
      ["short", () => writeFileSync(file, "short\n", { mode: 0o600 }), /is too short \(5 characters\)$/m],
      ["group-readable", () => (writeFileSync(file, good), chmodSync(file, 0o640)), /group or others may access it \(mode 0640\)$/m],
      ["world-readable", () => (writeFileSync(file, good), chmodSync(file, 0o604)), /group or others may access it \(mode 0604\)$/m],
      ["a symlink", () => ( writeFileSync(join(base, "elsewhere"), good, { mode: 0o600 }), symlinkSync(join(base, "elsewhere"), file)), /it is a symbolic link$/m],
    ];
    // Owned by another user: only root can make that file.
    if (uid === 0) cases.push(["another user's", () => (writeFileSync(file, good, { mode: 0o600 }), chownSync(file, 65534, 65534)), /it belongs to uid 65534, not to this user \(uid 0\)$/m]);
    for (const [what, make, message] of cases) {
      make();
      const r = await runCli(["coordinator", "--db", db, "--listen", "127.0.0.1:0"]);
      expect(r.exitCode, what).toBe(2);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr.split("\n"), what).toHaveLength(2);
      expect(r.stderr, what).toMatch(/^ {2}fix: /m);
      rmSync(file, { force: true });
    }
    writeFileSync(file, good, { mode: 0o600 });
  }, 60_000);

  it("--admin-token-file and PROVISIONER_ADMIN_TOKEN, one source at most; --admin-token warns that local users can read it", async () => {
    const tokenFile = join(base, "token");
    const token = "operator-chosen-token-0123456789";
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const viaFile = start(["--admin-token-file", tokenFile]);
    const ready = await viaFile.ready;
    expect(ready.admin_token).toBe(token);
    expect(await post(ready.url, token)).toBe(201);
    await viaFile.stop("SIGTERM");

    const viaEnv = start([], { PROVISIONER_ADMIN_TOKEN: token });
    expect(await post((await viaEnv.ready).url, token)).toBe(201);
    await viaEnv.stop("SIGTERM");

    const viaFlag = start(["--admin-token", token]);
    await viaFlag.ready;
    expect(viaFlag.lines.join("\n")).toMatch(/--admin-token is visible to every local user in the process list/);
    await viaFlag.stop("SIGTERM");

    chmodSync(tokenFile, 0o644);
    const refusals: [string[], Record<string, string>, string][] = [
      [["--admin-token-file", tokenFile], {}, `provisioner: refusing the admin token file ${tokenFile}: group or others may access it (mode 0644)`],
      [["--admin-token-file", join(base, "missing")], {}, `provisioner: cannot read the admin token file ${join(base, "missing")}: no such file`],
      [["--admin-token", ""], {}, "provisioner: the admin token from --admin-token is empty"],
      [["--admin-token", "short"], {}, "provisioner: the admin token from --admin-token is too short (5 characters)"],
      [[], { PROVISIONER_ADMIN_TOKEN: "" }, "provisioner: the admin token from PROVISIONER_ADMIN_TOKEN is empty"],
      [["--admin-token", token], { PROVISIONER_ADMIN_TOKEN: token }, "provisioner: the admin token is given twice (--admin-token and PROVISIONER_ADMIN_TOKEN)"],
    ];
    for (const [args, env, message] of refusals) {
      const r = await runCli(["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", ...args], { env });
      expect(r.exitCode, message).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(message);
    }
  }, 60_000);
});
