"""The `Strategy` protocol: a candle and its context in, signals out.

A strategy is a deterministic state machine over complete candles: its indicators
update incrementally inside it, and it does no I/O, reads no clock and draws no
random numbers. Create a fresh instance per run (per product); the same candles give
the same signals.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

from trading_agent.domain.intents import Signal
from trading_agent.domain.market import Candle
from trading_agent.domain.regime import Regime

__all__ = ["Planned", "Position", "Strategy", "StrategyContext"]


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


@runtime_checkable
class Planned(Protocol):
    """A strategy that can say in advance, from a product's whole candle list, on which
    bars it could possibly signal, whatever its position, pending orders or regime.

    After `plan(candles)` the strategy answers `on_candle` for any of those candles,
    visited in time order with any of them skipped (it reads what it precomputed by the
    candle, instead of updating incremental state), and gives exactly the signals it
    gives when fed every candle. Bars outside the plan give no signal. A replay that
    skips bars relies on this (`trading_console.fast_replay`).
    """

    def plan(self, candles: Sequence[Candle]) -> npt.NDArray[np.int64]:
        """Indices into `candles` (ascending) of the bars that may give a signal; a
        superset is fine, a missing bar is a bug."""
        ...
