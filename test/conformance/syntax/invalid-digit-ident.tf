locals {
  1abc = 1
}
