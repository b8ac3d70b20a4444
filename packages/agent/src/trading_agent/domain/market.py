"""Market values the agent reasons over: candles and the top of the book.

Prices and sizes are `Decimal`, as the venue sends them (strings on the wire).
Indicator maths converts closes to float at its own edge (`trading_agent.signals`).
"""

from decimal import Decimal
from typing import Final

import msgspec

__all__ = ["NS_PER_S", "Candle", "TopOfBook"]

NS_PER_S: Final = 1_000_000_000


class Candle(msgspec.Struct, frozen=True, kw_only=True):
    """One OHLCV bar of `granularity_s` seconds starting at `start_ns` (UTC epoch ns).

    A candle is complete when the clock reaches `end_ns`; strategies only ever see
    complete candles, so nothing is decided on a bar that is still forming.
    """

    product_id: str
    start_ns: int
    granularity_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        problem = _candle_problem(self)
        if problem:
            raise ValueError(f"candle {self.product_id} @ {self.start_ns}: {problem}")

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.granularity_s * NS_PER_S


def _candle_problem(c: Candle) -> str:
    if c.granularity_s <= 0:
        return f"granularity_s must be positive, got {c.granularity_s}"
    values = (c.open, c.high, c.low, c.close, c.volume)
    if not all(v.is_finite() for v in values):
        return "prices and volume must be finite"
    if min(c.open, c.high, c.low, c.close) <= 0:
        return "prices must be positive"
    if c.volume < 0:
        return "volume must not be negative"
    if not c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high:
        return f"needs low <= open, close <= high (got o={c.open} h={c.high} l={c.low} c={c.close})"
    return ""


class TopOfBook(msgspec.Struct, frozen=True, kw_only=True):
    """Best bid and ask of one product as of `as_of_ns` (the venue's time of the data)."""

    product_id: str
    bid: Decimal
    ask: Decimal
    as_of_ns: int

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    def age_ns(self, now_ns: int) -> int:
        return now_ns - self.as_of_ns
