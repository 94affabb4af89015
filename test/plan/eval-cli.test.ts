import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

function template(): string {
  const dir = tempDir("eval-cli-");
  writeFileSync(
    join(dir, "main.tf"),
    `variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "sizes" {
  type = list(number)
  default = [1, 2]
}

data "coder_parameter" "image" {
  name    = "image"
  type    = "string"
  default = "ubuntu"
}

data "coder_workspace" "me" {}

resource "aws_instance" "dev" {
  ami = "ami-1"
}

locals {
  label = "\${var.region}/\${data.coder_parameter.image.value}"
}
`,
  );
  return dir;
}

const lines = (s: string) => s.trim().split("\n").map((l) => JSON.parse(l));

describe("provisioner eval", () => {
  it("prints one JSON line per expression: a value, an unknown with its reference, or an error (exit 1)", async () => {
    const dir = template();
    const r = await runCli(["eval", "--dir", dir, "local.label", "aws_instance.dev.id", "var.nope", "[for s in var.sizes : s * 2]"]);
    expect(r.exitCode).toBe(1);
    expect(lines(r.stdout)).toEqual([
      { value: "eu-west-1/ubuntu" },
      { unknown: "aws_instance.dev.id" },
      { error: expect.stringMatching(/^Reference to undeclared input variable: An input variable with the name "nope" has not been declared/) },
      { value: [2, 4] },
    ]);
  });

  it("takes --var, --var-file and --parameter, and reads expressions from stdin", async () => {
    const dir = template();
    writeFileSync(join(dir, "prod.tfvars"), 'sizes = [5]\n');
    const r = await runCli(["eval", "--dir", dir, "--var", "region=us-east-1", "--var-file", join(dir, "prod.tfvars"), "--parameter", "image=debian"], { input: "local.label\nvar.sizes\n" });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([{ value: "us-east-1/debian" }, { value: [5] }]);
  });

  it("prints as terraform console does with --format text", async () => {
    const r = await runCli(["eval", "--dir", template(), "--format", "text", 'upper("x")', "{a = [1, true]}", "aws_instance.dev.id"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('"X"\n{\n  "a" = [\n    1,\n    true,\n  ]\n}\n(known after apply)');
  });

  it("works without a template, like terraform console in an empty directory", async () => {
    const r = await runCli(["eval", "--dir", tempDir("eval-empty-"), "cidrsubnet(\"10.0.0.0/16\", 8, 2)"]);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([{ value: "10.0.2.0/24" }]);
  });

  it("exits 2 on bad input: a missing directory, a variable the template does not declare", async () => {
    const missing = await runCli(["eval", "--dir", "/nonexistent-provisioner-dir", "1"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the template/);
    const undeclared = await runCli(["eval", "--dir", template(), "--var", "nope=1", "1"]);
    expect(undeclared.exitCode).toBe(2);
    expect(undeclared.stderr).toMatch(/nope/);
  });
});
