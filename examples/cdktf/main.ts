// The aws-multi-agent template built with cdktf: the same template as
// examples/templates/aws-multi-agent (agents main and dev on one EC2 instance).
// Synthesize with `npx provisioner synth` (see cdktf.json) — or `cdktf synth`.
import { App, AwsMultiAgentStack } from "../../src/constructs/index.js";

export default function build(app: App): void {
  new AwsMultiAgentStack(app, "aws-multi-agent", {
    agents: ["main", "dev"],
    region: "us-east-1",
    instanceType: "t3.medium",
    arch: "amd64",
  });
}
