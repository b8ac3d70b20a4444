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
The hysteresis and the dwell are sequential by nature and use the module's own
`volatility_label`, `trend_label` and `dwell_step`.
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
    dwell_step,
    trend_label,
    volatility_label,
)
from trading_agent.signals.replayed import realized_vol_replayed
from trading_agent.signals.vectorized import adx, percentile_rank, variance_ratio

__all__ = ["regime_series", "regime_series_of"]

_MARGIN: Final = 1e-7  # relative to max(1, |threshold|)
FloatArray = npt.NDArray[np.float64]


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
    values = realized_vol_replayed(close.tolist(), params.vol_window)
    first = params.vol_window  # the first bar with a value
    rank = np.full(len(close), np.nan)
    if len(values) > first:
        rank[first:] = percentile_rank(
            np.array(values[first:], dtype=np.float64), params.rank_window
        )
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


def _labels(
    warm: npt.NDArray[np.bool_],
    rank: FloatArray,
    adx_v: FloatArray,
    z: FloatArray,
    params: RegimeParams,
) -> list[Regime]:
    out: list[Regime] = [UNKNOWN_REGIME] * len(rank)
    cached = {(t, v): Regime(trend=t, volatility=v) for t in Trend for v in Volatility}
    shown, held, started = UNKNOWN_REGIME, 0, False
    for i in np.flatnonzero(warm).tolist():
        proposed = cached[
            (
                trend_label(float(adx_v[i]), float(z[i]), params),
                volatility_label(shown.volatility, float(rank[i]), params),
            )
        ]
        if started:
            shown, held = dwell_step(shown, held, proposed, params.min_dwell)
        else:
            shown, held, started = proposed, 1, True
        out[i] = shown
    return out


def _online(
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    params: RegimeParams,
    candles: Sequence[Candle] | None,
) -> list[Regime]:
    classifier = RegimeClassifier(params)
    if candles is None:
        candles = _as_candles(h, lo, c)
    return [classifier.update(candle) for candle in candles]


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
