# hash
// slashes
/* block
 comment */
locals {
  a = 1 # trailing
  b = 2 // trailing
  c = /* inline */ 3
}
