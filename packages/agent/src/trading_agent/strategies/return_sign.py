"""The reference strategy with a known answer (LEARNING.md section 5, T1), long/flat.

At each close: long for the next bar if this bar's return was above `threshold_bps`
(a momentum bet on positive autocorrelation), flat otherwise. On AR(1) returns with
correlation rho > 0 and stationary sd sigma, held from the next open (= this close, on
contiguous bars) and paying c per unit traded, its expectation per bar has a closed form:

    E[gross] = rho * sigma / sqrt(2 pi)        E[position changes] = 1/2 - arcsin(rho)/pi
    E[net]   = E[gross] - c * (1/2 - arcsin(rho)/pi)

This is LEARNING.md's long/short result halved on both terms (our derivation: with
pos_t = 1{r_(t-1) > 0}, E[pos_t r_t] = rho E[r 1{r > 0}] = rho sigma / sqrt(2 pi), and a
long/flat book trades one unit per sign change, not two). The console's anchor test
runs it through the whole pipeline; nothing in production trades it.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from trading_agent.domain.intents import Action, Signal
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import check_product, signal_at_close

__all__ = ["NAME", "ReturnSign"]

NAME: Final = "return_sign"
_BPS: Final = Decimal(10_000)


class ReturnSign:
    """Long after an up bar (return above the threshold), flat after any other."""

    def __init__(self, product_id: str, *, threshold_bps: int = 0) -> None:
        if threshold_bps < 0:
            raise ValueError(f"{NAME}: threshold_bps must be >= 0, got {threshold_bps}")
        self.product_id = product_id
        self._threshold = Decimal(threshold_bps) / _BPS
        self._last_close: Decimal | None = None

    @property
    def strategy_id(self) -> str:
        return NAME

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        check_product(self.product_id, ctx)
        close, last = ctx.candle.close, self._last_close
        self._last_close = close
        if last is None or ctx.pending:
            return []
        up = close > last * (1 + self._threshold)  # r > threshold, exactly
        values = {"return": float(close / last - 1)}
        if up and ctx.position.is_flat:
            return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "up bar")]
        if not up and not ctx.position.is_flat:
            return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, "not an up bar")]
        return []
