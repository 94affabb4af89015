import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AdminClient } from "../../src/sdk/admin-client.js";
import { runCli } from "../support/cli.js";
import { spawnCli } from "../support/process.js";
import { openReinit } from "./support/sse.js";
import { tempDir } from "../support/tmp.js";

describe("provisioner coordinator (CLI)", () => {
  it("keeps its data and admin token (0600) in a PGlite dir, and shuts down cleanly on SIGTERM, ending streams", async () => {
    const dir = tempDir("coord-cli-");
    const first = spawnCli(["coordinator", "--db", join(dir, "db"), "--listen", "127.0.0.1:0", "--json", "--sse-ping", "200ms"]);
    const ready = await first.ready;
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.admin_token_file).toBe(join(dir, "db", "admin-token"));
    expect(statSync(ready.admin_token_file).mode & 0o777).toBe(0o600);
    expect(readFileSync(ready.admin_token_file, "utf8").trim()).toBe(ready.admin_token);
    const health = await (await fetch(`${ready.url}/healthz`)).json();
    expect(health).toEqual({ status: "ok", database: "pglite", reinit_streams: 0, event_streams: 0 });

    const admin = new AdminClient(ready.url, ready.admin_token);
    const ws = await admin.createWorkspace({ name: "persist", prebuild: true, resources: [{ type: "vm", name: "dev", instance_id: "i-persist", agents: [{ name: "main" }] }] });
    const stream = await openReinit(ready.url, ws.agents[0].auth_token);
    expect(stream.status).toBe(200);
    expect(await first.stop("SIGTERM")).toBe(0);
    await stream.ended;
    expect(first.lines.join("\n")).toMatch(/coordinator stopped/);

    // Restarted on the same data: same token (not printed again), same workspace.
    const second = spawnCli(["coordinator", "--db", join(dir, "db"), "--listen", "127.0.0.1:0"]);
    const line = await second.waitFor(/admin token: stored in/);
    expect(line).not.toContain(ready.admin_token);
    const url = (await second.waitFor(/listening on/)).match(/http:\/\/\S+/)![0];
    expect((await new AdminClient(url, ready.admin_token).workspace(ws.id)).name).toBe("persist");
    expect(await second.stop("SIGINT")).toBe(0);
  });

  it("refuses bad flags with exit 2", async () => {
    const r = await runCli(["coordinator", "--listen", "nowhere"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/invalid listen address/);
    const t = await runCli(["coordinator", "--db", "memory", "--listen", "127.0.0.1:0", "--aws-certificate", "/nonexistent.pem"]);
    expect(t.exitCode).toBe(2);
    expect(t.stderr).toMatch(/cannot read AWS certificate \/nonexistent\.pem/);
  });
});
