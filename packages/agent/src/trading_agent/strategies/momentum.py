"""MO1 breakout (LEARNING.md section 4; Donchian channels), long only.

At a bar's close:

- enter long (market) when flat and the close is above the highest high of the
  `entry_bars` bars before this one (`Donchian.previous.upper`; this bar's own high
  would make a close above it impossible), with a stop `stop_atr` ATRs below the close
  (`Signal.stop_price`, which sizing risks against);
- exit (market) when long and either
  1. the close is at or below the stop, or
  2. the close is below the lowest low of the `exit_bars` bars before this one.

The stop starts at entry - stop_atr * ATR (the entry bar's ATR, re-anchored to the
actual fill). With `trailing_stop` it then trails the closes: after each bar it rises to
close - stop_atr * ATR(now) if that is higher, and never falls. The check uses the stop
as it stood before this bar, so a bar cannot stop itself out by moving the stop. Like
mean reversion, the stop is evaluated on the close: orders go out only at a close.

No regime filter: breakouts are the trend bet, and whether a filter helps is Loop 2's
question. Nothing is emitted while an order is pending; the channels, the ATR and the
trail keep updating.
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from trading_agent.domain.intents import Action, Signal
from trading_agent.signals.incremental import ATR, Donchian
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import (
    LongTrade,
    TradeTracker,
    check_product,
    signal_at_close,
    to_decimal,
)

__all__ = ["NAME", "Momentum"]

NAME: Final = "momentum"


class Momentum:
    """Donchian breakout with an ATR stop (fixed or trailing) and a channel exit."""

    def __init__(
        self,
        product_id: str,
        *,
        entry_bars: int = 20,
        exit_bars: int = 10,
        atr_bars: int = 14,
        stop_atr: float = 3.0,
        trailing_stop: bool = True,
    ) -> None:
        if not (math.isfinite(stop_atr) and stop_atr > 0):
            raise ValueError(f"{NAME}: stop_atr must be a finite number above 0, got {stop_atr}")
        self.product_id = product_id
        self.stop_atr = stop_atr
        self.trailing_stop = trailing_stop
        self._entry = Donchian(entry_bars)
        self._exit = Donchian(exit_bars)
        self._atr = ATR(atr_bars)
        self._tracker = TradeTracker()

    @property
    def strategy_id(self) -> str:
        return NAME

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update channels and ATR on the bar; enter, exit or trail as documented above."""
        check_product(self.product_id, ctx)
        c = ctx.candle
        high, low, close = float(c.high), float(c.low), float(c.close)
        self._entry.update(high, low)
        self._exit.update(high, low)
        atr = self._atr.update(high, low, close)
        distance = None if atr is None else to_decimal(self.stop_atr * atr)
        trade = self._tracker.observe(ctx, distance)
        signals: list[Signal] = []
        if trade is not None:
            signals = [] if ctx.pending else self._exits(ctx, trade)
            if self.trailing_stop and distance is not None:
                _trail(trade, c.close - distance)
        elif not ctx.pending and atr is not None and distance is not None:
            signals = self._entries(ctx, atr, distance)
        return signals

    def _entries(self, ctx: StrategyContext, atr: float, distance: Decimal) -> list[Signal]:
        channel = self._entry.previous
        stop = ctx.candle.close - distance
        if channel is None or not float(ctx.candle.close) > channel.upper or stop <= 0:
            return []
        self._tracker.entering(distance)
        values = {"channel_upper": channel.upper, "atr": atr, "stop": float(stop)}
        return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "breakout", stop)]

    def _exits(self, ctx: StrategyContext, trade: LongTrade) -> list[Signal]:
        close = ctx.candle.close
        channel = self._exit.previous
        values = {"bars_held": float(trade.bars_held)}
        if channel is not None:
            values["channel_lower"] = channel.lower
        if trade.stop_price is not None:
            values["stop"] = float(trade.stop_price)
        if trade.stop_price is not None and close <= trade.stop_price:
            note = "stop"
        elif channel is not None and float(close) < channel.lower:
            note = "channel_exit"
        else:
            return []
        return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, note)]


def _trail(trade: LongTrade, candidate: Decimal) -> None:
    if trade.stop_price is None or candidate > trade.stop_price:
        trade.stop_price = candidate
