locals {
  _private = 1
  a-b = 2
}
