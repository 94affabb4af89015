resource "a" "b" {
  dynamic "setting" {
    for_each = var.settings
    content {
      name = setting.key
    }
  }
}
