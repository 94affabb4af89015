locals {
  a = (
    true
    ? 1
    : 2
  )
  b = [
    1,
    2,
  ]
  c = {
    x = 1
    y = 2,
    z = 3
  }
}
