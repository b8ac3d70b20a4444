"""The one long trade a strategy follows: its stop, its age, and the signals it emits.

The portfolio's `Position` is the truth about whether a trade is open; a strategy only
remembers what the position cannot tell it, the stop distance it chose at the entry.
That distance is re-anchored to the actual fill (`Position.entry_price`), so the
distance sizing risked against is the distance the stop keeps. If the entry is refused
or never fills (flat and nothing pending), the remembered distance is dropped.

A position the strategy did not see open (say, after a restart) gets the stop distance
of the bar it is first seen on, so no open trade is ever left without a stop once the
indicators are warm.
"""

from dataclasses import dataclass
from decimal import Decimal

from trading_agent.domain.intents import Action, OrderKind, Signal
from trading_agent.strategies.base import StrategyContext

__all__ = ["LongTrade", "TradeTracker", "check_product", "signal_at_close", "to_decimal"]


def to_decimal(x: float) -> Decimal:
    """An indicator's float as a Decimal price: the shortest text that reads back as x.

    Decimal(x) would carry the float's full binary expansion (50-odd digits) into prices
    and reasons; repr gives the same number as a human would write it.
    """
    return Decimal(repr(x))


def check_product(product_id: str, ctx: StrategyContext) -> None:
    """A strategy instance trades one product; any other candle is a wiring bug."""
    if ctx.candle.product_id != product_id:
        raise ValueError(f"strategy for {product_id} was given a {ctx.candle.product_id} candle")
    if ctx.position.base_size < 0:
        raise ValueError(f"long-only strategy on {product_id} sees a short position")


def signal_at_close(
    strategy_id: str,
    ctx: StrategyContext,
    action: Action,
    values: dict[str, float],
    note: str,
    stop_price: Decimal | None = None,
) -> Signal:
    """A market signal decided at the close of `ctx.candle` (filled at the next open)."""
    return Signal(
        strategy_id=strategy_id,
        product_id=ctx.candle.product_id,
        action=action,
        decided_ns=ctx.candle.end_ns,
        reference_price=ctx.candle.close,
        order_kind=OrderKind.MARKET,
        stop_price=stop_price,
        values=values,
        regime=ctx.regime.label,
        note=note,
    )


@dataclass
class LongTrade:
    """An open long as the strategy sees it: the stop and the bars closed while held."""

    entry_price: Decimal
    stop_price: Decimal | None
    bars_held: int = 0


class TradeTracker:
    """Follows one strategy's long through the positions the portfolio reports."""

    def __init__(self) -> None:
        self._entry_distance: Decimal | None = None
        self.trade: LongTrade | None = None

    def entering(self, stop_distance: Decimal) -> None:
        """An entry signal went out with a stop `stop_distance` below the reference price."""
        self._entry_distance = stop_distance

    def observe(self, ctx: StrategyContext, fallback_distance: Decimal | None) -> LongTrade | None:
        """The open trade after this candle (bars_held counts it), or None when flat."""
        position = ctx.position
        if position.is_flat:
            self.trade = None
            if not ctx.pending:  # an entry in flight keeps its distance for the fill
                self._entry_distance = None
            return None
        if self.trade is None:
            entry = position.entry_price if position.entry_price is not None else ctx.candle.close
            self.trade = LongTrade(entry_price=entry, stop_price=None)
            distance = self._entry_distance
            self._entry_distance = None
            self._set_stop(distance)
        if self.trade.stop_price is None:
            self._set_stop(fallback_distance)
        self.trade.bars_held += 1
        return self.trade

    def _set_stop(self, distance: Decimal | None) -> None:
        if self.trade is not None and distance is not None:
            self.trade.stop_price = self.trade.entry_price - distance
