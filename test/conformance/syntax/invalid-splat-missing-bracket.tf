locals {
  a = x[*.y
}
