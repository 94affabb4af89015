locals {
  a = <<EOT
hello
EOT
  b = <<-EOT
    indented
    EOT
}
