resource "a" "${x}" {
}
