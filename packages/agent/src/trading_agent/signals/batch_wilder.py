"""Batch recursive smoothers: EMA, and Wilder's RSI, ATR and ADX (Wilder 1978).

Each smoother is the first-order linear recurrence y_t = a y_{t-1} + b v_t. It runs
in blocks of `_BLOCK` values: one matrix product gives every block's response from a
zero start, a loop over the blocks (not the values) carries each block's last value
into the next, and the carried values decay into the block by powers of a. That is
the recurrence's closed form, rounded differently from the step-by-step loop of the
online twins (about 1e-15 relative apart); the regime classifier's threshold margin
and the equivalence tests allow for it. The element-wise parts (changes, true
ranges, directional movements) are numpy. Definitions, seeds and degenerate cases
are documented on the online twins in `online_wilder`.
"""

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from trading_agent.signals.batch_windows import nan_array
from trading_agent.signals.checks import FloatArray, check_arrays, check_bars, check_window

__all__ = ["adx", "atr", "ema", "linear_recurrence", "rsi", "wilder_series"]

_BLOCK: Final = 64  # values per block: a 64 x 64 kernel


def wilder_series(v: FloatArray, n: int) -> FloatArray:
    """Wilder's average of v: NaN for the first n - 1, the mean of the first n, then
    avg_t = (avg_{t-1} (n - 1) + v_t) / n."""
    out = nan_array(len(v))
    if len(v) < n:
        return out
    average = math.fsum(v[:n].tolist()) / n
    out[n - 1 :] = linear_recurrence(average, v[n:], (n - 1) / n, 1.0 / n)
    return out


def ema(x: npt.ArrayLike, n: int) -> FloatArray:
    """EMA with alpha = 2 / (n + 1), seeded with the SMA of the first n values. n >= 1."""
    check_window("ema", "n", n, 1)
    (a,) = check_arrays("ema", x=x)
    out = nan_array(len(a))
    if len(a) < n:
        return out
    alpha = 2.0 / (n + 1)
    seed = math.fsum(a[:n].tolist()) / n
    out[n - 1 :] = linear_recurrence(seed, a[n:], 1.0 - alpha, alpha)
    return out


def linear_recurrence(first: float, v: FloatArray, a: float, b: float) -> FloatArray:
    """[y_0, ..., y_len(v)] with y_0 = first and y_t = a y_{t-1} + b v_t, where
    0 <= a < 1 and a + b = 1 (a weighted average of the last y and the new v).

    Computed on deviations from `first` (the same recurrence, as a + b = 1), so a
    series equal to `first` throughout gives exactly `first`, as the step-by-step
    online forms do.
    """
    count = len(v)
    blocks = -(-count // _BLOCK)
    padded = np.zeros(blocks * _BLOCK, dtype=np.float64)
    padded[:count] = v - first
    powers = a ** np.arange(_BLOCK + 1, dtype=np.float64)  # a^0 .. a^_BLOCK
    lag = np.arange(_BLOCK)[None, :] - np.arange(_BLOCK)[:, None]  # column j, row i: j - i
    kernel = np.where(lag >= 0, b * powers[np.clip(lag, 0, _BLOCK)], 0.0)
    # responses[k, j]: the deviation at value j of block k had the block started from 0.
    responses = padded.reshape(blocks, _BLOCK) @ kernel
    carried = [0.0]  # the deviation just before each block
    decay = float(powers[_BLOCK])
    for end in responses[:, -1].tolist():
        carried.append(decay * carried[-1] + end)
    deviations = responses + np.asarray(carried[:-1])[:, None] * powers[None, 1:]
    return np.concatenate(([first], first + deviations.reshape(-1)[:count]))


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
