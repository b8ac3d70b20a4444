"""The replayed online indicators equal the online ones exactly, element by element."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.signals.errors import SignalArgumentError
from trading_agent.signals.incremental import RealizedVol
from trading_agent.signals.replayed import realized_vol_replayed

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
