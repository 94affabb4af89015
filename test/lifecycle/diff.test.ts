/**
 * Two plans of one workspace compared as Terraform would: which argument changes force replacement
 * (the providers' ForceNew rules), which update in place (and restart the machine), what
 * lifecycle.ignore_changes keeps, what stops an instance, and the prebuild/claim pair.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workspaceContext } from "../../src/plan/context.js";
import { describeChange, diffPlans, ignoreChangesFix, ignoredBy, pathSegments, powerOf, prebuildPlans } from "../../src/plan/diff.js";
import { planTemplate } from "../../src/plan/plan.js";
import { loadModule } from "../../src/template/load.js";
import { interpretUserData } from "../../src/template/userdata.js";
import { repoRoot } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

const HEAD = `terraform {
  required_providers {
    coder = { source = "coder/coder", version = "~> 2.4" }
  }
}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}
resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
}
`;

function template(body: string): string {
  const dir = tempDir("diff-");
  writeFileSync(join(dir, "main.tf"), HEAD + body);
  return dir;
}

/** The claim's changes of a template: [instance, argument, effect, ignored] per change. */
function claim(dir: string) {
  const { prebuild, claim } = prebuildPlans(loadModule(dir));
  return diffPlans(prebuild, claim);
}

describe("plan diff: what the claim of a prebuilt workspace changes", () => {
  it("aws_instance: user_data updates in place (the provider restarts the machine) unless user_data_replace_on_change; tags update in place", () => {
    const body = (flag: string) => `
resource "aws_instance" "dev" {
  ami           = "ami-1"
  instance_type = "t3.medium"
  ${flag}
  user_data     = "#!/bin/sh\\necho \${data.coder_workspace_owner.me.name}\\n\${coder_agent.main.init_script}"
  tags          = { Owner = data.coder_workspace_owner.me.name, Team = "x" }
}`;
    const [inPlace] = claim(template(body("")));
    expect(inPlace).toMatchObject({ address: "aws_instance.dev", action: "update", restarts: true });
    expect(inPlace.changes.map((c) => [c.path, c.effect, c.restarts])).toEqual([
      ["user_data", "update", true],
      ['tags["Owner"]', "update", false],
    ]);
    expect(describeChange(inPlace.changes[0])).toBe('line 2: "echo prebuilds" → "echo alice"');
    const [replaced] = claim(template(body("user_data_replace_on_change = true")));
    expect(replaced.action).toBe("replace");
    expect(ignoreChangesFix(replaced)).toBe("lifecycle { ignore_changes = [user_data] }");
  });

  it("google_compute_instance: metadata_startup_script and name force replacement; metadata updates in place", () => {
    const [c] = claim(
      template(`
resource "google_compute_instance" "dev" {
  name                    = "coder-\${data.coder_workspace_owner.me.name}"
  machine_type            = "e2-medium"
  zone                    = "us-central1-a"
  metadata                = { owner = data.coder_workspace_owner.me.name }
  metadata_startup_script = "useradd \${data.coder_workspace_owner.me.name}; \${coder_agent.main.init_script}"
}`),
    );
    expect(c.changes.map((x) => [x.path, x.effect])).toEqual([
      ["name", "replace"],
      ['metadata["owner"]', "update"],
      ["metadata_startup_script", "replace"],
    ]);
    expect(ignoreChangesFix(c)).toBe("lifecycle { ignore_changes = [name, metadata_startup_script] }");
  });

  it("docker_container: nearly every argument forces replacement; ignore_changes keeps the container, and the fix merges with what it ignores", () => {
    const dir = template(`
resource "docker_container" "ws" {
  count    = data.coder_workspace.me.start_count
  image    = "ubuntu"
  name     = "coder-\${data.coder_workspace_owner.me.name}"
  hostname = data.coder_workspace.me.name
  memory   = data.coder_workspace_owner.me.name == "prebuilds" ? 512 : 1024
  env      = ["CODER_AGENT_TOKEN=\${coder_agent.main.token}"]
  lifecycle {
    ignore_changes = [hostname]
  }
}`);
    const [c] = claim(dir);
    expect(c.changes.map((x) => [x.path, x.effect, x.ignored])).toEqual([
      ["name", "replace", false],
      ["hostname", "replace", true],
      ["memory", "update", false],
    ]);
    expect(c.action).toBe("replace");
    expect(ignoreChangesFix(c)).toBe("lifecycle { ignore_changes = [hostname, name] }");
  });

  it("kubernetes_deployment: metadata[0].name forces replacement, the pod template updates in place and rolls the pods", () => {
    const [c] = claim(
      template(`
resource "kubernetes_deployment" "ws" {
  metadata {
    name = "coder-\${data.coder_workspace_owner.me.name}"
  }
  spec {
    template {
      spec {
        container {
          name    = "dev"
          image   = "ubuntu"
          command = ["sh", "-c", coder_agent.main.init_script]
          env {
            name  = "OWNER"
            value = data.coder_workspace_owner.me.name
          }
        }
      }
    }
  }
}`),
    );
    expect(c.changes.map((x) => [x.path, x.effect, x.restarts])).toEqual([
      ["metadata[0].name", "replace", false],
      ["spec[0].template[0].spec[0].container[0].env[0].value", "update", true],
    ]);
    expect(ignoreChangesFix(c)).toBe("lifecycle { ignore_changes = [metadata[0].name] }");
  });

  it("a compute type without provider rules is reported as a change of unknown effect", () => {
    const [c] = claim(template(`resource "linode_instance" "dev" {\n  label = "coder-\${data.coder_workspace_owner.me.name}"\n  metadata { user_data = base64encode(coder_agent.main.init_script) }\n}`));
    expect(c.changes.map((x) => [x.path, x.effect])).toEqual([["label", "unknown"]]);
  });

  it("the two plans share the workspace id, template, agents' tokens and time; owner, name and the prebuild flags differ", () => {
    const { prebuild, claim: claimed } = prebuildPlans(loadModule(join(repoRoot, "examples/templates/docker")));
    expect(prebuild.context.workspace.id).toBe(claimed.context.workspace.id);
    expect(prebuild.context.workspace.templateId).toBe(claimed.context.workspace.templateId);
    expect(prebuild.context.agent("main").token).toBe(claimed.context.agent("main").token);
    expect(prebuild.context.now).toBe(claimed.context.now);
    expect([prebuild.context.owner.name, prebuild.context.workspace.isPrebuild, prebuild.context.workspace.isPrebuildClaim]).toEqual(["prebuilds", true, false]);
    expect([claimed.context.owner.name, claimed.context.workspace.isPrebuild, claimed.context.workspace.isPrebuildClaim]).toEqual(["alice", false, true]);
    expect(prebuild.context.workspace.name).toMatch(/^prebuild-[0-9a-f]{6}$/);
  });

  it("the examples: aws-multi-agent changes only its Name tag on claim; docker replaces its container", () => {
    const aws = claim(join(repoRoot, "examples/templates/aws-multi-agent"));
    expect(aws.map((c) => [c.address, c.action, c.changes.map((x) => x.path)])).toEqual([["aws_instance.workspace", "update", ['tags["Name"]']]]);
    const docker = claim(join(repoRoot, "examples/templates/docker"));
    expect(docker.map((c) => [c.address, c.action, c.changes.map((x) => x.path)])).toEqual([["docker_container.workspace[0]", "replace", ["name", "hostname"]]]);
  });
});

