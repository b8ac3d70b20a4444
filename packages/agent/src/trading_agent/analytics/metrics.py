"""A run's performance from its equity curve and closed trades, as one frozen `Metrics`.

Conventions, chosen once so every report means the same thing:

- Time is calendar time: CAGR and turnover use the span from the first to the last
  timestamp in 365.25-day years. CAGR is None for a span under one day (annualising
  hours is noise) or when it is too large for a float.
- Sharpe and Sortino use DAILY returns: the curve is resampled to UTC day closes (the
  last sample of each day, carried over days with no sample), preceded by the first
  sample, so the first return runs from the start to the first day's close (skipped
  when the first sample is alone in its day, as in a daily-sampled curve). Crypto
  trades every day, so they annualise by sqrt(365). The risk-free rate is zero.
- Sharpe = mean / sample std (ddof=1) * sqrt(365) (Sharpe 1994). Sortino = mean /
  downside deviation * sqrt(365), the downside deviation being sqrt(mean(min(r, 0)^2))
  over all days, target 0 (Sortino & Price 1994). Both need two daily returns and a
  deviation above numerical noise; otherwise they are None (flat equity, or for
  Sortino no down day at all), never inf, so `to_dict()` stays plain JSON.
- Max drawdown is on the raw curve: the largest fall from a running peak as a fraction
  of that peak; its start is the last time at the peak before the trough, its recovery
  the first time back at or above the peak (None while still under water). The first
  of equal troughs wins.
- Turnover is traded notional (both sides) / mean equity (of the samples) per year.
  Exposure is the fraction of the span with a position: the union of trade intervals,
  plus positions still open (`open_since_ns`) up to the last timestamp.
- Trade statistics use net P&L; a trade at exactly zero is not a win. Expectancy in R
  is the mean R multiple of the trades that had a stop (Tharp 1998).
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Final, NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from trading_agent.domain.trades import Trade

__all__ = [
    "NS_PER_DAY",
    "PERIODS_PER_YEAR",
    "YEAR_NS",
    "Drawdown",
    "Metrics",
    "MetricsError",
    "compute_metrics",
    "daily_returns",
    "drawdown_curve",
    "max_drawdown",
    "sharpe",
    "sortino",
]

NS_PER_DAY: Final = 86_400 * 10**9
YEAR_NS: Final = 365.25 * NS_PER_DAY
PERIODS_PER_YEAR: Final = 365
# A daily-return deviation below this is float rounding of a constant series, not risk.
_NOISE: Final = 1e-12

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class MetricsError(ValueError):
    """An equity curve metrics cannot be computed from; the message says what is wrong."""


class Drawdown(msgspec.Struct, frozen=True, kw_only=True):
    """The deepest fall from a peak; timestamps are None when there was no fall."""

    depth: float
    start_ns: int | None = None
    trough_ns: int | None = None
    recovery_ns: int | None = None


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a report or `--json` shows about one run; None means undefined."""

    start_ns: int
    end_ns: int
    years: float
    initial_equity: float
    final_equity: float
    total_return: float
    cagr: float | None
    sharpe: float | None
    sortino: float | None
    daily_return_count: int
    max_drawdown: float
    max_drawdown_start_ns: int | None
    max_drawdown_trough_ns: int | None
    max_drawdown_recovery_ns: int | None
    traded_notional_usd: float
    turnover_per_year: float | None
    exposure: float | None
    trade_count: int
    win_rate: float | None
    expectancy_r: float | None
    expectancy_usd: float | None
    average_win_usd: float | None
    average_loss_usd: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain JSON values, in field order."""
        return msgspec.structs.asdict(self)


def compute_metrics(
    equity_ts_ns: Sequence[int] | IntArray,
    equity: Sequence[float] | Sequence[Decimal] | FloatArray,
    trades: Sequence[Trade],
    traded_notional: float | Decimal,
    *,
    open_since_ns: Sequence[int] = (),
) -> Metrics:
    """The metrics of a run (see the module docstring for every convention).

    Raises:
        MetricsError: empty or mismatched series, timestamps going back, or equity
            that is not finite and positive.
    """
    ts, eq = _curve(equity_ts_ns, equity)
    span_ns = int(ts[-1] - ts[0])
    returns = daily_returns(ts, eq)
    dd = max_drawdown(ts, eq)
    stats = _trade_stats(trades)
    return Metrics(
        start_ns=int(ts[0]),
        end_ns=int(ts[-1]),
        years=span_ns / YEAR_NS,
        initial_equity=float(eq[0]),
        final_equity=float(eq[-1]),
        total_return=float(eq[-1] / eq[0] - 1.0),
        cagr=_cagr(float(eq[-1] / eq[0]), span_ns),
        sharpe=sharpe(returns),
        sortino=sortino(returns),
        daily_return_count=len(returns),
        max_drawdown=dd.depth,
        max_drawdown_start_ns=dd.start_ns,
        max_drawdown_trough_ns=dd.trough_ns,
        max_drawdown_recovery_ns=dd.recovery_ns,
        traded_notional_usd=float(traded_notional),
        turnover_per_year=_turnover(float(traded_notional), eq, span_ns),
        exposure=_exposure(int(ts[0]), int(ts[-1]), trades, open_since_ns),
        trade_count=len(trades),
        win_rate=stats.win_rate,
        expectancy_r=stats.expectancy_r,
        expectancy_usd=stats.expectancy_usd,
        average_win_usd=stats.average_win_usd,
        average_loss_usd=stats.average_loss_usd,
    )


def _curve(
    ts_in: Sequence[int] | IntArray, eq_in: Sequence[float] | Sequence[Decimal] | FloatArray
) -> tuple[IntArray, FloatArray]:
    ts = np.asarray(ts_in, dtype=np.int64)
    eq = np.asarray(eq_in, dtype=np.float64)
    if ts.ndim != 1 or eq.shape != ts.shape or len(ts) == 0:
        raise MetricsError(
            f"need equal, non-empty 1-d series, got {ts.shape} timestamps, {eq.shape} equity"
        )
    back = np.flatnonzero(np.diff(ts) < 0)
    if len(back):
        raise MetricsError(f"timestamps go back at index {int(back[0]) + 1}")
    bad = np.flatnonzero(~(np.isfinite(eq) & (eq > 0)))
    if len(bad):
        i = int(bad[0])
        raise MetricsError(f"equity must be finite and > 0, got {eq[i]} at index {i}")
    return ts, eq


def daily_returns(ts: IntArray, equity: FloatArray) -> FloatArray:
    """Simple returns between the first sample and each UTC day's close, in order."""
    days = ts // NS_PER_DAY
    every_day = np.arange(days[0], days[-1] + 1)
    # Each day's close is the last sample at or before its end: carried over empty days.
    close_at = np.searchsorted(days, every_day, side="right") - 1
    if close_at[0] == 0:
        # The first sample closes its own day (a daily-sampled curve): no return there.
        close_at = close_at[1:]
    path = np.concatenate(([equity[0]], equity[close_at]))
    out: FloatArray = path[1:] / path[:-1] - 1.0
    return out


