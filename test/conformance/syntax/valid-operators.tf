locals {
  a = !true || false && 1 < 2 == true
  b = -1 + 2 * 3 % 4 / 5 - -6
  c = 1 >= 2 != 3 <= 4
}
