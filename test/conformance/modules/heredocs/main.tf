locals {
  plain = <<EOT
hello
  world
EOT

  flush = <<-EOT
    first
      indented
    last
  EOT

  directives = <<-EOT
    #!/bin/sh
    %{ for name in ["main", "dev"] ~}
    echo ${name}
    %{ endfor ~}
    %{ if true }
    yes
    %{ else }
    no
    %{ endif }
    done
  EOT

  strip = <<-EOT
    a
    ${~ "b" ~}
    c
  EOT

  interp_first = <<-EOT
      ${"x"} indented
    y
  EOT

  blank_lines = <<-EOT

      two spaces

    zero
  EOT

  escapes = <<EOT
literal \n and $${not} and %%{ not }
EOT

  cloud_config = <<-EOT
    #cloud-config
    write_files:
    %{ for agent in ["main", "dev"] ~}
      - path: /opt/coder/${agent}.sh
        content: ${base64encode("echo ${agent}")}
        encoding: b64
    %{ endfor ~}
    runcmd:
      - echo done
  EOT

  tabs = <<-EOT
	tab indented
	  more
	EOT

  marker_indented = <<-EOT
  x
      EOT
}
