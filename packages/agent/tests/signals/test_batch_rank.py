"""`percentile_rank`'s blocked counting equals counting every pair, ties included."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.signals.vectorized import percentile_rank


def _naive(x: list[float], n: int) -> list[float]:
    """Mid-rank by definition: (below + equal / 2) / n over the n values before x_t."""
    out = [float("nan")] * min(n, len(x))
    for t in range(n, len(x)):
        window = x[t - n : t]
        below = sum(1 for w in window if w < x[t])
        equal = sum(1 for w in window if w == x[t])
        out.append((2 * below + equal) / (2 * n))
    return out


# Few distinct values (many ties), both zeros, and negatives; lengths past several blocks.
_VALUES = st.one_of(st.sampled_from([-1.5, -0.0, 0.0, 0.25, 0.25, 3.0]), st.integers(-9, 9))


@settings(max_examples=150, deadline=None)
@given(x=st.lists(_VALUES.map(float), max_size=700), n=st.integers(1, 300))
def test_percentile_rank_when_any_series_then_equal_to_counting_pairs(
    x: list[float], n: int
) -> None:
    """Every bar, exactly (==): windows shorter and longer than a block, tails of blocks."""
    got = percentile_rank(np.array(x, dtype=np.float64), n)
    assert np.array_equal(got, np.array(_naive(x, n)), equal_nan=True)


def test_percentile_rank_when_long_window_with_rounded_values_then_equal_to_counting() -> None:
    """A window of 500 over 3,000 values with two decimals (ties), against direct counts."""
    x = np.round(np.random.default_rng(11).normal(size=3_000), 2)
    n = 500
    expected = [
        (2 * np.count_nonzero(x[t - n : t] < x[t]) + np.count_nonzero(x[t - n : t] == x[t]))
        / (2 * n)
        for t in range(n, len(x))
    ]
    assert np.array_equal(percentile_rank(x, n)[n:], np.array(expected))
