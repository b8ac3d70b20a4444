"""The regime classifier over whole arrays: the label of every bar in one call.

For replays that skip bars: the engine still needs the regime at the bars it visits,
and the regime depends on every bar before. `regime_series` gives, label for label,
what `RegimeClassifier.update` gives fed the same bars in order.

How exactness is kept. The labels are thresholds over floats, and the batch forms of
ADX and the variance ratio agree with the online ones to about 1e-12, not bit for bit.
So:
- realized vol, whose values are *ranked* (where an ulp can reorder near-equal values),
  is the online `RealizedVol`'s own floats (replayed in one loop), ranked with the batch
  `percentile_rank` (counting, exact given the same values);
- ADX and the variance-ratio z are batch values, and any warm bar where one of them
  lies within `_MARGIN` of a threshold it is compared with is doubtful; one doubtful
  bar and the whole series is computed by the online classifier instead (rare: real
  data almost never sits within 1e-7 of a threshold).
The trend label has no state, so it is taken for all bars at once with the same
comparisons as `trend_label`. The hysteresis and the dwell are sequential, but a
label once shown is held for `min_dwell` bars and then until the first bar that
proposes another one; `_labels` jumps from change to change (a few thousand steps a
year of minutes) instead of visiting every bar.

Labels come out as small integer codes into `REGIMES` (`regime_codes`), so a caller
keeping a year of them holds one byte a bar; `regime_series` gives the `Regime`s.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt

from trading_agent.domain.market import Candle
from trading_agent.domain.regime import (
    UNKNOWN_REGIME,
    Regime,
    RegimeClassifier,
    RegimeParams,
    Trend,
    Volatility,
)
from trading_agent.signals.replayed import realized_vol_array
from trading_agent.signals.vectorized import adx, percentile_rank, variance_ratio

__all__ = ["REGIMES", "UNKNOWN_CODE", "regime_codes", "regime_series", "regime_series_of"]

_MARGIN: Final = 1e-7  # relative to max(1, |threshold|)
FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.int8]

_TRENDS: Final = (Trend.TREND, Trend.RANGE, Trend.NEUTRAL)
_VOLS: Final = (Volatility.LOW, Volatility.HIGH)  # code % 2: 0 LOW, 1 HIGH
REGIMES: Final[tuple[Regime, ...]] = (
    *(Regime(trend=t, volatility=v) for t in _TRENDS for v in _VOLS),
    UNKNOWN_REGIME,
)
"""Code c stands for REGIMES[c]: 2 * trend + volatility, and 6 for not yet warm."""
UNKNOWN_CODE: Final = 6
_CODE_OF: Final = {r: c for c, r in enumerate(REGIMES[:UNKNOWN_CODE])}


def regime_series_of(candles: Sequence[Candle], params: RegimeParams) -> list[Regime]:
    """`regime_series` over one product's candles (in time order)."""
    high = np.array([float(c.high) for c in candles], dtype=np.float64)
    low = np.array([float(c.low) for c in candles], dtype=np.float64)
    close = np.array([float(c.close) for c in candles], dtype=np.float64)
    return regime_series(high, low, close, params, candles=candles)


def regime_series(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    params: RegimeParams,
    *,
    candles: Sequence[Candle] | None = None,
) -> list[Regime]:
    """The classifier's label at every bar of one product's (high, low, close) series.

    `candles`, if given, are the same bars as `Candle`s: the online fallback is fed
    them (else it is fed candles rebuilt from the floats, which `RegimeClassifier`
    converts back to the same floats).

    Raises:
        SignalArgumentError: arrays of unequal length, non-finite or non-positive prices,
            or a bar with low > close or close > high.
    """
    codes = regime_codes(high, low, close, params, candles=candles)
    table = np.empty(len(REGIMES), dtype=object)
    table[:] = REGIMES
    labels: list[Regime] = table[codes].tolist()
    return labels


def regime_codes(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    params: RegimeParams,
    *,
    candles: Sequence[Candle] | None = None,
) -> CodeArray:
    """`regime_series` as codes into `REGIMES` (int8, one per bar).

    Raises:
        SignalArgumentError: as `regime_series`.
    """
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    adx_v = adx(h, lo, c, params.adx_window)
    _, z = variance_ratio(c, params.vr_window, params.vr_q)
    rank = _vol_rank(c, params)
    warm = ~np.isnan(rank) & ~np.isnan(adx_v) & (np.arange(len(c)) >= params.vr_window)
    z = np.where(np.isnan(z), 0.0, z)
    if _doubtful(adx_v[warm], z[warm], params):
        return _online(h, lo, c, params, candles)
    return _labels(warm, rank, adx_v, z, params)


