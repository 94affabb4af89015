locals {
  a = "%{ if true }x%{ else }y%{ endif }"
  b = <<-EOT
    %{~ for x in [1] ~}
    ${x}
    %{~ endfor ~}
  EOT
}
