data "coder_workspace" "me" { }
