/**
 * The instance sandbox: its own root and namespaces, the machine's sudo/su rules, systemd units that
 * really run, accounts, devices, no network beyond loopback, nothing left behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InstanceSandbox, NetworkBridge, sandboxUnavailable } from "../../src/e2e/sandbox.js";

const run = mkdtempSync(join(tmpdir(), "sandbox-test-"));
afterAll(() => rmSync(run, { recursive: true, force: true }));

/** Boots a sandbox with `boot`, waits for `file` inside it, returns its content. */
async function boot(name: string, script: string, files: Record<string, string> = {}, opts: { forwards?: number[]; devices?: string[] } = {}, wait = "/tmp/done"): Promise<{ read: (p: string) => string; sbox: InstanceSandbox }> {
  const bridge = new NetworkBridge(join(run, `${name}-net`));
  const sbox = new InstanceSandbox(join(run, name), bridge);
  sbox.prepare({ users: [{ name: "ubuntu", uid: 1000, home: "/home/ubuntu", shell: "/bin/bash", groups: ["sudo"] }], devices: opts.devices ?? [], hosts: [], hostname: name, osRelease: "ID=ubuntu\n" });
  for (const [p, t] of Object.entries(files)) sbox.writeFile(p, t, "0755");
  await sbox.start(script, { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, opts.forwards ?? [], opts.devices ?? []);
  const deadline = Date.now() + 15_000;
  while (!existsSync(sbox.hostPath(wait)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 200));
  const read = (p: string) => (existsSync(sbox.hostPath(p)) ? readFileSync(sbox.hostPath(p), "utf8") : "");
  await sbox.stop();
  await bridge.close();
  return { read, sbox };
}

describe("instance sandbox", { timeout: 60_000 }, () => {
  it("runs on this machine (user, mount, PID and network namespaces)", () => {
    expect(sandboxUnavailable()).toBeUndefined();
  });

  it("applies sudo's env_reset: a variable before sudo is dropped, one after its options reaches the command", async () => {
    const { read } = await boot("sudo", ["CODER_AGENT_NAME=main sudo -u ubuntu sh -c 'echo \"before=${CODER_AGENT_NAME-unset} user=$USER home=$HOME\"' > /tmp/a", "sudo -u ubuntu CODER_AGENT_NAME=dev sh -c 'echo \"after=$CODER_AGENT_NAME\"' > /tmp/b", "X=1 sudo -E -u ubuntu sh -c 'echo \"E=$X\"' > /tmp/c", "touch /tmp/done"].join("\n"));
    expect(read("/tmp/a")).toBe("before=unset user=ubuntu home=/home/ubuntu\n");
    expect(read("/tmp/b")).toBe("after=dev\n");
    expect(read("/tmp/c")).toBe("E=1\n");
  });

  it("su - starts a clean login environment, su -m keeps it", async () => {
    const { read } = await boot("su", ["export FOO=1", "su - ubuntu -c 'echo \"${FOO-unset} $PWD\"' > /tmp/a", "su -m ubuntu -c 'echo \"${FOO-unset}\"' > /tmp/b", "touch /tmp/done"].join("\n"));
    expect(read("/tmp/a")).toBe("unset /home/ubuntu\n");
    expect(read("/tmp/b")).toBe("1\n");
  });

  it("runs a systemd unit written by the boot as its User= with Environment= and EnvironmentFile=", async () => {
    const unit = "[Service]\nUser=ubuntu\nEnvironment=GREETING=hello\nEnvironmentFile=/etc/default/agent\nExecStart=/bin/sh -c 'echo \"$GREETING $NAME $USER\" > /tmp/unit.out; touch /tmp/done'\n[Install]\nWantedBy=multi-user.target\n";
    const { read } = await boot("systemd", "systemctl daemon-reload\nsystemctl enable --now agent.service\n", { "/etc/systemd/system/agent.service": unit, "/etc/default/agent": "NAME=main\n" });
    expect(read("/tmp/unit.out")).toBe("hello main ubuntu\n");
  });

  it("does not start a unit that is only enabled (it would start at the next boot)", async () => {
    const { read } = await boot("enable", "systemctl enable agent.service\necho ok > /tmp/done\n", { "/etc/systemd/system/agent.service": "[Service]\nExecStart=/bin/sh -c 'touch /tmp/started'\n" });
    expect(read("/tmp/done")).toBe("ok\n");
    expect(read("/tmp/started")).toBe("");
  });

  it("adds users with useradd, has the directories every image has, and gives attached devices", async () => {
    const { read } = await boot(
      "fs",
      ["useradd -m -s /bin/bash coder", "id -u coder > /tmp/uid", "ls -d /etc/sudoers.d /etc/systemd/system /etc/skel /home /opt /var/lib /usr/local/bin > /tmp/dirs", "while [ ! -e /dev/disk/azure/scsi1/lun10 ]; do sleep 0.1; done", "touch /tmp/done"].join("\n"),
      {},
      { devices: ["/dev/disk/azure/scsi1/lun10"] },
    );
    expect(read("/tmp/uid")).toBe("1001\n");
    expect(read("/tmp/dirs").trim().split("\n")).toHaveLength(7);
  });

  it("reaches a forwarded loopback port of the host, and nothing outside loopback", async () => {
    const server = createServer((_req, res) => res.end("from-host")).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as { port: number }).port;
    try {
      const { read } = await boot("net", [`curl -fsS http://localhost:${port}/ > /tmp/in`, "/usr/bin/curl -fsS -m 2 http://192.0.2.1/ > /tmp/out 2>&1; echo $? > /tmp/code", "touch /tmp/done"].join("\n"), {}, { forwards: [port] });
      expect(read("/tmp/in")).toBe("from-host");
      expect(read("/tmp/code").trim()).not.toBe("0");
    } finally {
      server.close();
    }
  });
});
