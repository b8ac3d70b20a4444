"""MR2 z-score mean reversion (LEARNING.md section 4), long only: a hypothesis to test.

z = (close - SMA_n) / SD_n over the last n closes including this one (sample SD,
`signals.ZScore`). At a bar's close:

- enter long (market) when flat, z < -entry_z, and the regime allows it, with a stop
  `stop_atr` ATRs below the close (`Signal.stop_price`, which sizing risks against);
- exit (market), checked in this order, when long:
  1. the stop: the close is at or below entry - stop_atr * ATR, with the ATR of the
     entry bar and the entry re-anchored to the actual fill;
  2. the time stop: the position has been held for `max_hold_bars` closed bars
     (default 2n, LEARNING.md);
  3. the target: z >= exit_z.

The stop is evaluated on the close, not the low. Orders go out only at a close anyway
(the engine has no resting stop orders), so a wick through the stop that closes back
above it would only sell into the rebound at the next open; the cost is that a close
far through the stop loses more than the 1 R sized for.

Regime filter: entries need a regime that is not `trend` and not high volatility;
`range` and `neutral` with low volatility pass. Reversion to the mean is the bet a trend
breaks, and z-score entries in high volatility are the falling knives. `neutral` passes
because it claims no trend (and is the label before the classifier is warm); whether
requiring `range` does better is for Loop 2 to show. Exits ignore the regime: a trade
is never kept open because the label changed.

Nothing is emitted while an order is pending; indicators and the bars-held count keep
updating.
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.regime import Regime, Trend, Volatility
from trading_agent.signals.incremental import ATR, ZScore
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import (
    LongTrade,
    TradeTracker,
    check_product,
    signal_at_close,
    to_decimal,
)

__all__ = ["NAME", "MeanReversion", "regime_allows_entry"]

NAME: Final = "mean_reversion"


def regime_allows_entry(regime: Regime) -> bool:
    """Neither trend nor high volatility (the filter in the module docstring)."""
    return regime.trend is not Trend.TREND and regime.volatility is not Volatility.HIGH


class MeanReversion:
    """Buy a z-score dip below -entry_z, sell at z >= exit_z, the stop or the time stop."""

    def __init__(
        self,
        product_id: str,
        *,
        window_bars: int = 60,
        entry_z: float = 2.0,
        exit_z: float = 0.0,
        atr_bars: int = 14,
        stop_atr: float = 3.0,
        max_hold_bars: int | None = None,
    ) -> None:
        hold = 2 * window_bars if max_hold_bars is None else max_hold_bars
        _check(entry_z=entry_z, exit_z=exit_z, stop_atr=stop_atr, max_hold_bars=hold)
        self.product_id = product_id
        self.entry_z = entry_z
        self.exit_z = exit_z
        self.stop_atr = stop_atr
        self.max_hold_bars = hold
        self._z = ZScore(window_bars)
        self._atr = ATR(atr_bars)
        self._tracker = TradeTracker()

    @property
    def strategy_id(self) -> str:
        return NAME

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update z and ATR on the bar; enter or exit as the module docstring says."""
        check_product(self.product_id, ctx)
        c = ctx.candle
        close = float(c.close)
        z = self._z.update(close)
        atr = self._atr.update(float(c.high), float(c.low), close)
        distance = None if atr is None else to_decimal(self.stop_atr * atr)
        trade = self._tracker.observe(ctx, distance)
        if ctx.pending:
            return []
        if trade is not None:
            return self._exit(ctx, trade, z)
        if z is None or atr is None or distance is None:
            return []
        return self._enter(ctx, z, atr, distance)

    def _enter(self, ctx: StrategyContext, z: float, atr: float, distance: Decimal) -> list[Signal]:
        stop = ctx.candle.close - distance
        if not (z < -self.entry_z and regime_allows_entry(ctx.regime) and stop > 0):
            return []
        self._tracker.entering(distance)
        values = {"z": z, "atr": atr, "stop": float(stop)}
        return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "z_entry", stop)]

    def _exit(self, ctx: StrategyContext, trade: LongTrade, z: float | None) -> list[Signal]:
        close = ctx.candle.close
        values = {"bars_held": float(trade.bars_held)}
        if z is not None:
            values["z"] = z
        if trade.stop_price is not None:
            values["stop"] = float(trade.stop_price)
        if trade.stop_price is not None and close <= trade.stop_price:
            note = "stop"
        elif trade.bars_held >= self.max_hold_bars:
            note = "time_stop"
        elif z is not None and z >= self.exit_z:
            note = "z_exit"
        else:
            return []
        return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, note)]


def _check(*, entry_z: float, exit_z: float, stop_atr: float, max_hold_bars: int) -> None:
    problems = []
    if not (math.isfinite(entry_z) and entry_z > 0):
        problems.append(f"entry_z must be a finite number above 0, got {entry_z}")
    if not (math.isfinite(exit_z) and exit_z > -entry_z):
        problems.append(f"exit_z must be finite and above -entry_z, got {exit_z}")
    if not (math.isfinite(stop_atr) and stop_atr > 0):
        problems.append(f"stop_atr must be a finite number above 0, got {stop_atr}")
    if max_hold_bars < 1:
        problems.append(f"max_hold_bars must be at least 1, got {max_hold_bars}")
    if problems:
        raise ValueError(f"{NAME}: " + "; ".join(problems))
