"""StackCI: reusable GitHub Actions for Docker Compose stacks."""

__version__ = "0.1.0"
