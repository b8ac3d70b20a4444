"""Batch recursive smoothers: EMA, and Wilder's RSI, ATR and ADX (Wilder 1978).

A recursion cannot be vectorised without changing its rounding, so the smoothing is
a loop over Python floats (about 0.1 s per million values); the element-wise parts
(changes, true ranges, directional movements) are numpy. Definitions, seeds and
degenerate cases are documented on the online twins in `online_wilder`.
"""

import math

import numpy as np
import numpy.typing as npt

from trading_agent.signals.batch_windows import nan_array
from trading_agent.signals.checks import FloatArray, check_arrays, check_bars, check_window

__all__ = ["adx", "atr", "ema", "rsi", "wilder_series"]


def wilder_series(v: FloatArray, n: int) -> FloatArray:
    """Wilder's average of v: NaN for the first n - 1, the mean of the first n, then
    avg_t = (avg_{t-1} (n - 1) + v_t) / n."""
    out = nan_array(len(v))
    if len(v) < n:
        return out
    values = v.tolist()
    average = math.fsum(values[:n]) / n
    smoothed = [average]
    for value in values[n:]:
        average = (average * (n - 1) + value) / n
        smoothed.append(average)
    out[n - 1 :] = smoothed
    return out


def ema(x: npt.ArrayLike, n: int) -> FloatArray:
    """EMA with alpha = 2 / (n + 1), seeded with the SMA of the first n values. n >= 1."""
    check_window("ema", "n", n, 1)
    (a,) = check_arrays("ema", x=x)
    out = nan_array(len(a))
    if len(a) < n:
        return out
    alpha = 2.0 / (n + 1)
    values = a.tolist()
    e = math.fsum(values[:n]) / n
    smoothed = [e]
    for value in values[n:]:
        e = e + alpha * (value - e)
        smoothed.append(e)
    out[n - 1 :] = smoothed
    return out


def rsi(x: npt.ArrayLike, n: int) -> FloatArray:
    """Wilder's RSI in [0, 100]; 50 where nothing has moved; NaN for the first n. n >= 1."""
    check_window("rsi", "n", n, 1)
    (a,) = check_arrays("rsi", x=x)
    out = nan_array(len(a))
    if len(a) < n + 1:
        return out
    change = np.diff(a)
    gain = wilder_series(np.where(change > 0.0, change, 0.0), n)[n - 1 :]
    loss = wilder_series(np.where(change < 0.0, -change, 0.0), n)[n - 1 :]
    total = gain + loss
    strength = np.full(len(total), 50.0)
    np.divide(100.0 * gain, total, out=strength, where=total > 0.0)
    out[n:] = strength
    return out


def true_ranges(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """Wilder's true range per bar; the first bar, with no previous close, gets high - low."""
    tr = high - low
    previous = close[:-1]
    tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(high[1:] - previous), np.abs(low[1:] - previous)))
    return tr


def atr(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, n: int) -> FloatArray:
    """Wilder's ATR: mean of the first n true ranges, then Wilder's recursion. n >= 1."""
    check_window("atr", "n", n, 1)
    h, lo, c = check_bars("atr", high, low, close)
    return wilder_series(true_ranges(h, lo, c), n)


def adx(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, n: int) -> FloatArray:
    """Wilder's ADX in [0, 100]; NaN for the first 2n - 1 bars. n >= 1.

    DX is computed from the averaged directional movements (the averaged true range
    cancels between DI+ and DI-); no movement at all gives DX = 0.
    """
    check_window("adx", "n", n, 1)
    h, lo, _ = check_bars("adx", high, low, close)
    out = nan_array(len(h))
    if len(h) < 2 * n:
        return out
    up = h[1:] - h[:-1]
    down = lo[:-1] - lo[1:]
    plus = wilder_series(np.where((up > down) & (up > 0.0), up, 0.0), n)[n - 1 :]
    minus = wilder_series(np.where((down > up) & (down > 0.0), down, 0.0), n)[n - 1 :]
    total = plus + minus
    dx = np.zeros(len(total), dtype=np.float64)
    np.divide(100.0 * np.abs(plus - minus), total, out=dx, where=total > 0.0)
    out[n:] = wilder_series(dx, n)
    return out
