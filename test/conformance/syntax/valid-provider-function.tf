locals {
  a = provider::terraform::encode_tfvars({})
  b = core::upper("x")
}
