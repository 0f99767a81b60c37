"""Text helpers: Markdown that outside text cannot break, redaction, YAML reading. This
layer imports no other StackCI layer."""
