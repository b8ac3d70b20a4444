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

Planned (`strategies.base.Planned`): `plan(candles)` computes "above" at every bar from
whole arrays, exactly: the closes scaled to integers by their largest number of
decimals, window sums by cumulative sums, the same cross-multiplied comparison, in
int64 when no sum can overflow it and in Python integers otherwise. The bars that may
signal are the crosses; `on_candle` then reads the plan by the candle's start time,
and its `sma_fast` / `sma_slow` values are the incremental ones (the same exact sums,
divided in the same decimal context).
"""

import decimal
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt

from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.market import Candle
from trading_agent.marketdata.columns import CandleColumns, columns_of
from trading_agent.strategies.base import StrategyContext
from trading_agent.strategies.long_trade import check_product, signal_at_close

__all__ = ["NAME", "SmaCross"]

NAME: Final = "sma_cross"
_EXACT: Final = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])
_INT64_HEADROOM: Final = 2**62  # below int64's 2**63 with room for one addition
_Ints = npt.NDArray[np.int64] | npt.NDArray[np.object_]  # object: exact Python ints


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
        self._plan: _Plan | None = None

    @property
    def strategy_id(self) -> str:
        return NAME

    def plan(self, candles: Sequence[Candle]) -> npt.NDArray[np.int64]:
        """The crosses of `candles` (this product's, in time order): the only bars that
        can signal. Call it before the first candle; `on_candle` then uses the plan.

        Raises:
            ValueError: a candle of another product, or after candles were fed one by one.
        """
        if self._fast.total or self._slow.total or self._was_above is not None:
            raise ValueError(f"{NAME}: plan before feeding candles, not after")
        columns = columns_of(candles) if candles else CandleColumns.empty(self.product_id, 60)
        if columns.product_id != self.product_id:
            raise ValueError(f"{NAME} for {self.product_id} was given another product's candles")
        self._plan = _make_plan(columns, self._fast.n, self._slow.n)
        return self._plan.candidates

    def on_candle(self, ctx: StrategyContext) -> Sequence[Signal]:
        """Update both SMAs on the close; a cross in the right position is a signal."""
        check_product(self.product_id, ctx)
        if self._plan is not None:
            return self._planned(ctx, self._plan)
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
        return _signals(ctx, above=above, was_above=was_above, values=values)

    def _planned(self, ctx: StrategyContext, plan: "_Plan") -> Sequence[Signal]:
        i = plan.bar_at(ctx.candle.start_ns)
        if i is None or plan.columns[i].close != ctx.candle.close:
            raise ValueError(
                f"{NAME}: candle {ctx.candle.product_id} @ {ctx.candle.start_ns} is not in the plan"
            )
        # Warm at this close and the previous one, as in the incremental path.
        if i < self._slow.n or ctx.pending or plan.above[i] == plan.above[i - 1]:
            return []
        values = {
            "sma_fast": float(plan.window_sum(i, self._fast.n) / self._fast.n),
            "sma_slow": float(plan.window_sum(i, self._slow.n) / self._slow.n),
        }
        return _signals(ctx, above=plan.above[i], was_above=plan.above[i - 1], values=values)


def _signals(
    ctx: StrategyContext, *, above: bool, was_above: bool, values: dict[str, float]
) -> Sequence[Signal]:
    if ctx.position.is_flat and above and not was_above:
        return [signal_at_close(NAME, ctx, Action.ENTER_LONG, values, "cross up")]
    if not ctx.position.is_flat and not above and was_above:
        return [signal_at_close(NAME, ctx, Action.EXIT_LONG, values, "cross down")]
    return []


@dataclass(frozen=True)
class _Plan:
    """ "above" at every bar and what is needed to rebuild any window's exact sum."""

    columns: CandleColumns
    above: list[bool]  # False where not warm (never read there)
    prefix: "_Ints"  # prefix[i] = sum of scaled[:i]
    decimals: int
    candidates: npt.NDArray[np.int64]

    def bar_at(self, start_ns: int) -> int | None:
        """The index of the bar starting at `start_ns`, if the plan has one."""
        starts = self.columns.start_ns
        i = int(starts.searchsorted(start_ns))
        return i if i < len(starts) and int(starts[i]) == start_ns else None

    def window_sum(self, i: int, n: int) -> Decimal:
        """The sum of the n closes ending at bar i, as the exact Decimal."""
        total = int(self.prefix[i + 1]) - int(self.prefix[i + 1 - n])
        return Decimal(total).scaleb(-self.decimals, context=_EXACT)


def _make_plan(columns: CandleColumns, fast: int, slow: int) -> _Plan:
    closes = columns.scaled("close")
    decimals, scaled = closes.decimals, closes.ints
    biggest = int(np.abs(scaled).max()) if len(scaled) else 0
    # int64 if neither the running total nor a cross-multiplied window sum can overflow.
    fits = biggest * max(len(scaled), slow * slow) < _INT64_HEADROOM
    dtype: type = np.int64 if fits else object
    prefix: _Ints = np.zeros(len(scaled) + 1, dtype=dtype)
    prefix[1:] = np.cumsum(scaled.astype(dtype))
    above = np.zeros(len(scaled), dtype=bool)
    if len(scaled) >= slow:
        ends = np.arange(slow - 1, len(scaled)) + 1
        fast_sum: _Ints = prefix[ends] - prefix[ends - fast]
        slow_sum: _Ints = prefix[ends] - prefix[ends - slow]
        above[slow - 1 :] = (fast_sum * slow > slow_sum * fast).astype(bool)
    changed = np.flatnonzero(above[slow:] != above[slow - 1 : -1]) + slow
    return _Plan(
        columns=columns,
        above=above.tolist(),
        prefix=prefix,
        decimals=decimals,
        candidates=changed.astype(np.int64),
    )
