locals {
  π = 3.14
  café = "x"
}
