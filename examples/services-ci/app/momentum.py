"""Momentum scores: pure functions, unit-tested without any service."""

from __future__ import annotations

from itertools import pairwise

PRICES = {
    "AAPL": [182.0, 185.5, 189.2, 191.0, 194.3, 198.1],
    "MSFT": [402.0, 399.1, 405.7, 410.2, 415.0, 417.9],
    "FLAT": [50.0, 50.0, 50.0, 50.0, 50.0, 50.0],
}


def momentum_score(prices: list[float]) -> float:
    """The average step-to-step return over the series, in percent, rounded to 2 places."""
    if len(prices) < 2:
        raise ValueError("a momentum score needs at least two prices")
    returns = [(b - a) / a for a, b in pairwise(prices)]
    return round(100 * sum(returns) / len(returns), 2)


def score_for(ticker: str) -> dict[str, object]:
    prices = PRICES.get(ticker.upper())
    if prices is None:
        raise KeyError(ticker)
    return {"ticker": ticker.upper(), "overall_momentum_score": momentum_score(prices)}
