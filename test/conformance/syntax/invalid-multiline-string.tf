locals {
  a = "line
break"
}
