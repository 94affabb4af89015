locals {
  a = "%{ iff true }x%{ endif }"
}
