"""Batch variance ratio of Lo & MacKinlay (1988); the estimator is documented in `online_vr`.

Every window's sums come from prefix sums, O(1) per bar, in blocks of `_ROWS` bars
with the block's mean subtracted first. A prefix sum loses precision where a window's
spread is small next to the partial sums around it, as after a violent stretch in
the same block: the difference of two prefix sums is off by the roundings of the
additions inside the window, each at most u times the partial sum it produced
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 4.2). So
each block also bounds every window's ratio error from those partial sums, and a
block where a varying window could be off by more than `_MAX_RELATIVE` is computed
again two-pass (deviations from each window's own mean), O(n) per bar. On a year of
minute bars with n = 240 the whole call takes about 0.1 s instead of about 0.5
(`bench/bench_features.py --parts`), and the ratio is within about 1e-12 of the
two-pass one (tests/signals/test_batch_vr.py).
"""

from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals.batch_windows import (
    constant_windows,
    log_returns,
    nan_array,
    row_blocks,
)
from trading_agent.signals.checks import FloatArray, check_arrays
from trading_agent.signals.online_vr import variance_ratio_constants

__all__ = ["variance_ratio"]

_ROWS: Final = 2048  # windows per prefix-sum block: partial sums, and their rounding, grow with it
_MAX_RELATIVE: Final = 1e-10  # accepted bound on a window's ratio error, relative
_U: Final = 2.0**-53  # the unit roundoff of float64


def variance_ratio(x: npt.ArrayLike, n: int, q: int) -> tuple[FloatArray, FloatArray]:
    """(VR(q), z) over the last n log returns of prices x > 0, per bar.

    NaN for the first n bars, and where the n returns are all equal (both variances
    0). q >= 2, n > q.
    """
    m, root_phi = variance_ratio_constants("variance_ratio", n, q)
    (a,) = check_arrays("variance_ratio", positive=True, x=x)
    ratio, z = nan_array(len(a)), nan_array(len(a))
    if len(a) < n + 1:
        return ratio, z
    r = log_returns(a)
    spans = sliding_window_view(r, q).sum(axis=1)  # spans[j] = r[j] + ... + r[j + q - 1]
    rows = len(r) - n + 1  # window i: r[i : i + n], and the spans inside it
    varying = ~constant_windows(r, n)
    m2a = np.empty(rows, dtype=np.float64)  # sum (r - mu)^2 per window
    m2c = np.empty(rows, dtype=np.float64)  # sum (y - q mu)^2 per window
    for start in range(0, rows, _ROWS):
        block = slice(start, min(rows, start + _ROWS))
        a2, c2, worst = prefix_moments(r, spans, block, n, q)
        # `not <=`: a NaN bound (an inf - inf somewhere) refuses, as a large one does.
        if not np.all(worst[varying[block]] <= _MAX_RELATIVE):
            a2, c2 = two_pass_moments(r, spans, block, n, q)
        m2a[block], m2c[block] = a2, c2
    sigma_a2 = m2a / (n - 1)
    sigma_c2 = m2c / m
    np.divide(sigma_c2, sigma_a2, out=ratio[n:], where=varying)
    z[n:] = (ratio[n:] - 1.0) / root_phi
    return ratio, z


