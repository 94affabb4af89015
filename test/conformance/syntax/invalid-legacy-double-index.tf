locals {
  a = foo.0.1.bar
}
