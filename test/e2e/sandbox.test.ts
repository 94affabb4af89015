import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrapScript } from "../../src/e2e/bootstrap.js";
import { createSandbox } from "../../src/e2e/sandbox.js";
import { interpretUserData } from "../../src/template/userdata.js";

const sandbox = createSandbox(mkdtempSync(join(tmpdir(), "sandbox-")), ["coder"]);
const sh = (script: string, env: Record<string, string> = {}) => execFileSync("/bin/sh", ["-c", script], { env: sandbox.env(env) }).toString();

describe("e2e sandbox", () => {
  it("sudo runs the command as the current user with the environment asked for", () => {
    expect(sh(`sudo -u coder env CODER_AGENT_NAME=main sh -c 'echo "$CODER_AGENT_NAME"'`)).toBe("main\n");
    expect(sh(`sudo -u coder --preserve-env=FOO sh -c 'echo "$FOO"'`, { FOO: "kept" })).toBe("kept\n");
    expect(sh(`sudo -E -H -u coder -- echo plain`)).toBe("plain\n");
    expect(sh(`sudo -i -u coder echo login`)).toBe("login\n");
  });

  it("su - USER -c runs the command", () => {
    expect(sh(`su - coder -c 'echo "via su"'`)).toBe("via su\n");
    expect(sh(`su -s /bin/bash coder -c 'echo shell'`)).toBe("shell\n");
  });

  it("account, service and package tools only log", () => {
    sh("useradd -m coder && systemctl enable --now coder-agent && apt-get install -y git && hostnamectl set-hostname x");
    const log = readFileSync(sandbox.shimLog, "utf8");
    expect(log).toContain("useradd -m coder");
    expect(log).toContain("systemctl enable --now coder-agent");
    expect(log).toContain("apt-get install -y git");
  });

  it("remaps absolute paths under the sandbox root, leaving sandbox paths alone", () => {
    expect(sandbox.remap("nohup /opt/coder/init.sh >>/home/coder/a.log 2>&1 &")).toBe(`nohup ${sandbox.root}/opt/coder/init.sh >>${sandbox.root}/home/coder/a.log 2>&1 &`);
    expect(sandbox.remap(`tee -a "${sandbox.logs}/x.log"`)).toBe(`tee -a "${sandbox.logs}/x.log"`);
    expect(sandbox.remap("curl http://127.0.0.1:1/opt/x /usr/bin/env")).toBe("curl http://127.0.0.1:1/opt/x /usr/bin/env");
  });

  it("the bootstrap never contains a single quote", () => {
    const script = bootstrapScript({ agent: "main", arch: "amd64", auth: "aws-instance-identity", accessUrl: "http://127.0.0.1:1/", metadataUrl: "http://127.0.0.1:2", logFile: "/tmp/x.log" });
    expect(script).not.toContain("'");
    expect(script).toContain("bin/coder-linux-amd64");
    expect(script).toContain('export CODER_AGENT_METADATA_URL="http://127.0.0.1:2"');
  });

  it("reads cloud-config, multipart and shell user data", () => {
    const cc = interpretUserData("#cloud-config\nwrite_files:\n  - path: /opt/a\n    encoding: b64\n    content: aGk=\nbootcmd:\n  - echo boot\nruncmd:\n  - [echo, hi]\n  - echo two\n");
    expect(cc.files).toEqual([{ path: "/opt/a", content: "hi", permissions: undefined, owner: undefined, defer: false }]);
    expect(cc.commands.map((c) => c.argv ?? c.script)).toEqual(["echo boot", ["echo", "hi"], "echo two"]);
    const mp = interpretUserData('Content-Type: multipart/mixed; boundary="XX"\nMIME-Version: 1.0\n\n--XX\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho part\n--XX--\n');
    expect(mp.format).toBe("multipart");
    expect(mp.commands[0].script).toBe("#!/bin/sh\necho part");
  });
});
