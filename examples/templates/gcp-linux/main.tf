# Google Compute Engine Linux workspace (in the style of Coder's gcp-linux example): a startup script
# creates the user, gives it passwordless sudo through /etc/sudoers.d, and starts the agent as it.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
      version = "~> 2.0"
    }
    google = {
      source = "hashicorp/google"
    }
  }
}

variable "project_id" {
  type    = string
  default = "my-project"
}

data "coder_parameter" "zone" {
  name         = "zone"
  display_name = "Zone"
  default      = "us-central1-a"
  mutable      = false
}

provider "google" {
  zone    = data.coder_parameter.zone.value
  project = var.project_id
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  auth = "google-instance-identity"
  arch = "amd64"
  os   = "linux"
}

resource "google_compute_disk" "root" {
  name  = "coder-${data.coder_workspace.me.id}-root"
  type  = "pd-ssd"
  image = "debian-cloud/debian-12"
}

resource "google_compute_instance" "dev" {
  zone         = data.coder_parameter.zone.value
  count        = data.coder_workspace.me.start_count
  name         = "coder-${lower(data.coder_workspace_owner.me.name)}-${lower(data.coder_workspace.me.name)}-root"
  machine_type = "e2-medium"
  network_interface {
    network = "default"
    access_config {}
  }
  boot_disk {
    auto_delete = false
    source      = google_compute_disk.root.name
  }
  service_account {
    email  = "default"
    scopes = ["cloud-platform"]
  }
  metadata_startup_script = <<-EOT
    #!/bin/bash
    set -eu
    if ! id -u coder >/dev/null 2>&1; then
      useradd -m -s /bin/bash coder
    fi
    echo "coder ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/coder
    chmod 0440 /etc/sudoers.d/coder
    # The init script is written base64-decoded, never pasted into a quoted shell string.
    mkdir -p /opt/coder
    echo "${base64encode(coder_agent.main.init_script)}" | base64 -d > /opt/coder/init
    chmod 0755 /opt/coder/init
    exec sudo -u coder /opt/coder/init
  EOT
}

resource "coder_agent_instance" "dev" {
  count       = data.coder_workspace.me.start_count
  agent_id    = coder_agent.main.id
  instance_id = google_compute_instance.dev[0].instance_id
}
