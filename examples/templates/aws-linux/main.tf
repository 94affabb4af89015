# AWS EC2 Linux workspace (in the style of Coder's aws-linux example): user data is a cloud-init
# multipart archive from the cloudinit provider — a cloud-config part that creates the user and a
# systemd unit, and a shell part that starts the unit running the agent.
terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
    cloudinit = {
      source = "hashicorp/cloudinit"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.region
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "instance_type" {
  name         = "instance_type"
  display_name = "Instance type"
  default      = "t3.medium"
  mutable      = false
  option {
    name  = "2 vCPU, 4 GiB RAM"
    value = "t3.medium"
  }
  option {
    name  = "4 vCPU, 8 GiB RAM"
    value = "t3.large"
  }
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
  }
}

resource "coder_agent" "dev" {
  count = data.coder_workspace.me.start_count
  arch  = "amd64"
  os    = "linux"
  auth  = "aws-instance-identity"

  metadata {
    key          = "load"
    display_name = "Load average"
    script       = "cat /proc/loadavg | cut -d' ' -f1"
    interval     = 60
    timeout      = 1
  }
}

locals {
  linux_user = "coder"
}

data "cloudinit_config" "user_data" {
  gzip          = false
  base64_encode = false
  boundary      = "//"

  part {
    filename     = "cloud-config.yaml"
    content_type = "text/cloud-config"
    content = templatefile("${path.module}/cloud-init/cloud-config.yaml.tftpl", {
      hostname    = lower(data.coder_workspace.me.name)
      linux_user  = local.linux_user
      init_script = try(coder_agent.dev[0].init_script, "")
    })
  }

  part {
    filename     = "start-agent.sh"
    content_type = "text/x-shellscript"
    content      = file("${path.module}/cloud-init/start-agent.sh")
  }
}

resource "aws_instance" "dev" {
  ami               = data.aws_ami.ubuntu.id
  availability_zone = "${var.region}a"
  instance_type     = data.coder_parameter.instance_type.value
  user_data         = data.cloudinit_config.user_data.rendered

  tags = {
    Name          = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
    Coder_Provisioned = "true"
  }
  lifecycle {
    ignore_changes = [ami]
  }
}

resource "aws_ec2_instance_state" "dev" {
  instance_id = aws_instance.dev.id
  state       = data.coder_workspace.me.transition == "start" ? "running" : "stopped"
}

resource "coder_metadata" "workspace_info" {
  resource_id = aws_instance.dev.id
  item {
    key   = "region"
    value = var.region
  }
}
