module "child" {
  source = "./child"
  name   = "from-root"
  count_ = 2
}

locals {
  greeting = module.child.greeting
}