def _vol_rank(close: FloatArray, params: RegimeParams) -> FloatArray:
    """Percentile rank of the online realized vol (NaN where either is not yet warm)."""
    values = realized_vol_array(close, params.vol_window)
    first = params.vol_window  # the first bar with a value
    rank = np.full(len(close), np.nan)
    if len(values) > first:
        rank[first:] = percentile_rank(values[first:], params.rank_window)
    return rank


def _doubtful(adx_v: FloatArray, z: FloatArray, params: RegimeParams) -> bool:
    for values, thresholds in (
        (adx_v, (params.adx_trend_above, params.adx_range_below)),
        (z, (params.vr_z_trend_above, params.vr_z_range_below)),
    ):
        for t in thresholds:
            if np.any(np.abs(values - t) <= _MARGIN * max(1.0, abs(t))):
                return True
    return False


def _trend_codes(adx_v: FloatArray, z: FloatArray, params: RegimeParams) -> CodeArray:
    """`trend_label` per bar, as 0 TREND, 1 RANGE, 2 NEUTRAL (the same comparisons)."""
    trend = (adx_v > params.adx_trend_above) & (z > params.vr_z_trend_above)
    ranging = (adx_v < params.adx_range_below) | (z < params.vr_z_range_below)
    return np.where(trend, 0, np.where(ranging, 1, 2)).astype(np.int8)


def _labels(
    warm: npt.NDArray[np.bool_],
    rank: FloatArray,
    adx_v: FloatArray,
    z: FloatArray,
    params: RegimeParams,
) -> CodeArray:
    """Hysteresis and dwell over the warm bars, jumping from one label change to the next.

    While code s = 2 * trend + vol is shown, bar i proposes s itself unless its trend
    differs or its rank crosses the threshold that `volatility_label` applies to s's
    volatility; once s has been shown `min_dwell` bars, the first bar proposing
    something else shows that (`dwell_step`). The first warm bar is shown as proposed
    from the volatility prior LOW.
    """
    out = np.full(len(rank), UNKNOWN_CODE, dtype=np.int8)
    bars = np.flatnonzero(warm)
    if not len(bars):
        return out
    trend = _trend_codes(adx_v[bars], z[bars], params)
    above = rank[bars] > params.vol_enter_high  # LOW proposes HIGH
    below = rank[bars] < params.vol_exit_high  # HIGH proposes LOW
    proposed = (2 * trend[:, None] + np.stack([above, ~below], axis=1)).astype(np.int8)
    changes, shown = _changes(proposed, params.min_dwell)
    lengths = np.diff(np.append(changes, len(bars)))
    out[bars] = np.repeat(np.asarray(shown, dtype=np.int8), lengths)
    return out


def _changes(proposed: CodeArray, min_dwell: int) -> tuple[list[int], list[int]]:
    """Where the shown code changes (warm-bar positions) and what it changes to.

    proposed[i, v]: the code bar i proposes while a code of volatility v is shown.
    """
    count = len(proposed)
    positions = np.arange(count)
    next_other = []  # next_other[s][i]: first j >= i proposing other than s (count if none)
    for s in range(UNKNOWN_CODE):
        differs = np.where(proposed[:, s % 2] != s, positions, count)
        next_other.append(np.append(np.minimum.accumulate(differs[::-1])[::-1], count))
    at, code = 0, int(proposed[0, 0])
    changes, shown = [at], [code]
    while True:
        ready = at + min_dwell  # the first bar at which `code` has been shown min_dwell bars
        if ready >= count:
            break
        at = int(next_other[code][ready])
        if at >= count:
            break
        code = int(proposed[at, code % 2])
        changes.append(at)
        shown.append(code)
    return changes, shown


def _online(
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    params: RegimeParams,
    candles: Sequence[Candle] | None,
) -> CodeArray:
    classifier = RegimeClassifier(params)
    if candles is None:
        candles = _as_candles(h, lo, c)
    labels = (classifier.update(candle) for candle in candles)
    codes = (UNKNOWN_CODE if r is UNKNOWN_REGIME else _CODE_OF[r] for r in labels)
    return np.fromiter(codes, dtype=np.int8, count=len(candles))


def _as_candles(h: FloatArray, lo: FloatArray, c: FloatArray) -> list[Candle]:
    return [
        Candle(
            product_id="series",
            start_ns=i,
            granularity_s=1,
            open=Decimal(repr(close)),
            high=Decimal(repr(high)),
            low=Decimal(repr(low)),
            close=Decimal(repr(close)),
            volume=Decimal(0),
        )
        for i, (high, low, close) in enumerate(
            zip(h.tolist(), lo.tolist(), c.tolist(), strict=True)
        )
    ]
