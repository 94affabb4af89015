# Two Docker containers, one agent each: every container gets its own agent's token.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
      version = "~> 2.0"
    }
    docker = {
      source = "kreuzwerker/docker"
    }
  }
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "app" {
  arch = "amd64"
  os   = "linux"
}

resource "coder_agent" "db" {
  arch = "amd64"
  os   = "linux"
}

resource "docker_container" "app" {
  count      = data.coder_workspace.me.start_count
  image      = "codercom/enterprise-base:ubuntu"
  name       = "coder-${data.coder_workspace.me.id}-app"
  user       = "coder"
  entrypoint = ["sh", "-c", replace(coder_agent.app.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.app.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
}

resource "docker_container" "db" {
  count      = data.coder_workspace.me.start_count
  image      = "codercom/enterprise-base:ubuntu"
  name       = "coder-${data.coder_workspace.me.id}-db"
  entrypoint = ["sh", "-c", replace(coder_agent.db.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.db.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
}
