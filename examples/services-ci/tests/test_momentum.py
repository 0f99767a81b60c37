import pytest
from app.momentum import momentum_score, score_for

pytestmark = pytest.mark.unit


def test_a_rising_series_has_positive_momentum() -> None:
    assert momentum_score([100.0, 110.0, 121.0]) == 10.0


def test_a_flat_series_has_none() -> None:
    assert score_for("flat")["overall_momentum_score"] == 0.0


def test_one_price_is_not_enough() -> None:
    with pytest.raises(ValueError, match="at least two prices"):
        momentum_score([1.0])


def test_an_unknown_ticker() -> None:
    with pytest.raises(KeyError):
        score_for("NOPE")
