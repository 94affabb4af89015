locals {}
locals {} locals {}
