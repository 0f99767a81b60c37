"""AlphaVelocity's API, cut down to what its pipeline checks."""

VERSION = "1.0.0"
