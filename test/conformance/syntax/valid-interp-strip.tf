locals {
  a = "a ${~ x ~} b"
}