def prefix_moments(
    r: FloatArray, spans: FloatArray, block: slice, n: int, q: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(sum (r - mu)^2, sum (y - q mu)^2, bound) for the windows in `block`, from
    prefix sums of the block's returns shifted by their mean; `bound` bounds each
    window's relative ratio error to first order, doubled for safety (infinite where a
    moment is not positive)."""
    count = n - q + 1  # q-bar returns inside a window
    start, stop = block.start, block.stop
    returns = r[start : stop + n - 1]
    shift = float(np.mean(returns))
    s1, e1, s2, e2 = _window_sums(returns - shift, n)
    shifted_spans = spans[start : stop + count - 1] - q * shift
    t1, f1, t2, f2 = _window_sums(shifted_spans, count)
    m2a, ea = _centred(s1, e1, s2, e2, n)
    m2t, et = _centred(t1, f1, t2, f2, count)
    # sum (y - q mu)^2 = the spans' own M2 plus count times the offset of their mean.
    offset = t1 / count - q * s1 / n
    eo = f1 / count + q * e1 / n + 4 * _U * (np.abs(t1) / count + q * np.abs(s1) / n)
    eo += 2 * _U * q * abs(shift)  # q * shift rounded once, the spans shifted by it
    m2c = m2t + count * offset * offset
    ec = et + count * (2 * np.abs(offset) * eo + eo * eo) + 4 * _U * count * offset * offset
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = 2.0 * (ea / m2a + ec / m2c) + 8 * _U
    bound = np.where((m2a > 0) & (m2c > 0), bound, np.inf)
    return m2a, m2c, bound


def _window_sums(
    v: FloatArray, width: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Sums of v and of v^2 over every window of `width`, each with its error bound.

    A window's sum is the difference of two prefix sums: the rounding of the first
    prefix is carried into the second and cancels, leaving the roundings of the
    additions inside the window, each at most u times the partial sum it produced.
    """
    squares = v * v
    p1 = np.cumsum(v)
    p2 = np.cumsum(squares)
    s1 = _differences(p1, width)
    s2 = _differences(p2, width)
    # Sums of the partial sums' magnitudes inside each window (a bound: its own
    # rounding is covered by the 1 % added).
    partial1 = _differences(np.cumsum(np.abs(p1)), width)
    partial2 = _differences(np.cumsum(p2), width)
    # v itself was rounded once when shifted (each |error| <= u |v|, at most
    # u sqrt(width s2) over a window by Cauchy-Schwarz) and once more when squared.
    e1 = 1.01 * _U * (partial1 + np.sqrt(width * np.abs(s2))) + _U * np.abs(s1)
    e2 = 1.01 * _U * partial2 + 4 * _U * np.abs(s2)
    return s1, e1, s2, e2


def _differences(prefix: FloatArray, width: int) -> FloatArray:
    """prefix[i + width - 1] - prefix[i - 1] for every window i (prefix[-1] being 0)."""
    padded = np.concatenate(([0.0], prefix))
    return np.asarray(padded[width:] - padded[:-width])


def _centred(
    s1: FloatArray, e1: FloatArray, s2: FloatArray, e2: FloatArray, width: int
) -> tuple[FloatArray, FloatArray]:
    """sum (v - mean)^2 = s2 - s1^2 / width, and its error bound."""
    lost = s1 * s1 / width
    m2 = s2 - lost
    error = e2 + (2 * np.abs(s1) * e1 + e1 * e1) / width + 4 * _U * (np.abs(s2) + lost)
    return m2, error


def two_pass_moments(
    r: FloatArray, spans: FloatArray, block: slice, n: int, q: int
) -> tuple[FloatArray, FloatArray]:
    """(sum (r - mu)^2, sum (y - q mu)^2) for the windows in `block`, each about the
    window's own mean: O(n) per window, accurate whatever the block holds."""
    windows = sliding_window_view(r, n)
    span_windows = sliding_window_view(spans, n - q + 1)  # row i: the spans inside windows[i]
    m2a = np.empty(block.stop - block.start, dtype=np.float64)
    m2c = np.empty_like(m2a)
    for part in row_blocks(len(m2a), n):
        rows = slice(block.start + part.start, block.start + part.stop)
        w = windows[rows]
        mu = w.mean(axis=1)
        d = w - mu[:, None]
        e = span_windows[rows] - q * mu[:, None]
        m2a[part] = np.einsum("ij,ij->i", d, d)
        m2c[part] = np.einsum("ij,ij->i", e, e)
    return m2a, m2c
