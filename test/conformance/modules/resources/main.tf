resource "terraform_data" "single" {
  input = { name = "one", list = [1, 2] }
}

resource "terraform_data" "counted" {
  count = 3
  input = "item-${count.index}"
}

resource "terraform_data" "none" {
  count = 0
  input = "never"
}

resource "terraform_data" "each" {
  for_each = toset(["b", "a"])
  input    = "each-${each.key}"
}

resource "terraform_data" "each_map" {
  for_each = { x = 1, y = 2 }
  input    = each.value * 10
}

locals {
  ids      = terraform_data.counted[*].id
  inputs   = terraform_data.counted[*].input
  legacy   = terraform_data.counted.*.input[1]
  fallback = try(terraform_data.none[0].input, "fallback")
  mixed    = "${terraform_data.single.id}-suffix"
}
