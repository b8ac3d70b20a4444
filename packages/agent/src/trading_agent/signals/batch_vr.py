"""Batch variance ratio of Lo & MacKinlay (1988); the estimator is documented in `online_vr`."""

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals.batch_windows import log_returns, nan_array, row_blocks
from trading_agent.signals.checks import FloatArray, check_arrays
from trading_agent.signals.online_vr import variance_ratio_constants

__all__ = ["variance_ratio"]


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
    windows = sliding_window_view(r, n)
    span_windows = sliding_window_view(spans, n - q + 1)  # row i: the spans inside windows[i]
    sigma_a2 = np.empty(len(windows), dtype=np.float64)
    sigma_c2 = np.empty(len(windows), dtype=np.float64)
    for block in row_blocks(len(windows), n):
        w = windows[block]
        mu = w.mean(axis=1)
        d = w - mu[:, None]
        e = span_windows[block] - q * mu[:, None]
        sigma_a2[block] = np.einsum("ij,ij->i", d, d) / (n - 1)
        sigma_c2[block] = np.einsum("ij,ij->i", e, e) / m
    varying = windows.max(axis=1) != windows.min(axis=1)
    np.divide(sigma_c2, sigma_a2, out=ratio[n:], where=varying)
    z[n:] = (ratio[n:] - 1.0) / root_phi
    return ratio, z
