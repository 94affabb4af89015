locals {
  a = max([1, 2]...)
  b = f(
    1,
    2,
  )
}
