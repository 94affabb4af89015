# Two agents on one EC2 instance, both with aws-instance-identity, each started as the coder user.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
      version = "~> 2.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

data "coder_workspace" "me" {}

resource "coder_agent" "main" {
  count = data.coder_workspace.me.start_count
  arch  = "amd64"
  os    = "linux"
  auth  = "aws-instance-identity"
}

resource "coder_agent" "dev" {
  count = data.coder_workspace.me.start_count
  arch  = "amd64"
  os    = "linux"
  auth  = "aws-instance-identity"
}

# Created at each start and destroyed at each stop: the user data (which cloud-init runs once per
# instance) runs at every start.
resource "aws_instance" "workspace" {
  count         = data.coder_workspace.me.start_count
  ami           = "ami-0c7217cdde317cfec"
  instance_type = "t3.medium"
  user_data     = <<-EOT
    #!/bin/bash
    set -eu
    useradd -m -s /bin/bash coder || true
    mkdir -p /opt/coder
    echo "${base64encode(try(coder_agent.main[0].init_script, ""))}" | base64 -d > /opt/coder/main-init
    echo "${base64encode(try(coder_agent.dev[0].init_script, ""))}" | base64 -d > /opt/coder/dev-init
    chmod 0755 /opt/coder/main-init /opt/coder/dev-init
    # The name goes after sudo's options, so it reaches the agent.
    sudo -u coder CODER_AGENT_NAME=main /opt/coder/main-init > /tmp/coder-main.log 2>&1 &
    sudo -u coder CODER_AGENT_NAME=dev /opt/coder/dev-init > /tmp/coder-dev.log 2>&1 &
  EOT
}
