locals {
  a = 1.5e10
  b = 0.001
  c = 1E-3
  d = 007
}
