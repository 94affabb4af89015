locals {
  a = aws_instance.x.*.id[0]
  b = "${aws_instance.x.*.id[count.index]}"
  c = aws_instance.x.*.network.0.ip
  d = aws_instance.x.0.id
}
