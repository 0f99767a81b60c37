from decimal import Decimal

import pytest

from k2.trades import asset_class, from_binance, split_symbol

MESSAGE = {"e": "trade", "s": "BTCUSDT", "p": "43250.12345678", "q": "0.00100000", "m": True, "T": 1705312800123}


@pytest.mark.parametrize(
    ("symbol", "pair"),
    [
        ("BTCUSDT", ("BTC", "USDT")),
        ("ethbtc", ("ETH", "BTC")),
        ("SOLUSD", ("SOL", "USD")),
        ("BTCUPUSDT", ("BTCUP", "USDT")),
    ],
)
def test_symbols_split_on_the_quote_currency(symbol: str, pair: tuple[str, str]) -> None:
    assert split_symbol(symbol) == pair


def test_an_unknown_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown quote"):
        split_symbol("USDT")


def test_leveraged_tokens_are_classified() -> None:
    assert (asset_class("BTCUP"), asset_class("ETH")) == ("crypto_leveraged", "crypto")


def test_a_binance_trade_keeps_precision_and_vendor_data() -> None:
    trade = from_binance(MESSAGE)
    assert trade.price == Decimal("43250.12345678")
    assert trade.quantity == Decimal("0.00100000")
    assert trade.side == "sell"  # the buyer was the maker
    assert trade.timestamp_us == 1705312800123000
    assert trade.vendor == {"e": "trade"}
