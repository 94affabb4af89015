variable "name" {
  type = string
}
variable "count_" {
  type    = number
  default = 1
}
locals {
  names = [for i in range(var.count_) : "${var.name}-${i}"]
}
output "greeting" {
  value = "hello ${var.name}"
}
output "names" {
  value = local.names
}
output "path" {
  value = path.module
}
