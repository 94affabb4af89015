resource "a" "b" {
  inner {}
  inner {}
}
