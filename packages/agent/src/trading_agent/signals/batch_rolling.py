"""Batch window indicators: arrays in, arrays of the same length out, NaN while warming up.

Definitions, warm-up lengths, ddof and degenerate cases are those documented on the
online twins in `trading_agent.signals.online_rolling` and `online_extremes`.
"""

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals.batch_windows import log_returns, nan_array, row_blocks, window_moments
from trading_agent.signals.checks import (
    FloatArray,
    check_arrays,
    check_positive,
    check_window,
)
from trading_agent.signals.errors import SignalArgumentError

__all__ = [
    "bollinger",
    "donchian",
    "efficiency_ratio",
    "percentile_rank",
    "realized_vol",
    "sma",
    "zscore",
]


def sma(x: npt.ArrayLike, n: int) -> FloatArray:
    """Mean of the last n values; NaN for the first n - 1. n >= 1."""
    check_window("sma", "n", n, 1)
    (a,) = check_arrays("sma", x=x)
    out = nan_array(len(a))
    if len(a) >= n:
        out[n - 1 :] = sliding_window_view(a, n).mean(axis=1)
    return out


def zscore(x: npt.ArrayLike, n: int) -> FloatArray:
    """(x_t - mean) / sample sd (ddof = 1) over the last n values; NaN if sd = 0. n >= 2."""
    check_window("zscore", "n", n, 2)
    (a,) = check_arrays("zscore", x=x)
    out = nan_array(len(a))
    if len(a) >= n:
        mean, m2 = window_moments(a, n)
        sd = np.sqrt(m2 / (n - 1))
        np.divide(a[n - 1 :] - mean, sd, out=out[n - 1 :], where=sd > 0.0)
    return out


def bollinger(x: npt.ArrayLike, n: int, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(mid, upper, lower): SMA(n) and +/- k population sd (ddof = 0). n >= 1, k > 0."""
    check_window("bollinger", "n", n, 1)
    width = check_positive("bollinger", "k", k)
    (a,) = check_arrays("bollinger", x=x)
    mid, upper, lower = nan_array(len(a)), nan_array(len(a)), nan_array(len(a))
    if len(a) >= n:
        mean, m2 = window_moments(a, n)
        band = width * np.sqrt(m2 / n)
        mid[n - 1 :] = mean
        upper[n - 1 :] = mean + band
        lower[n - 1 :] = mean - band
    return mid, upper, lower


def realized_vol(x: npt.ArrayLike, n: int) -> FloatArray:
    """Sample sd (ddof = 1) of the last n log returns of prices x > 0; NaN for the first n."""
    check_window("realized_vol", "n", n, 2)
    (a,) = check_arrays("realized_vol", positive=True, x=x)
    out = nan_array(len(a))
    if len(a) >= n + 1:
        _, m2 = window_moments(log_returns(a), n)
        out[n:] = np.sqrt(m2 / (n - 1))
    return out


def efficiency_ratio(x: npt.ArrayLike, n: int) -> FloatArray:
    """Kaufman's |x_t - x_{t-n}| / sum of |steps| over n; 0 with no movement. n >= 1."""
    check_window("efficiency_ratio", "n", n, 1)
    (a,) = check_arrays("efficiency_ratio", x=x)
    out = nan_array(len(a))
    if len(a) >= n + 1:
        path = sliding_window_view(np.abs(np.diff(a)), n).sum(axis=1)
        net = np.abs(a[n:] - a[:-n])
        er = np.zeros(len(path), dtype=np.float64)
        np.divide(net, path, out=er, where=path > 0.0)
        out[n:] = np.minimum(er, 1.0)
    return out


def donchian(high: npt.ArrayLike, low: npt.ArrayLike, n: int) -> tuple[FloatArray, FloatArray]:
    """(upper, lower): max high and min low over the last n bars including the current one.

    The channel a breakout compares bar t's close with is the one at t - 1
    (`upper[:-1]` against `close[1:]`). n >= 1; NaN for the first n - 1 bars.
    """
    check_window("donchian", "n", n, 1)
    h, lo = check_arrays("donchian", high=high, low=low)
    bad = lo > h
    if bad.any():
        i = int(np.argmax(bad))
        raise SignalArgumentError(
            f"donchian: bar {i} needs low <= high, got high={float(h[i])!r} low={float(lo[i])!r}"
        )
    upper, lower = nan_array(len(h)), nan_array(len(h))
    if len(h) >= n:
        upper[n - 1 :] = sliding_window_view(h, n).max(axis=1)
        lower[n - 1 :] = sliding_window_view(lo, n).min(axis=1)
    return upper, lower


def percentile_rank(x: npt.ArrayLike, n: int) -> FloatArray:
    """Mid-rank of x_t among x_{t-n} .. x_{t-1} (itself excluded), in [0, 1]. n >= 1."""
    check_window("percentile_rank", "n", n, 1)
    (a,) = check_arrays("percentile_rank", x=x)
    out = nan_array(len(a))
    if len(a) >= n + 1:
        past = sliding_window_view(a[:-1], n)
        current = a[n:]
        for block in row_blocks(len(past), n):
            w, c = past[block], current[block, None]
            below = np.count_nonzero(w < c, axis=1)
            equal = np.count_nonzero(w == c, axis=1)
            out[n:][block] = (2 * below + equal) / (2 * n)
    return out
