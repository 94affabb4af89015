locals {
  a = [for x in [1, 2] : x if x > 1]
  b = {for k, v in {a = 1} : k => v...}
  c = {
    for x in [1] :
    x => x
  }
}
