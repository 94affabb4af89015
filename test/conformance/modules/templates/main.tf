locals {
  tmpl = "Hello, $${name}!"
}
