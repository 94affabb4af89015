locals {
  a = { "quoted" = 1, bare = 2, (local.k) = 3, "${local.k}-x" = 4, b: 5 }
}
