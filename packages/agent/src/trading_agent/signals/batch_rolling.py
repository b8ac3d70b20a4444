"""Batch window indicators: arrays in, arrays of the same length out, NaN while warming up.

Definitions, warm-up lengths, ddof and degenerate cases are those documented on the
online twins in `trading_agent.signals.online_rolling` and `online_extremes`.
"""

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals.batch_windows import log_returns, nan_array, window_moments
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
    """Mid-rank of x_t among x_{t-n} .. x_{t-1} (itself excluded), in [0, 1]. n >= 1.

    The counts are exact integers (2 * below + equal, over 2n), so any way of counting
    gives the same floats; `_mid_rank_counts` counts in O(n / B + B) per bar instead of
    comparing with all n values.
    """
    check_window("percentile_rank", "n", n, 1)
    (a,) = check_arrays("percentile_rank", x=x)
    out = nan_array(len(a))
    if len(a) >= n + 1:
        out[n:] = _mid_rank_counts(a, n) / (2 * n)
    return out


_PASS_BITS: Final = 16  # about 2**16 window elements per numpy pass: the temporaries stay in cache


def _mid_rank_counts(a: FloatArray, n: int) -> npt.NDArray[np.int64]:
    """2 * #{x_j < x_t} + #{x_j == x_t} over j in [t - n, t), for every t >= n.

    Bars are taken B at a time (t = T .. T + B - 1). Their windows share a core
    [T + B - 1 - n, T), counted by merging the sorted core with the B values; what
    is left is a triangle on each side (the B - 1 bars before the core, the block's
    own earlier bars), compared pairwise. Values are replaced by their dense ranks
    (order and equality kept), so the merge sorts small integers. Sorting costs about
    n / B per bar and the triangles B, so B ~ 2 sqrt(n) (96 for n = 2160).
    """
    b = max(1, min(n, round(2 * math.sqrt(n))))
    queries = len(a) - n
    blocks = -(-queries // b)
    padded = np.zeros(n + blocks * b, dtype=np.int32)  # the last block's tail is discarded
    padded[: len(a)] = np.unique(a, return_inverse=True)[1].reshape(-1)
    cores = sliding_window_view(padded, n - b + 1)
    lefts = sliding_window_view(padded, b - 1)
    owns = padded[n:].reshape(blocks, b)
    counts = np.empty((blocks, b), dtype=np.int64)
    for rows in _row_slices(blocks, n, _PASS_BITS):
        starts = n + b * np.arange(rows.start, rows.stop)
        own = owns[rows]
        counts[rows] = _core_counts(cores[starts - (n - b + 1)], own)
        counts[rows] += _edge_counts(lefts[starts - n], own)
    return counts.reshape(-1)[:queries]


def _core_counts(core: npt.NDArray[np.int32], own: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Per block row, 2 * below + equal of each own value among the core's values.

    Keys: core value 4r + 1, queries 4r ("how many below") and 4r + 2 ("how many at
    or below"). After one sort per row, a query's position minus the queries ahead
    of it is the number of core values ahead of it.
    """
    rows, b = own.shape
    width = core.shape[1]
    keys = np.empty((rows, width + 2 * b), dtype=np.int32)
    np.multiply(core, 4, out=keys[:, :width])
    keys[:, :width] += 1
    asked = keys[:, width:]
    np.multiply(own, 4, out=asked[:, :b])
    np.add(asked[:, :b], 2, out=asked[:, b:])
    order = np.argsort(asked, axis=1)
    keys.sort(axis=1)
    ahead = np.flatnonzero((keys & 1) == 0).reshape(rows, 2 * b)
    ahead -= np.arange(rows)[:, None] * keys.shape[1] + np.arange(2 * b)
    per_query = np.empty((rows, 2 * b), dtype=np.int64)  # equal keys have equal counts
    np.put_along_axis(per_query, order, ahead, axis=1)
    return per_query[:, :b] + per_query[:, b:]


def _edge_counts(left: npt.NDArray[np.int32], own: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """2 * below + equal of own[i] over the rest of its window: left[i:] and own[:i].

    In the row v = left + own, that rest is v[i : i + B - 1], a sliding window.
    """
    b = own.shape[1]
    v = np.concatenate([left, own], axis=1)
    rest = sliding_window_view(v, b - 1, axis=1)[:, :b]
    q = own[:, :, None]
    pairs = (rest < q).view(np.int8) + (rest <= q).view(np.int8)
    counts: npt.NDArray[np.int64] = np.einsum("kij->ki", pairs, dtype=np.int64)
    return counts


def _row_slices(rows: int, width: int, bits: int) -> Iterator[slice]:
    """Consecutive row slices of about 2**bits elements (rows of `width`), at least one row."""
    step = max(1, (1 << bits) // width)
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))