def sharpe(daily: FloatArray) -> float | None:
    """Annualised Sharpe of daily returns (risk-free 0, ddof=1); None if undefined."""
    if len(daily) < 2:
        return None
    sd = float(np.std(daily, ddof=1))
    if not sd > _NOISE:
        return None
    return float(np.mean(daily)) / sd * math.sqrt(PERIODS_PER_YEAR)


def sortino(daily: FloatArray) -> float | None:
    """Annualised Sortino of daily returns (target 0); None with no downside to divide by."""
    if len(daily) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(daily, 0.0) ** 2)))
    if not downside > _NOISE:
        return None
    return float(np.mean(daily)) / downside * math.sqrt(PERIODS_PER_YEAR)


def drawdown_curve(equity: FloatArray) -> FloatArray:
    """Fall from the running peak at each sample, as a fraction of that peak (>= 0)."""
    peak = np.maximum.accumulate(equity)
    out: FloatArray = 1.0 - equity / peak
    return out


def max_drawdown(ts: IntArray, equity: FloatArray) -> Drawdown:
    """The deepest drawdown of the curve and when it started, bottomed and recovered."""
    curve = drawdown_curve(equity)
    trough = int(np.argmax(curve))
    depth = float(curve[trough])
    if not depth > 0:
        return Drawdown(depth=0.0)
    top = float(np.maximum.accumulate(equity)[trough])
    start = int(np.flatnonzero(equity[: trough + 1] == top)[-1])
    back = np.flatnonzero(equity[trough + 1 :] >= top)
    return Drawdown(
        depth=depth,
        start_ns=int(ts[start]),
        trough_ns=int(ts[trough]),
        recovery_ns=int(ts[trough + 1 + int(back[0])]) if len(back) else None,
    )


def _cagr(growth: float, span_ns: int) -> float | None:
    if span_ns < NS_PER_DAY:
        return None
    try:
        return float(growth ** (YEAR_NS / span_ns) - 1.0)
    except OverflowError:
        return None


def _turnover(notional: float, equity: FloatArray, span_ns: int) -> float | None:
    if span_ns == 0:
        return None
    return notional / float(np.mean(equity)) / (span_ns / YEAR_NS)


def _exposure(
    first_ns: int, last_ns: int, trades: Sequence[Trade], open_since_ns: Sequence[int]
) -> float | None:
    if last_ns == first_ns:
        return None
    spans = [(t.entry_ns, t.exit_ns) for t in trades] + [(s, last_ns) for s in open_since_ns]
    covered, reach = 0, first_ns
    for start, end in sorted(spans):
        # Merge overlaps (two products at once count once): only time past `reach` is new.
        start, end = max(start, reach), min(end, last_ns)
        if end > start:
            covered += end - start
            reach = end
    return covered / (last_ns - first_ns)


class _TradeStats(NamedTuple):
    win_rate: float | None
    expectancy_r: float | None
    expectancy_usd: float | None
    average_win_usd: float | None
    average_loss_usd: float | None


def _trade_stats(trades: Sequence[Trade]) -> _TradeStats:
    net = np.array([float(t.net_pnl_usd) for t in trades], dtype=np.float64)
    r = np.array([float(t.r_multiple) for t in trades if t.r_multiple is not None])
    wins, losses = net[net > 0], net[net < 0]
    return _TradeStats(
        win_rate=len(wins) / len(net) if len(net) else None,
        expectancy_r=_mean(r),
        expectancy_usd=_mean(net),
        average_win_usd=_mean(wins),
        average_loss_usd=_mean(losses),
    )


def _mean(values: FloatArray) -> float | None:
    return float(np.mean(values)) if len(values) else None
