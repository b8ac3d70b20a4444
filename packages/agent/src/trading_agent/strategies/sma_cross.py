"""The reference strategy: SMA 20/50 crossover on closes, long or flat, a fixed size.

Kept deliberately plain so its trades can be matched bar for bar against other
backtest engines:

- "above" means fast SMA > slow SMA; at a bar's close, with both SMAs warm at this
  close and the previous one: enter long (market) when above now and not above at the
  previous close; exit (market) when not above now and above at the previous close;
- the comparison is exact: sums of the Decimal closes, cross-multiplied by the window
  lengths, so two SMAs that are equal compare equal (with float SMAs an exact tie, which
  real data has, can come out either way, and engines would disagree on it);
- the engine fills at the next bar's open; the size is fixed (`sizing.fixed_size_base`);
- entries only when flat, exits only when long, nothing at all while an order of this
  strategy is in flight (`ctx.pending`): a cross missed then is not taken later.

The SMAs update on every bar, pending or not, so a missed bar never shifts the windows.
"""

import decimal
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from trading_agent.domain.intents import Action, Signal
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import check_product, signal_at_close

__all__ = ["NAME", "SmaCross"]

NAME: Final = "sma_cross"
_EXACT: Final = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])


class _ExactSum:
    """The sum of the last n closes, exact, and whether n have been seen."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._window: deque[Decimal] = deque()
        self.total = Decimal(0)

    def update(self, x: Decimal) -> bool:
        self._window.append(x)
        self.total = _EXACT.add(self.total, x)
        if len(self._window) > self.n:
            self.total = _EXACT.subtract(self.total, self._window.popleft())
        return len(self._window) == self.n


class SmaCross:
    """SMA(fast_bars) / SMA(slow_bars) crossover on one product."""

    def __init__(self, product_id: str, *, fast_bars: int = 20, slow_bars: int = 50) -> None:
        if not 1 <= fast_bars < slow_bars:
            raise ValueError(
                f"{NAME}: need 1 <= fast_bars < slow_bars, got {fast_bars}, {slow_bars}"
            )
        self.product_id = product_id
        self._fast = _ExactSum(fast_bars)
        self._slow = _ExactSum(slow_bars)
        self._was_above: bool | None = None

    @property
    def strategy_id(self) -> str:
        return NAME

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update both SMAs on the close; a cross in the right position is a signal."""
        check_product(self.product_id, ctx)
        close = ctx.candle.close
        warm = self._fast.update(close) & self._slow.update(close)
        was_above = self._was_above
        above = warm and _EXACT.multiply(self._fast.total, self._slow.n) > _EXACT.multiply(
            self._slow.total, self._fast.n
        )
        self._was_above = above if warm else None
        if was_above is None or not warm or ctx.pending:
            return []
        values = {
            "sma_fast": float(self._fast.total / self._fast.n),
            "sma_slow": float(self._slow.total / self._slow.n),
        }
        if ctx.position.is_flat and above and not was_above:
            return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "cross up")]
        if not ctx.position.is_flat and not above and was_above:
            return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, "cross down")]
        return []
