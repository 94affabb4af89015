resource "coder_agent" "main" { os = "linux" }
