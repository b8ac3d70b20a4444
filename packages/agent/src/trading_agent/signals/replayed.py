"""The online indicators run over a whole series at once, bit for bit as they run live.

A backtest that precomputes its features must give exactly the floats the live agent
computes bar by bar: sizing and the regime thresholds compare them, so the vectorized
forms (equal only to rounding) would not do. This module performs the online
algorithm's own floating-point operations, in the same order, and a property test
holds it equal (`==`, not approximately) to `RealizedVol` element by element.

How it is fast. `RollingMoments` recomputes its state from the window (`math.fsum`)
every n slides, and that state depends on the window alone, not on the history. So
the series falls into segments of n bars, each starting from a recomputed state;
their slides are independent and run side by side as numpy lanes (one vector
operation per slide step for all segments). A collapse recompute (M2 below
`COLLAPSE` of its peak) restarts the schedule at that bar: the lanes are checked for
one, everything before the first is kept, and the lanes start again there. Real
prices almost never collapse, so this is one pass in practice.
"""

import math
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from trading_agent.signals.batch_windows import constant_windows, log_returns, nan_array
from trading_agent.signals.checks import FloatArray, check_window, not_positive
from trading_agent.signals.windows import COLLAPSE

__all__ = ["realized_vol_array", "realized_vol_replayed"]

_MAX_LANES: Final = 4096  # segments simulated per pass (bounds the work a collapse wastes)


def realized_vol_replayed(closes: Sequence[float], n: int) -> list[float | None]:
    """What `RealizedVol(n).update(x)` returns for each x of `closes`, in order.

    Raises:
        SignalArgumentError: n < 2, or a close that is not finite and positive (as the
            online form raises it, at the same element).
    """
    n = check_window("RealizedVol", "n", n, 2)
    prices = np.asarray(closes, dtype=np.float64).reshape(-1)
    bad = _first_bad(prices)
    if bad is not None:
        raise not_positive("RealizedVol", closes[bad])
    values = _realized_vol(prices, n).tolist()
    return [None if v != v else v for v in values]  # NaN marks "not yet warm"


def realized_vol_array(closes: FloatArray, n: int) -> FloatArray:
    """`realized_vol_replayed` as a float64 array, NaN where the online form gives None.

    Raises:
        SignalArgumentError: as `realized_vol_replayed`.
    """
    n = check_window("RealizedVol", "n", n, 2)
    prices = np.asarray(closes, dtype=np.float64).reshape(-1)
    bad = _first_bad(prices)
    if bad is not None:
        raise not_positive("RealizedVol", float(prices[bad]))
    return _realized_vol(prices, n)


def _first_bad(prices: FloatArray) -> int | None:
    bad = ~(np.isfinite(prices) & (prices > 0.0))
    return int(np.argmax(bad)) if bad.any() else None


class _State(NamedTuple):
    """`RollingMoments` right after a recompute (or the warm-up): since = 0."""

    mean: FloatArray
    m2: FloatArray
    peak: FloatArray


def _realized_vol(prices: FloatArray, n: int) -> FloatArray:
    out = nan_array(len(prices))
    if len(prices) <= n:
        return out
    returns = log_returns(prices)  # math.log of the same IEEE division as `x / previous`
    m2 = _moments_m2(returns, n)[n - 1 :]
    spread = np.where(constant_windows(returns, n), 0.0, np.where(m2 > 0.0, m2, 0.0))
    out[n:] = np.sqrt(spread / (n - 1))
    return out


