/**
 * Where a boot starts an agent, read as a real machine runs it: the constructs the population's
 * templates depend on, each on a minimal payload.
 */
import { describe, expect, it } from "vitest";
import { analyzeBoot, initScriptMarker, markedInitScript, plannedToken } from "../../src/plan/agent-starts.js";
import type { BootPayload, ContainerSpec } from "../../src/plan/plan.js";

const init = markedInitScript("main", "https://coder.example.com/");
const b64 = Buffer.from(init).toString("base64");
const userData = (text: string): BootPayload => ({ kind: "user-data", attribute: "user_data", text, asScript: false, windows: false, attr: { name: "user_data", expr: { kind: "literal" } as never, file: "main.tf", pos: { line: 1, column: 1, offset: 0 }, source: "" } });
const startsOf = (boot: BootPayload, files: { path: string; content: string }[] = []) => analyzeBoot(boot, ["main"], initScriptMarker, files).starts.get("main")!;

describe("agent starts", () => {
  it("a pipeline that decodes the init script into a shell reading stdin starts it, as the wrapper's user", () => {
    const s = startsOf(userData(`#!/bin/bash\necho ${b64} | base64 --decode | sudo -u ubuntu bash -s >/var/log/agent.log 2>&1 &\n`));
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ user: "ubuntu", token: undefined });
  });

  it("a decoded file is started only by a command that executes it, not by chmod or chown", () => {
    const s = startsOf(userData(`#!/bin/sh\necho "${b64}" | base64 -d > /opt/coder/init.sh\nchmod 0755 /opt/coder/init.sh\nchown coder /opt/coder/init.sh\n`));
    expect(s).toEqual([]);
    const run = startsOf(userData(`#!/bin/sh\necho "${b64}" | base64 -d > /opt/coder/init.sh\nchmod 0755 /opt/coder/init.sh\nsu coder -c "CODER_AGENT_TOKEN=t nohup /opt/coder/init.sh &"\n`));
    expect(run).toHaveLength(1);
    expect(run[0]).toMatchObject({ user: "coder", token: "t" });
  });

  it("sudo -i hands its command words to the login shell: the environment is a login one", () => {
    const s = startsOf(userData(`#!/bin/sh\nexport CODER_AGENT_TOKEN=t\necho "${b64}" | base64 -d > /home/coder/init.sh\nsudo --login --user=coder nohup /home/coder/init.sh &\n`));
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ user: "coder", token: undefined });
    expect(s[0].dropped.map((d) => d.variable)).toEqual(["CODER_AGENT_TOKEN"]);
  });

  it("a container the boot starts itself with docker run carries only its -e environment", () => {
    const s = startsOf(userData(`#!/bin/bash\nexport T=tok\nsudo -u coder docker run --rm --net=host -e CODER_AGENT_TOKEN=tok -e ENVBUILDER_INIT_SCRIPT="echo ${b64} | base64 -d | sh" ghcr.io/coder/envbuilder:latest\n`));
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ container: "docker run ghcr.io/coder/envbuilder:latest", token: "tok", user: "root" });
  });

  it("a unit that runs `coder agent` with the agent's token starts that agent, without its init_script", () => {
    const unit = `[Service]\nUser=dev\nEnvironment=CODER_AGENT_TOKEN=${plannedToken("main")}\nExecStart=/home/dev/coder agent\n`;
    const s = startsOf(userData(`#cloud-config\nwrite_files:\n  - path: /etc/systemd/system/agent.service\n    content: |\n${unit.replace(/^/gm, "      ")}\nruncmd:\n  - systemctl enable --now agent\n`));
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ user: "dev", token: plannedToken("main") });
  });

  it("a unit's EnvironmentFile may come from a file the platform puts into the instance", () => {
    const text = `#cloud-config\nwrite_files:\n  - path: /opt/coder/init\n    encoding: b64\n    content: ${b64}\n  - path: /etc/systemd/system/coder-agent.service\n    content: |\n      [Service]\n      User=coder\n      EnvironmentFile=/opt/coder/init.env\n      ExecStart=/opt/coder/init\nruncmd:\n  - systemctl start coder-agent.service\n`;
    expect(startsOf(userData(text))[0].token).toBeUndefined();
    expect(startsOf(userData(text), [{ path: "/opt/coder/init.env", content: "CODER_AGENT_TOKEN=t\n" }])[0].token).toBe("t");
  });

  it("a container's env that is only known after apply may hold the token; a secret without the key certainly does not", () => {
    const container = (env: ContainerSpec["env"]): BootPayload => ({ kind: "containers", containers: [{ name: "dev", argv: { known: true, value: ["sh", "-c", init] }, env, hosts: {} }] });
    const later = startsOf(container({ CODER_AGENT_TOKEN: { known: false, reason: "random_password.x.result" } }))[0];
    expect(later.token).toBeUndefined();
    expect(later.unknownEnv).toEqual(["CODER_AGENT_TOKEN"]);
    const absent = startsOf(container({ CODER_AGENT_TOKEN: { known: false, absent: true, reason: 'kubernetes_secret.a has no key "x"' } }))[0];
    expect(absent.unknownEnv).toBeUndefined();
    expect(absent.missing).toEqual({ CODER_AGENT_TOKEN: 'kubernetes_secret.a has no key "x"' });
  });
});
