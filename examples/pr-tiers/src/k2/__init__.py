"""K2, a market data platform, cut down to what its pipeline checks."""