def _moments_m2(returns: FloatArray, n: int) -> FloatArray:
    """M2 of `RollingMoments(n)` after each push, from the n-th push on."""
    m2 = np.empty(len(returns), dtype=np.float64)
    start, state = n - 1, _warm_up(returns[:n].tolist(), n)
    lanes = _MAX_LANES
    while start < len(returns):
        lanes = min(lanes, -(-(len(returns) - start) // n))
        done = _run_lanes(returns, n, start, state, lanes, m2)
        if done == start + lanes * n:
            lanes = min(_MAX_LANES, 2 * lanes)
        else:  # a collapse at `done`: restart the schedule there
            lanes = max(1, (done - start) // n)
        start = done
        if start < len(returns):
            state = _recomputed(_windows(returns, n, start, 1), n)
            m2[start] = state.m2[0]
    return m2


def _warm_up(first: list[float], n: int) -> _State:
    """Welford's update over the first n returns, as `RollingMoments.push` does it."""
    mean = m2 = peak = 0.0
    for count, r in enumerate(first, start=1):
        delta = r - mean
        mean += delta / count
        m2 += delta * (r - mean)
        if m2 > peak:
            peak = m2
    return _State(np.array([mean]), np.array([m2]), np.array([peak]))


def _windows(returns: FloatArray, n: int, start: int, lanes: int) -> FloatArray:
    """Row j: the n returns ending at start + j n (padded past the end with copies)."""
    first = start - n + 1
    rows = returns[first : first + lanes * n]
    if len(rows) < lanes * n:
        rows = np.concatenate([rows, np.full(lanes * n - len(rows), returns[-1])])
    return rows.reshape(lanes, n)


def _recomputed(windows: FloatArray, n: int) -> _State:
    """`RollingMoments._recompute` per row: fsum mean, then fsum of squared deviations."""
    mean = _row_fsums(windows) / n
    deviations = windows - mean[:, None]
    m2 = _row_fsums(deviations * deviations)
    return _State(mean, m2, m2.copy())


def _row_fsums(rows: FloatArray) -> FloatArray:
    """`math.fsum` of each row (the correctly rounded sum), computed for all rows at once.

    TwoSum passes along the rows (Knuth's error-free transformation; Ogita, Rump and
    Oishi 2005, "Accurate sum and dot product", VecSum) leave each row's exact sum
    unchanged and gather it into the last element s, the rest being small errors. Once
    those errors provably sum to less than a quarter of s's spacing, s is the correctly
    rounded sum; the few rows where that cannot be shown (or after 3 passes) are
    summed by `math.fsum` itself.
    """
    parts = rows.T.copy()  # parts[i] is element i of every row, contiguous
    out = np.empty(len(rows), dtype=np.float64)
    todo = np.arange(len(rows))
    for _ in range(_PASSES):
        _vec_sum(parts)
        done = _rounded(parts)
        out[todo[done]] = parts[-1, done]
        todo, parts = todo[~done], parts[:, ~done]
        if not len(todo):
            return out
    out[todo] = [math.fsum(row) for row in rows[todo].tolist()]
    return out


_PASSES: Final = 3
_EPS: Final = 2.0**-53


def _vec_sum(parts: FloatArray) -> None:
    """One TwoSum cascade down axis 0, in place: the exact column sums are unchanged."""
    for i in range(1, len(parts)):
        a, b = parts[i], parts[i - 1]
        total = a + b
        virtual = total - a
        error = (a - (total - virtual)) + (b - virtual)
        parts[i], parts[i - 1] = total, error


def _rounded(parts: FloatArray) -> npt.NDArray[np.bool_]:
    """Columns whose last element is certainly the correctly rounded column sum.

    The rest sums to t with |error| <= (m - 1) eps sum|rest| (Higham 2002, recursive or
    pairwise summation), so the exact rest is below |t| plus that bound (doubled, for
    the rounding of the bound itself). Within half the gap to s's nearer neighbour,
    s + rest rounds to s; that gap is the spacing, or half of it below a power of two.
    An all-zero rest is exact.
    """
    s, rest = parts[-1], parts[:-1]
    size = np.abs(rest).sum(axis=0)
    reach = np.abs(rest.sum(axis=0)) + 2.0 * len(parts) * _EPS * size + len(parts) * 2.0**-1074
    magnitude = np.abs(s)
    half_gap = np.spacing(magnitude) / np.where(np.frexp(magnitude)[0] == 0.5, 4.0, 2.0)
    certain: npt.NDArray[np.bool_] = np.isfinite(s) & ((size == 0.0) | (reach < half_gap))
    return certain


def _run_lanes(
    returns: FloatArray, n: int, start: int, first: _State, lanes: int, m2_out: FloatArray
) -> int:
    """Slide `lanes` segments of n bars from `start` side by side; write M2; return where
    the schedule stops: the first collapse, or the end of the last segment."""
    x = _windows(returns, n, start, lanes + 1)  # step k: new x[j + 1, k - 1], old x[j, k - 1]
    state = _recomputed(x[1:lanes], n) if lanes > 1 else None
    mean = first.mean if state is None else np.concatenate([first.mean, state.mean])
    m2 = first.m2 if state is None else np.concatenate([first.m2, state.m2])
    peak = first.peak if state is None else np.concatenate([first.peak, state.peak])
    steps = np.empty((lanes, n), dtype=np.float64)
    collapsed = np.zeros((lanes, n), dtype=np.bool_)
    steps[:, 0] = m2
    for k in range(1, n):
        new, old = x[1:, k - 1], x[:-1, k - 1]
        change = new - old
        moved = mean + change / n
        m2 = m2 + change * (((new - moved) + old) - mean)
        mean = moved
        collapsed[:, k] = m2 < peak * COLLAPSE
        peak = np.maximum(peak, m2)
        steps[:, k] = m2
    flat_collapsed = collapsed.reshape(-1)
    end = lanes * n
    if flat_collapsed.any():
        end = int(np.argmax(flat_collapsed))
    end = min(end, len(returns) - start)
    m2_out[start : start + end] = steps.reshape(-1)[:end]
    return start + end
