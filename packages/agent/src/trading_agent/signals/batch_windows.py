"""Batch building blocks: windowed moments, log returns, and NaN-padded outputs.

Windows are `sliding_window_view`s (no copy); anything that needs a temporary per
window element is computed in blocks of rows, so a year of minute bars with a day-long
window does not allocate gigabytes.
"""

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals.checks import FloatArray

__all__ = ["constant_windows", "log_returns", "nan_array", "row_blocks", "window_moments"]

_BLOCK_ELEMENTS = 1 << 20


def nan_array(length: int) -> FloatArray:
    return np.full(length, np.nan, dtype=np.float64)


def row_blocks(rows: int, width: int) -> Iterator[slice]:
    """Consecutive row slices of about a million elements each."""
    step = max(1, _BLOCK_ELEMENTS // width)
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def window_moments(x: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sum of squared deviations of each window x[i : i + n], two-pass.

    Needs len(x) >= n. A window of identical values gets mean = that value and M2 = 0
    exactly, as the online `RollingMoments` does (a plain mean can be off by an ulp).
    """
    windows = sliding_window_view(x, n)
    rows = len(windows)
    mean = np.empty(rows, dtype=np.float64)
    m2 = np.empty(rows, dtype=np.float64)
    for block in row_blocks(rows, n):
        w = windows[block]
        mu = w.mean(axis=1)
        d = w - mu[:, None]
        mean[block] = mu
        m2[block] = np.einsum("ij,ij->i", d, d)
    constant = constant_windows(x, n)
    mean[constant] = x[n - 1 :][constant]
    m2[constant] = 0.0
    return mean, m2


def constant_windows(x: FloatArray, n: int) -> npt.NDArray[np.bool_]:
    """Per window x[i : i + n]: are all its values equal? O(1) per window.

    Counted exactly: the number of k with x[k] != x[k - 1] inside the window, from an
    integer prefix sum. The online run-length count says the same (the latest value
    repeated n times), and so does max == min. Needs len(x) >= n >= 1.
    """
    changes = np.zeros(len(x), dtype=np.int64)
    np.cumsum(x[1:] != x[:-1], out=changes[1:])
    constant: npt.NDArray[np.bool_] = changes[n - 1 :] == changes[: len(x) - n + 1]
    return constant


def log_returns(x: FloatArray) -> FloatArray:
    """ln(x_t / x_{t-1}), length len(x) - 1, with `math.log` per element.

    numpy's vectorised log may differ from libm's by an ulp; using `math.log` here
    gives exactly the returns the online objects see, so "all returns equal" (zero
    variance) is decided the same way in both forms.
    """
    ratios = (x[1:] / x[:-1]).tolist()
    return np.fromiter(map(math.log, ratios), dtype=np.float64, count=len(ratios))
