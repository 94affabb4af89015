resource "a" "b" { inner { x = 1 } }
