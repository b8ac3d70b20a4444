"""The online building blocks: accurate over long runs and after a collapse; ranks exact."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.signals.sorted_bag import SortedBag
from trading_agent.signals.windows import RollingMax, RollingMoments, RollingSum


def exact_moments(window: np.ndarray) -> tuple[float, float]:
    mean = math.fsum(window) / len(window)
    return mean, math.fsum((x - mean) ** 2 for x in window)


def test_rolling_moments_when_huge_values_leave_then_small_variance_still_accurate() -> None:
    """After 1e8-sized swings leave the window, the variance of tiny moves is still right."""
    rng = np.random.default_rng(3)
    n = 50
    big = 213  # not a multiple of n, so the periodic recompute does not hide the collapse
    x = np.r_[1e8 * rng.normal(size=big), 1.0 + 1e-3 * rng.normal(size=200)]
    m = RollingMoments(n)
    for t, value in enumerate(x):
        m.push(float(value))
        if t >= big + n - 1:
            _, m2 = exact_moments(x[t - n + 1 : t + 1])
            assert math.isclose(m.m2, m2, rel_tol=1e-9)


def test_rolling_moments_when_run_long_then_no_drift() -> None:
    """A hundred thousand updates at a price-like level end where a two-pass sum ends."""
    rng = np.random.default_rng(4)
    n = 30
    x = 50_000.0 + np.cumsum(rng.normal(size=100_000))
    m = RollingMoments(n)
    for value in x.tolist():
        m.push(value)
    mean, m2 = exact_moments(x[-n:])
    assert math.isclose(m.mean, mean, rel_tol=1e-12)
    assert math.isclose(m.m2, m2, rel_tol=1e-9)


def test_rolling_sum_when_nonnegative_and_large_values_leave_then_small_sum_accurate() -> None:
    """A path-length sum never goes negative or stale when big steps leave the window."""
    s = RollingSum(3, nonnegative=True)
    totals = []
    for value in [3e16, 1.0, 2.0, 3.0, 4.0]:
        s.push(value)
        totals.append(s.total)
    assert totals[3:] == [6.0, 9.0]


def test_rolling_max_when_pushed_then_maximum_of_last_n() -> None:
    """The monotonic deque gives the max of the last n values, old maxima expiring."""
    values = [5.0, 1.0, 4.0, 3.0, 2.0, 2.0, 0.0, 6.0]
    r = RollingMax(3)
    got = []
    for value in values:
        r.push(value)
        got.append(r.value)
    assert got == [max(values[max(0, i - 2) : i + 1]) for i in range(len(values))]


@given(
    st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), max_size=200),
    st.integers(1, 4),
)
def test_sorted_bag_when_adding_and_removing_then_ranks_match_a_sorted_list(
    ops: list[tuple[bool, int]], block: int
) -> None:
    """With tiny blocks (many splits and emptied blocks), ranks equal counting a plain list."""
    bag, plain = SortedBag(block), []
    for remove, raw in ops:
        x = float(raw)
        if remove and x in plain:
            plain.remove(x)
            bag.remove(x)
        else:
            plain.append(x)
            bag.add(x)
        for probe in (x - 0.5, x, x + 0.5):
            below = sum(v < probe for v in plain)
            assert bag.ranks(probe) == (below, below + plain.count(probe))
    assert bag.size == len(plain)


def test_sorted_bag_when_removing_absent_value_then_value_error() -> None:
    """Removing what is not there is a bug in the caller, not a silent no-op."""
    bag = SortedBag(2)
    bag.add(1.0)
    with pytest.raises(ValueError, match="not present"):
        bag.remove(2.0)
    with pytest.raises(ValueError, match="not present"):
        bag.remove(0.5)
