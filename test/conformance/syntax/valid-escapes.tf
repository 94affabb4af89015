locals {
  a = "\n\t\"\\ \u00e9 \U0001F600 $${x} %%{y}"
}
