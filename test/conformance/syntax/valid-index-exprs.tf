locals {
  a = x[0]["k"][local.i].y
  b = x[
    0
  ]
}
