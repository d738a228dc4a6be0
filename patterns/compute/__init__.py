"""EC2 compute: a web tier of Graviton instances behind an ALB (`web_tier`)."""
