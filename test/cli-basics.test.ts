import { describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

describe("provisioner CLI basics", () => {
  it("prints help listing every command", async () => {
    const r = await runCli(["--help"]);
    expect(r.exitCode).toBe(0);
    for (const cmd of ["init", "validate", "synth", "coordinator", "imds", "agent", "e2e"]) {
      expect(r.stdout).toContain(`provisioner ${cmd}`);
    }
  });

  it("prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects an unknown command with exit 2 and a fix", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: frobnicate/);
    expect(r.stderr).toMatch(/fix:/);
  });

  it("every command has --help", async () => {
    for (const cmd of ["init", "validate", "synth", "coordinator", "imds", "agent", "e2e"]) {
      const r = await runCli([cmd, "--help"]);
      expect(r.exitCode, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`provisioner ${cmd}`);
    }
  });
});
