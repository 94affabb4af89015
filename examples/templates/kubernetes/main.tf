# Kubernetes workspace (in the style of Coder's kubernetes example): a Deployment runs the agent's
# init script; the agent token comes from a Secret through secret_key_ref.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
      version = "~> 2.0"
    }
    kubernetes = {
      source = "hashicorp/kubernetes"
    }
  }
}

variable "namespace" {
  type    = string
  default = "coder-workspaces"
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "cpu" {
  name         = "cpu"
  display_name = "CPU"
  default      = "2"
  mutable      = true
}

resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
}

resource "coder_app" "code-server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/home/coder"
  icon         = "/icon/code.svg"
  subdomain    = false
  share        = "owner"
}

resource "kubernetes_secret" "agent" {
  metadata {
    name      = "coder-${data.coder_workspace.me.id}-agent"
    namespace = var.namespace
  }
  data = {
    token = coder_agent.main.token
  }
}

resource "kubernetes_deployment" "main" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "coder-${lower(data.coder_workspace_owner.me.name)}-${lower(data.coder_workspace.me.name)}"
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/name"     = "coder-workspace"
      "app.kubernetes.io/instance" = "coder-workspace-${data.coder_workspace.me.id}"
    }
  }
  spec {
    replicas = 1
    selector {
      match_labels = {
        "app.kubernetes.io/instance" = "coder-workspace-${data.coder_workspace.me.id}"
      }
    }
    template {
      metadata {
        labels = {
          "app.kubernetes.io/instance" = "coder-workspace-${data.coder_workspace.me.id}"
        }
      }
      spec {
        security_context {
          run_as_user = 1000
          fs_group    = 1000
        }
        container {
          name    = "dev"
          image   = "codercom/enterprise-base:ubuntu"
          command = ["sh", "-c", coder_agent.main.init_script]
          env {
            name = "CODER_AGENT_TOKEN"
            value_from {
              secret_key_ref {
                name = kubernetes_secret.agent.metadata[0].name
                key  = "token"
              }
            }
          }
          resources {
            requests = {
              cpu = "${data.coder_parameter.cpu.value}"
            }
          }
        }
      }
    }
  }
}
