locals {
  a = <<EOT
hello
EOT
}