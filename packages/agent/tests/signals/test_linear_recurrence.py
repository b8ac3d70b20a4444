"""`linear_recurrence`, the blocked closed form behind the batch EMA and Wilder averages,
equals the step-by-step recurrence."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.signals.batch_wilder import linear_recurrence


def _stepwise(first: float, v: np.ndarray, a: float, b: float) -> np.ndarray:
    out = [first]
    for value in v.tolist():
        out.append(a * out[-1] + b * value)
    return np.array(out)


_VALUES = st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), max_size=70)


@st.composite
def _series(draw: st.DrawFn) -> np.ndarray:
    """Drawn values (short), or a seeded walk of up to 10 blocks at any scale."""
    if draw(st.booleans()):
        return np.array(draw(_VALUES), dtype=np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    steps = rng.normal(0.0, 10.0 ** draw(st.integers(-6, 6)), draw(st.integers(0, 640)))
    return np.asarray(np.cumsum(steps) + draw(st.floats(-1e6, 1e6)))


@settings(max_examples=150, deadline=None)
@given(first=st.floats(-1e6, 1e6), x=_series(), n=st.integers(1, 400), wilder=st.booleans())
def test_linear_recurrence_when_any_values_then_equal_to_stepwise(
    first: float, x: np.ndarray, n: int, wilder: bool
) -> None:
    """Within rounding of the largest magnitude seen, across block boundaries (64)."""
    a, b = ((n - 1) / n, 1.0 / n) if wilder else (1.0 - 2.0 / (n + 1), 2.0 / (n + 1))
    got = linear_recurrence(first, x, a, b)
    scale = max(abs(first), float(np.max(np.abs(x), initial=0.0)), 1e-300)
    np.testing.assert_allclose(got, _stepwise(first, x, a, b), rtol=0, atol=1e-12 * scale)


def test_linear_recurrence_when_flat_then_exactly_the_value() -> None:
    """A series equal to the start stays exactly there, as the online forms do."""
    flat = np.full(1000, 7.3)
    assert np.all(linear_recurrence(7.3, flat, 13 / 14, 1 / 14) == 7.3)


def test_linear_recurrence_when_a_is_zero_then_each_value_scaled() -> None:
    """a = 0, b = 1 (a window of one) gives the values themselves."""
    x = np.arange(200.0)
    np.testing.assert_array_equal(linear_recurrence(-1.0, x, 0.0, 1.0), np.r_[-1.0, x])
