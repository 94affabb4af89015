terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.5.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

data "coder_workspace" "me" {}

data "coder_workspace_owner" "me" {}

locals {
  linux_user = "coder"

  # Every agent on this instance authenticates with the same AWS instance identity, so each one
  # is started with its own CODER_AGENT_NAME (see cloud-init.yaml.tftpl). Without it Coder cannot
  # tell the agents apart and answers 409 "Multiple agents found with instance ID ...".
  # try() keeps the map valid while the workspace is stopped (start_count = 0).
  agent_init_scripts = {
    main = try(coder_agent.main[0].init_script, "")
    dev  = try(coder_agent.dev[0].init_script, "")
  }
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "coder_agent" "main" {
  count = data.coder_workspace.me.start_count
  arch  = "amd64"
  os    = "linux"
  auth  = "aws-instance-identity"
}

resource "coder_agent_instance" "main" {
  count       = data.coder_workspace.me.start_count
  agent_id    = coder_agent.main[0].id
  instance_id = aws_instance.workspace.id
}

resource "coder_agent" "dev" {
  count = data.coder_workspace.me.start_count
  arch  = "amd64"
  os    = "linux"
  auth  = "aws-instance-identity"
}

resource "coder_agent_instance" "dev" {
  count       = data.coder_workspace.me.start_count
  agent_id    = coder_agent.dev[0].id
  instance_id = aws_instance.workspace.id
}

resource "aws_instance" "workspace" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.medium"

  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    linux_user = local.linux_user
    agents     = local.agent_init_scripts
  })

  tags = {
    Name = "coder-${data.coder_workspace_owner.me.name}-${data.coder_workspace.me.name}"
  }

  lifecycle {
    ignore_changes = [ami]
  }
}

resource "aws_ec2_instance_state" "workspace" {
  instance_id = aws_instance.workspace.id
  state       = data.coder_workspace.me.transition == "start" ? "running" : "stopped"
}
