locals {
  a = x[*].b[*].c
  b = x[*][*]
}
