locals {
  a = x.*.b.*.c
}
