"""Eden's backend, cut down to what the pipeline checks."""

VERSION = "2.4.1"
