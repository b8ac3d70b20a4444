"""`variance_ratio`'s prefix-sum blocks equal the two-pass moments, or fall back to them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from trading_agent.signals import batch_vr
from trading_agent.signals.batch_windows import log_returns
from trading_agent.signals.online_vr import variance_ratio_constants
from trading_agent.signals.vectorized import variance_ratio

RNG_SEED = 20261202


def _two_pass_ratio(x: np.ndarray, n: int, q: int) -> np.ndarray:
    """The ratio from two-pass moments over every window: the accurate reference."""
    m, _ = variance_ratio_constants("test", n, q)
    out = np.full(len(x), np.nan)
    if len(x) < n + 1:
        return out
    r = log_returns(x)
    spans = sliding_window_view(r, q).sum(axis=1)
    rows = len(r) - n + 1
    m2a, m2c = batch_vr.two_pass_moments(r, spans, slice(0, rows), n, q)
    varying = np.array([np.ptp(r[i : i + n]) > 0 for i in range(rows)], dtype=bool)
    out[n:][varying] = (m2c[varying] / m) / (m2a[varying] / (n - 1))
    return out


@st.composite
def _prices(draw: st.DrawFn) -> np.ndarray:
    """Log returns in stretches of very different volatility and drift, some flat."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        length = draw(st.integers(1, 80))
        scale = 10.0 ** draw(st.integers(-9, 0))
        drift = draw(st.sampled_from([0.0, 1e-6, -1e-3, 0.05]))
        seed = draw(st.integers(0, 2**32 - 1))
        noise = np.random.default_rng(seed).normal(0.0, scale, length)
        flat = draw(st.booleans())
        parts.append(np.full(length, drift) if flat else noise + drift)
    returns = np.concatenate(parts)
    return np.asarray(100.0 * np.exp(np.concatenate(([0.0], np.cumsum(returns)))))


@settings(max_examples=200, deadline=None)
@given(x=_prices(), q=st.integers(2, 8), extra=st.integers(1, 60), rows=st.integers(1, 40))
def test_variance_ratio_when_any_blocks_then_equal_to_two_pass(
    x: np.ndarray, q: int, extra: int, rows: int
) -> None:
    """Within 1e-10 and NaN at the same bars, whatever the block size and the data."""
    n = q + extra
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_vr, "_ROWS", rows)
        ratio, _ = variance_ratio(x, n, q)
    np.testing.assert_allclose(ratio, _two_pass_ratio(x, n, q), rtol=1e-10, atol=0)


def _violent_then_calm() -> np.ndarray:
    """Returns of +-0.5, then of about 1e-6: the block's mean is near the calm one, so
    nothing cancels when centring and only the swollen partial sums of squares are wrong."""
    rng = np.random.default_rng(RNG_SEED)
    violent = np.tile([0.5, -0.5], 200)
    returns = np.concatenate((violent, rng.normal(0.0, 1e-6, 600)))
    return np.asarray(100.0 * np.exp(np.concatenate(([0.0], np.cumsum(returns)))))


def test_prefix_moments_when_calm_after_violent_then_bound_refuses_and_two_pass_is_used() -> None:
    """Prefix sums swamped by a violent stretch are caught by the bound, really are
    wrong, and `variance_ratio` still gives the two-pass ratio."""
    x, n, q = _violent_then_calm(), 100, 5
    r = log_returns(x)
    spans = sliding_window_view(r, q).sum(axis=1)
    rows = len(r) - n + 1
    m2a, _, bound = batch_vr.prefix_moments(r, spans, slice(0, rows), n, q)
    exact_a, _ = batch_vr.two_pass_moments(r, spans, slice(0, rows), n, q)
    calm = slice(500, rows)  # windows wholly inside the calm stretch
    assert np.all(bound[calm] > batch_vr._MAX_RELATIVE)
    assert np.max(np.abs(m2a[calm] / exact_a[calm] - 1.0)) > 1e-6
    ratio, _ = variance_ratio(x, n, q)
    np.testing.assert_allclose(ratio, _two_pass_ratio(x, n, q), rtol=1e-10, atol=0)


def test_prefix_moments_when_random_walk_then_every_block_is_accepted() -> None:
    """On minute-like returns the bound accepts every block: the fast path is the one
    taken, and it agrees with two-pass to far better than the bound."""
    rng = np.random.default_rng(RNG_SEED)
    x = 30000.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, 20_000)))
    n, q = 240, 12
    r = log_returns(x)
    spans = sliding_window_view(r, q).sum(axis=1)
    rows = len(r) - n + 1
    for start in range(0, rows, batch_vr._ROWS):
        block = slice(start, min(rows, start + batch_vr._ROWS))
        m2a, m2c, bound = batch_vr.prefix_moments(r, spans, block, n, q)
        exact_a, exact_c = batch_vr.two_pass_moments(r, spans, block, n, q)
        assert np.max(bound) <= batch_vr._MAX_RELATIVE
        np.testing.assert_allclose(m2a, exact_a, rtol=1e-12)
        np.testing.assert_allclose(m2c, exact_c, rtol=1e-12)


def test_variance_ratio_when_a_bound_is_nan_then_the_block_is_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bound that is not a number proves nothing: the block goes two-pass (here the
    prefix moments are made wrong, so taking them would change the ratio)."""
    rng = np.random.default_rng(RNG_SEED)
    x = 30000.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, 3_000)))
    prefix = batch_vr.prefix_moments

    def wrong_with_nan_bound(
        r: np.ndarray, spans: np.ndarray, block: slice, n: int, q: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m2a, m2c, bound = prefix(r, spans, block, n, q)
        return 2.0 * m2a, m2c, np.full_like(bound, np.nan)

    monkeypatch.setattr(batch_vr, "prefix_moments", wrong_with_nan_bound)
    ratio, _ = variance_ratio(x, 240, 12)
    np.testing.assert_allclose(ratio, _two_pass_ratio(x, 240, 12), rtol=1e-10, atol=0)
