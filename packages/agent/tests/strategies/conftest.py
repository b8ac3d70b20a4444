"""A driver for strategy tests: candles in, signals out, fills at the next bar's open."""

from collections.abc import Callable, Collection, Sequence
from decimal import Decimal

import pytest

from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.market import Candle
from trading_agent.domain.regime import UNKNOWN_REGIME, Regime
from trading_agent.strategies.base import Position, Strategy, StrategyContext

Drive = Callable[..., list[tuple[int, Signal]]]


def _drive(
    strategy: Strategy,
    candles: Sequence[Candle],
    *,
    regime: Regime = UNKNOWN_REGIME,
    regimes: Sequence[Regime] | None = None,
    pending: Collection[int] = (),
) -> list[tuple[int, Signal]]:
    # Every signal fills in full at the next bar's open, as the engine fills it; bars in
    # `pending` are shown to the strategy with an order in flight (and fill nothing).
    position = Position()
    order: Action | None = None
    out: list[tuple[int, Signal]] = []
    for i, c in enumerate(candles):
        if order is Action.ENTER_LONG:
            position = Position(base_size=Decimal(1), entry_price=c.open, entry_ns=c.start_ns)
        elif order is Action.EXIT_LONG:
            position = Position()
        order = None
        label = regimes[i] if regimes is not None else regime
        ctx = StrategyContext(candle=c, position=position, regime=label, pending=i in pending)
        for signal in strategy.on_candle(ctx):
            out.append((i, signal))
            order = signal.action
    return out


@pytest.fixture
def drive() -> Drive:
    """Run a strategy over candles: (bar index, signal) for every signal it emits."""
    return _drive
