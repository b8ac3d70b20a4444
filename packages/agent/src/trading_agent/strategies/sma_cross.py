"""The reference strategy: SMA 20/50 crossover on closes, long or flat, a fixed size.

Kept deliberately plain so its trades can be matched bar for bar against other
backtest engines:

- at a bar's close, with both SMAs warm at this close and the previous one:
  enter long (market) when fast > slow now and fast <= slow at the previous close;
  exit (market) when fast < slow now and fast >= slow at the previous close;
- the engine fills at the next bar's open; the size is fixed (`sizing.fixed_size_base`);
- entries only when flat, exits only when long, nothing at all while an order of this
  strategy is in flight (`ctx.pending`): a cross missed then is not taken later.

The SMAs update on every bar, pending or not, so a missed bar never shifts the windows.
"""

from collections.abc import Sequence
from typing import Final

from trading_agent.domain.intents import Action, Signal
from trading_agent.signals.incremental import SMA
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import check_product, signal_at_close

__all__ = ["NAME", "SmaCross"]

NAME: Final = "sma_cross"


class SmaCross:
    """SMA(fast_bars) / SMA(slow_bars) crossover on one product."""

    def __init__(self, product_id: str, *, fast_bars: int = 20, slow_bars: int = 50) -> None:
        if not 1 <= fast_bars < slow_bars:
            raise ValueError(
                f"{NAME}: need 1 <= fast_bars < slow_bars, got {fast_bars}, {slow_bars}"
            )
        self.product_id = product_id
        self._fast = SMA(fast_bars)
        self._slow = SMA(slow_bars)
        self._previous: tuple[float, float] | None = None

    @property
    def strategy_id(self) -> str:
        return NAME

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update both SMAs on the close; a cross in the right position is a signal."""
        check_product(self.product_id, ctx)
        close = float(ctx.candle.close)
        fast, slow = self._fast.update(close), self._slow.update(close)
        previous = self._previous
        self._previous = None if fast is None or slow is None else (fast, slow)
        if previous is None or fast is None or slow is None or ctx.pending:
            return []
        values = {"sma_fast": fast, "sma_slow": slow}
        before_fast, before_slow = previous
        if ctx.position.is_flat and fast > slow and before_fast <= before_slow:
            return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "cross up")]
        if not ctx.position.is_flat and fast < slow and before_fast >= before_slow:
            return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, "cross down")]
        return []