describe("plan diff: building blocks", () => {
  it("ignore_changes paths match an argument or anything under it", () => {
    expect(pathSegments('tags["Name"]')).toEqual(["tags", "Name"]);
    expect(pathSegments("metadata[0].name")).toEqual(["metadata", "0", "name"]);
    expect(ignoredBy(["tags"], 'tags["Name"]')).toBe(true);
    expect(ignoredBy(['tags["Name"]'], 'tags["Name"]')).toBe(true);
    expect(ignoredBy(['tags["Team"]'], 'tags["Name"]')).toBe(false);
    expect(ignoredBy(['metadata["0"].name'], "metadata[0].name")).toBe(true);
    expect(ignoredBy(["user_data"], "user_data_base64")).toBe(false);
    expect(ignoredBy("all", "anything")).toBe(true);
    expect(ignoredBy(undefined, "name")).toBe(false);
  });

  it("what stops an instance: aws_ec2_instance_state, desired_status, replicas; nothing else does", () => {
    const dir = template(`
resource "aws_instance" "a" {
  ami = "ami-1"
}
resource "aws_ec2_instance_state" "a" {
  instance_id = aws_instance.a.id
  state       = data.coder_workspace.me.transition == "start" ? "running" : "stopped"
}
resource "aws_instance" "b" {
  ami = "ami-1"
}
resource "google_compute_instance" "c" {
  name           = "c"
  desired_status = data.coder_workspace.me.transition == "start" ? "RUNNING" : "TERMINATED"
}
resource "kubernetes_deployment" "d" {
  spec {
    replicas = data.coder_workspace.me.start_count
  }
}`);
    const config = loadModule(dir);
    const power = (transition: "start" | "stop") => {
      const plan = planTemplate(config, workspaceContext({ transition }));
      return Object.fromEntries(plan.instances.map((i) => [i.address, powerOf(plan, i)]));
    };
    expect(power("start")).toEqual({ "aws_instance.a": { running: true }, "aws_instance.b": { running: true }, "google_compute_instance.c": { running: true }, "kubernetes_deployment.d": { running: true } });
    expect(power("stop")).toEqual({
      "aws_instance.a": { running: false, by: 'aws_ec2_instance_state.a.state = "stopped"' },
      "aws_instance.b": { running: true },
      "google_compute_instance.c": { running: false, by: 'google_compute_instance.c.desired_status = "TERMINATED"' },
      "kubernetes_deployment.d": { running: false, by: "kubernetes_deployment.d.spec.replicas = 0" },
    });
  });

  it("cloud-config scripts-user always: the user data's scripts run at every boot", () => {
    expect(interpretUserData("#cloud-config\ncloud_final_modules:\n  - [scripts-user, always]\nruncmd:\n  - echo hi\n").scriptsUserAlways).toBe(true);
    expect(interpretUserData("#cloud-config\nruncmd:\n  - echo hi\n").scriptsUserAlways).toBe(false);
    expect(interpretUserData("#!/bin/sh\necho hi\n").scriptsUserAlways).toBe(false);
  });
});
