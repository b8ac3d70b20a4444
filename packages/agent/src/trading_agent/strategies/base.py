"""The `Strategy` protocol: a candle and its context in, signals out.

A strategy is a deterministic state machine over complete candles: its indicators
update incrementally inside it, and it does no I/O, reads no clock and draws no
random numbers. Create a fresh instance per run (per product); the same candles give
the same signals.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from trading_agent.domain.intents import Signal
from trading_agent.domain.market import Candle
from trading_agent.domain.regime import Regime

__all__ = ["Position", "Strategy", "StrategyContext"]


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """The agent's position in one product, as the portfolio folds it from fills."""

    base_size: Decimal = Decimal(0)
    entry_price: Decimal | None = None
    entry_ns: int | None = None

    @property
    def is_flat(self) -> bool:
        return self.base_size == 0


class StrategyContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy may know when a candle closes, besides the candles it has seen."""

    candle: Candle
    position: Position
    regime: Regime
    pending: bool = False  # an order of this strategy on this product is in flight


class Strategy(Protocol):
    """One strategy on one product."""

    @property
    def strategy_id(self) -> str: ...

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update on a complete candle; return what to do now (usually nothing)."""
        ...
