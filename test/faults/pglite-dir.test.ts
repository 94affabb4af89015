import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { spawnCli, type Spawned } from "../support/process.js";

/** One owner per PGlite data directory, kill -9 restarts, and what `--db` accepts. */
describe("PGlite data directory", () => {
  const base = mkdtempSync(join(tmpdir(), "faults-pglite-"));
  const processes: Spawned[] = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.stop("SIGKILL");
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const start = (db: string) => {
    const p = spawnCli(["coordinator", "--db", db, "--listen", "127.0.0.1:0", "--json"]);
    processes.push(p);
    return p;
  };

  it("a second coordinator on the same directory refuses in one line naming the directory and the owner pid; a lock left by kill -9 is taken over", async () => {
    const db = join(base, "shared");
    const first = start(db);
    const ready = await first.ready;
    const second = start(db);
    expect(await second.exited).toBe(2);
    expect(second.lines.join("\n")).toBe(`provisioner: ${db} is in use by another coordinator (pid ${first.child.pid})\n  fix: stop that coordinator, or give this one another --db`);
    // The first one still serves, with its data.
    const ws = await fetch(new URL("/api/v2/provisioner/workspaces", ready.url), { method: "POST", headers: { "Coder-Session-Token": ready.admin_token }, body: JSON.stringify({ name: "mine" }) });
    expect(ws.status).toBe(201);

    first.child.kill("SIGKILL");
    await first.exited;
    expect(JSON.parse(readFileSync(join(db, "provisioner.lock"), "utf8"))).toMatchObject({ pid: first.child.pid });
    const third = start(db);
    const again = await third.ready;
    expect(again.admin_token).toBe(ready.admin_token);
    expect(JSON.parse(readFileSync(join(db, "provisioner.lock"), "utf8"))).toMatchObject({ pid: third.child.pid });
    expect(await third.stop("SIGTERM")).toBe(0);
    expect(existsSync(join(db, "provisioner.lock"))).toBe(false);
  }, 60_000);

  it("10 kill -9 restarts under concurrent writes lose no acknowledged workspace", async () => {
    const db = join(base, "restarts");
    const acknowledged: string[] = [];
    let token = "";
    const RESTARTS = 10;
    for (let round = 0; round < RESTARTS; round++) {
      const p = start(db);
      const ready = await p.ready;
      token = ready.admin_token;
      let stop = false;
      const writer = async (n: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await fetch(new URL("/api/v2/provisioner/workspaces", ready.url), {
              method: "POST",
              headers: { "Coder-Session-Token": token },
              body: JSON.stringify({ name: `r${round}-${n}-${i}`, resources: [{ type: "vm", name: "dev", agents: [{ name: "main" }] }] }),
            });
            if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
          } catch {
            return; // killed mid-request: not acknowledged
          }
        }
      };
      const before = acknowledged.length;
      const writers = Array.from({ length: 4 }, (_, n) => writer(n));
      // Killed while writes are in flight: after a few were acknowledged, at a different moment each round.
      for (const deadline = Date.now() + 5_000; acknowledged.length - before < 5 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, round * 15));
      p.child.kill("SIGKILL");
      stop = true;
      await p.exited;
      await Promise.all(writers);
    }
    const last = start(db);
    const ready = await last.ready;
    let lost = 0;
    for (const id of acknowledged) {
      const r = await fetch(new URL(`/api/v2/workspaces/${id}`, ready.url), { headers: { "Coder-Session-Token": token } });
      if (r.status !== 200) lost++;
    }
    console.info(`kill -9: ${RESTARTS} restarts survived, ${acknowledged.length} acknowledged workspaces, ${lost} lost`);
    expect(acknowledged.length).toBeGreaterThanOrEqual(5 * RESTARTS);
    expect(lost).toBe(0);
    expect(await last.stop("SIGTERM")).toBe(0);
  }, 180_000);

  it("--db refuses a file, a non-empty directory that is not a database (so --db . writes nothing among the user's files) and unknown URL schemes", async () => {
    const project = join(base, "project");
    mkdirSync(project);
    writeFileSync(join(project, "main.tf"), "# mine\n");
    const file = join(base, "a-file");
    writeFileSync(file, "x");
    const cases: [string[], string, string][] = [
      [["--db", "."], `provisioner: --db . is not empty and is not a coordinator database (it holds "main.tf")`, "give a new or empty directory, e.g. --db .provisioner/db"],
      [["--db", file], `provisioner: --db ${file} is not a directory`, "give a directory for the embedded database (created if missing), e.g. --db .provisioner/db"],
      [["--db", "garbage://x"], `provisioner: --db garbage://x: unknown database URL scheme "garbage:"`, "use memory, a directory for the embedded database, or postgres://USER@HOST:PORT/DB"],
      [["--db", "mysql://root@127.0.0.1/coder"], `provisioner: --db mysql://root@127.0.0.1/coder: unknown database URL scheme "mysql:"`, "use memory, a directory for the embedded database, or postgres://USER@HOST:PORT/DB"],
    ];
    for (const [args, message, fix] of cases) {
      const r = await runCli(["coordinator", ...args, "--listen", "127.0.0.1:0"], { cwd: project });
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(`${message}\n  fix: ${fix}`);
    }
    expect(readdirSync(project)).toEqual(["main.tf"]);
    expect(readdirSync(base).filter((f) => f.startsWith("garbage") || f.startsWith("mysql"))).toEqual([]);
  });

  it("an empty directory (a fresh volume's lost+found included) is a fine --db", async () => {
    const db = join(base, `vol-${randomBytes(3).toString("hex")}`);
    mkdirSync(join(db, "lost+found"), { recursive: true });
    const p = start(db);
    expect((await p.ready).admin_token_file).toBe(join(db, "admin-token"));
    expect(await p.stop("SIGTERM")).toBe(0);
  }, 30_000);
});
