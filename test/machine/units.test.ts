import { describe, expect, it } from "vitest";
import { parseScript } from "../../src/machine/shell.js";
import { expandSpecifiers, parseUnit, SYSTEM_MANAGER } from "../../src/machine/systemd.js";

describe("systemd specifiers (systemd.unit(5))", () => {
  const dev = { user: "dev", uid: 1000, home: "/home/dev" };

  it("%h, %u and %U are the manager's user: root for system units, whatever User= says", () => {
    const unit = parseUnit("coder-agent.service", "[Service]\nUser=coder\nEnvironmentFile=%h/agent.env\nExecStart=/usr/bin/env HOME=%h U=%u\n");
    expect(unit.environmentFiles).toEqual([{ path: "/root/agent.env", optional: false }]);
    expect(unit.execStart).toEqual(["/usr/bin/env HOME=/root U=root"]);
  });

  it("in a user unit they are the user's, with the runtime and config directories", () => {
    const unit = parseUnit("coder-agent.service", "[Service]\nEnvironmentFile=-%h/.config/coder/agent.env\nExecStart=%h/.local/bin/coder-init --runtime %t --config %E\nWorkingDirectory=%h\n", dev);
    expect(unit.environmentFiles).toEqual([{ path: "/home/dev/.config/coder/agent.env", optional: true }]);
    expect(unit.execStart).toEqual(["/home/dev/.local/bin/coder-init --runtime /run/user/1000 --config /home/dev/.config"]);
    expect(unit.workingDirectory).toBe("/home/dev");
  });

  it("names: %n, %N, %p, %i of a template instance; %% is a percent sign; unknown ones stay", () => {
    expect(expandSpecifiers("%n %N %p %i 100%% %z", "agent@main.service", SYSTEM_MANAGER)).toBe("agent@main.service agent@main agent main 100% %z");
  });
});

describe("shell pipelines", () => {
  it("marks a command whose output goes to the next one (| but not ||)", () => {
    const cmds = parseScript("echo x | base64 -d | sh -s\ntrue || false");
    expect(cmds.map((c) => [c.words[0].text, c.pipe])).toEqual([
      ["echo", true],
      ["base64", true],
      ["sh", false],
      ["true", false],
      ["false", false],
    ]);
  });
});
