locals {
  a      = 1
  b      = local.a + 1
  c      = "${local.b}-${local.a}"
  list   = [for i in range(3) : i * local.b]
  map    = { for i, v in local.list : tostring(i) => v }
  nested = { x = { y = { z = local.c } } }
  unicode_π = 3.14159265359
  json   = jsondecode(file("${path.module}/data.json"))
  merged = merge(local.json, { extra = true })
}
