"""StackCI: reusable GitHub Actions for Docker Compose stacks."""

# The one place the version is kept: pyproject.toml reads it (hatch), scripts/release.py
# sets it together with launcher/release-image, README and CHANGELOG.md.
__version__ = "0.1.0"
