locals {
  a = "\q"
}
