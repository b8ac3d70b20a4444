"""The replayed online indicators equal the online ones exactly, element by element."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.signals.errors import SignalArgumentError
from trading_agent.signals.incremental import RealizedVol
from trading_agent.signals.replayed import _row_fsums, realized_vol_array, realized_vol_replayed
from trading_agent.signals.windows import RollingMoments

# Prices with long flat stretches and jumps: the run-length and collapse paths are hit.
_PRICE = st.one_of(
    st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([100.0, 100.0, 100.0, 100.5]),
)


def _online(closes: list[float], n: int) -> list[float | None]:
    vol = RealizedVol(n)
    return [vol.update(x) for x in closes]


@settings(max_examples=300, deadline=None)
@given(closes=st.lists(_PRICE, max_size=300), n=st.integers(2, 40))
def test_replayed_when_any_series_then_bit_for_bit_the_online_values(
    closes: list[float], n: int
) -> None:
    """Same floats, same Nones, in the same places (== on floats, not a tolerance)."""
    assert realized_vol_replayed(closes, n) == _online(closes, n)


def test_replayed_when_long_random_walk_then_equal_through_many_recomputes() -> None:
    """20,000 steps of a walk: hundreds of periodic recomputes, still identical."""
    x, closes = 30_000.0, []
    for i in range(20_000):
        x *= math.exp(0.001 * math.sin(i * 1.7) + 0.0004 * math.cos(i * 0.31))
        closes.append(x)
    assert realized_vol_replayed(closes, 96) == _online(closes, 96)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_replayed_when_a_close_is_not_positive_then_the_online_error(bad: float) -> None:
    """Refused at the same element, with the online form's error."""
    with pytest.raises(SignalArgumentError) as replayed:
        realized_vol_replayed([100.0, 101.0, bad], 2)
    with pytest.raises(SignalArgumentError) as online:
        _online([100.0, 101.0, bad], 2)
    assert str(replayed.value) == str(online.value)


def test_replayed_when_returns_exactly_constant_then_zero_as_online() -> None:
    """Doubling prices give the same log return every bar: the run-length count makes the
    volatility exactly 0 in both forms, where running moments leave rounding dust."""
    closes = [2.0**k for k in range(60)] + [3.0 * 1.5**k for k in range(60)]
    online = _online(closes, 5)
    assert realized_vol_replayed(closes, 5) == online
    assert online[10] == 0.0


def test_replayed_when_variance_collapses_then_equal_through_collapse_recomputes() -> None:
    """Bursts of large moves followed by tiny ones make M2 collapse below its peak (the
    schedule restarts mid-segment); still the online floats, bar for bar."""
    rng = np.random.default_rng(3)
    x, closes = 100.0, []
    for i in range(6_000):
        scale = 5e-2 if (i // 37) % 9 == 0 else 1e-9
        x *= math.exp(scale * rng.normal())
        closes.append(x)
    for n in (5, 24):
        assert realized_vol_replayed(closes, n) == _online(closes, n)
    assert _collapses(closes, 24) > 10


def _collapses(closes: list[float], n: int) -> int:
    """How often the online moments recompute early (M2 collapsed), counted independently."""
    moments, count = RollingMoments(n), 0
    for previous, x in itertools.pairwise(closes):
        since = moments._since
        moments.push(math.log(x / previous))
        count += moments.full and moments._since == 0 and since + 1 < n
    return count


def test_array_form_when_compared_with_list_form_then_nan_where_none() -> None:
    """`realized_vol_array` is the list form with NaN for None, the same floats elsewhere."""
    closes = [100.0 * 1.001**k * (1 + 0.01 * math.sin(k)) for k in range(300)]
    listed = realized_vol_replayed(closes, 24)
    array = realized_vol_array(np.array(closes), 24)
    assert [None if v != v else v for v in array.tolist()] == listed


_SUMMANDS = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, -1.0, 2.0**-53, -(2.0**-53), 2.0**-54, 3.0 * 2.0**-55, 0.0, 1e-300]),
)


@settings(max_examples=300, deadline=None)
@given(rows=st.integers(1, 5).flatmap(
    lambda width: st.lists(st.lists(_SUMMANDS, min_size=width, max_size=width), min_size=1)
))  # fmt: skip
def test_row_fsums_when_any_rows_then_math_fsum_exactly(rows: list[list[float]]) -> None:
    """The vectorised exact sum is `math.fsum`'s correctly rounded value, ties and
    cancellations included (e.g. 1 + 2**-53 - 1, half-way cases)."""
    got = _row_fsums(np.array(rows, dtype=np.float64))
    assert got.tolist() == [math.fsum(r) for r in rows]
