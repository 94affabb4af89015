#!/bin/bash
# Runs after cloud-config wrote the unit: start the agent as a service.
set -euo pipefail
systemctl daemon-reload
systemctl enable --now coder-agent.service
