"""Trades from the exchanges' feeds, normalised into one record (the V2 schema)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

QUOTES = ("USDT", "USDC", "BUSD", "BTC", "ETH", "EUR", "USD")
LEVERAGED = ("UP", "DOWN", "BULL", "BEAR")


@dataclass(frozen=True)
class TradeV2:
    symbol: str
    base: str
    quote: str
    price: Decimal
    quantity: Decimal
    side: str
    timestamp_us: int
    asset_class: str
    vendor: dict[str, object]


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTCUSDT` -> (`BTC`, `USDT`): the longest known quote currency at the end."""
    upper = symbol.upper()
    for quote in sorted(QUOTES, key=len, reverse=True):
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    raise ValueError(f"unknown quote currency in {symbol!r}")


def asset_class(base: str) -> str:
    if any(base.endswith(suffix) and base != suffix for suffix in LEVERAGED):
        return "crypto_leveraged"
    return "crypto"


def from_binance(message: dict[str, object]) -> TradeV2:
    """A Binance `trade` stream message: `m` (is the buyer the maker) gives the side,
    `T` is in milliseconds, prices and quantities are decimal strings."""
    symbol = str(message["s"])
    base, quote = split_symbol(symbol)
    return TradeV2(
        symbol=symbol,
        base=base,
        quote=quote,
        price=Decimal(str(message["p"])),
        quantity=Decimal(str(message["q"])),
        side="sell" if message["m"] else "buy",
        timestamp_us=int(str(message["T"])) * 1000,
        asset_class=asset_class(base),
        vendor={k: v for k, v in message.items() if k not in {"s", "p", "q", "m", "T"}},
    )
