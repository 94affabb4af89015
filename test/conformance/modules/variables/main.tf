variable "plain" {
  default = "value"
}
variable "typed_list" {
  type    = list(string)
  default = [1, true, "x"]
}
variable "typed_set" {
  type    = set(number)
  default = [3, 1, 3]
}
variable "typed_map" {
  type    = map(number)
  default = { a = "1", b = 2 }
}
variable "obj" {
  type = object({
    name    = string
    size    = optional(number, 10)
    tags    = optional(map(string), {})
    enabled = optional(bool)
  })
  default = { name = "x" }
}
variable "tuple" {
  type    = tuple([string, number])
  default = ["a", "2"]
}
variable "any" {
  type    = any
  default = { a = [1, 2] }
}
variable "nullable" {
  type    = string
  default = null
}
variable "list_of_obj" {
  type = list(object({ a = string, b = optional(string, "bee") }))
  default = [{ a = "1" }, { a = "2", b = "x" }]
}
