resource "a" "b" {
  network_interface {
    device_index = 0
    nested {
      x = 1
    }
  }
  lifecycle {
    ignore_changes = [tags, user_data]
  }
}
