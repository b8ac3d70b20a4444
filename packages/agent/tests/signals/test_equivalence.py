"""Feeding an incremental object element by element gives its vectorized twin's array.

Series are integers times a power of two: exact in float, any scale, and with no
two windows whose dispersion differs only by rounding noise, so a tight tolerance
is fair. Repeated values (constant windows) are common in these draws.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.signals import incremental as inc
from trading_agent.signals import vectorized as v

SCALES = st.integers(-20, 20).map(lambda e: 2.0**e)


@st.composite
def series(draw: st.DrawFn, positive: bool = False, max_size: int = 60) -> np.ndarray:
    low = 1 if positive else -1000
    ints = draw(st.lists(st.integers(low, 1000), max_size=max_size))
    return np.array(ints, dtype=np.float64) * draw(SCALES)


@st.composite
def bars(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = draw(st.lists(st.tuples(st.integers(-500, 500), st.integers(0, 30), st.integers(0, 30))))
    scale = draw(SCALES)
    close = np.array([r[0] for r in rows], dtype=np.float64) * scale
    high = close + np.array([r[1] for r in rows], dtype=np.float64) * scale
    low = close - np.array([r[2] for r in rows], dtype=np.float64) * scale
    return high, low, close


def feed(obj: Any, *columns: np.ndarray, pick: Callable[[Any], float] = float) -> np.ndarray:
    """The object's results as an array, NaN where it returned None."""
    out = []
    for row in zip(*columns, strict=True):
        result = obj.update(*(float(value) for value in row))
        out.append(np.nan if result is None else pick(result))
    return np.array(out, dtype=np.float64)


def assert_same(online: np.ndarray, batch: np.ndarray, data: Sequence[np.ndarray] = ()) -> None:
    """Equal within rounding, NaN at the same places; level outputs scale with the data."""
    scale = max((float(np.max(np.abs(d))) for d in data if len(d)), default=1.0)
    np.testing.assert_allclose(online, batch, rtol=1e-9, atol=1e-9 * max(scale, 1e-300))


WINDOW = st.integers(1, 12)


@given(series(), WINDOW)
def test_sma_online_equals_batch(x: np.ndarray, n: int) -> None:
    """SMA(n) fed one by one equals sma(x, n)."""
    assert_same(feed(inc.SMA(n), x), v.sma(x, n), [x])


@given(series(), WINDOW)
def test_ema_online_equals_batch(x: np.ndarray, n: int) -> None:
    """EMA(n) fed one by one equals ema(x, n)."""
    assert_same(feed(inc.EMA(n), x), v.ema(x, n), [x])


@given(series(), st.integers(2, 12))
def test_zscore_online_equals_batch(x: np.ndarray, n: int) -> None:
    """ZScore(n) equals zscore(x, n), None exactly where the batch form has NaN."""
    assert_same(feed(inc.ZScore(n), x), v.zscore(x, n))


@given(series(), WINDOW, st.sampled_from([0.5, 1.0, 2.0, 2.5]))
def test_bollinger_online_equals_batch(x: np.ndarray, n: int, k: float) -> None:
    """Bollinger(n, k) bands equal bollinger(x, n, k), band by band."""
    mid, upper, lower = v.bollinger(x, n, k)
    assert_same(feed(inc.Bollinger(n, k), x, pick=lambda b: b.mid), mid, [x])
    assert_same(feed(inc.Bollinger(n, k), x, pick=lambda b: b.upper), upper, [x])
    assert_same(feed(inc.Bollinger(n, k), x, pick=lambda b: b.lower), lower, [x])


@given(series(), WINDOW)
def test_rsi_online_equals_batch(x: np.ndarray, n: int) -> None:
    """RSI(n) equals rsi(x, n)."""
    assert_same(feed(inc.RSI(n), x), v.rsi(x, n))


@given(bars(), WINDOW)
def test_atr_online_equals_batch(b: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> None:
    """ATR(n) fed (high, low, close) equals atr(high, low, close, n)."""
    assert_same(feed(inc.ATR(n), *b), v.atr(*b, n), b)


@given(bars(), WINDOW)
def test_adx_online_equals_batch(b: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> None:
    """ADX(n) fed (high, low, close) equals adx(high, low, close, n)."""
    assert_same(feed(inc.ADX(n), *b), v.adx(*b, n))


@given(series(positive=True), st.integers(2, 12))
def test_realized_vol_online_equals_batch(x: np.ndarray, n: int) -> None:
    """RealizedVol(n) equals realized_vol(x, n)."""
    assert_same(feed(inc.RealizedVol(n), x), v.realized_vol(x, n))


@given(series(), WINDOW)
def test_efficiency_ratio_online_equals_batch(x: np.ndarray, n: int) -> None:
    """EfficiencyRatio(n) equals efficiency_ratio(x, n)."""
    assert_same(feed(inc.EfficiencyRatio(n), x), v.efficiency_ratio(x, n))


@given(series(positive=True, max_size=80), st.integers(2, 6), st.integers(1, 30))
def test_variance_ratio_online_equals_batch(x: np.ndarray, q: int, extra: int) -> None:
    """VarianceRatio(n, q) ratio and z equal variance_ratio(x, n, q); None where NaN."""
    n = q + extra
    ratio, z = v.variance_ratio(x, n, q)
    assert_same(feed(inc.VarianceRatio(n, q), x, pick=lambda r: r.ratio), ratio)
    assert_same(feed(inc.VarianceRatio(n, q), x, pick=lambda r: r.z), z)


@given(bars(), WINDOW)
def test_donchian_online_equals_batch(b: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> None:
    """Donchian(n) equals donchian(high, low, n); `previous` is the batch channel one bar back."""
    high, low, _ = b
    upper, lower = v.donchian(high, low, n)
    assert_same(feed(inc.Donchian(n), high, low, pick=lambda c: c.upper), upper, b)
    assert_same(feed(inc.Donchian(n), high, low, pick=lambda c: c.lower), lower, b)
    channel = inc.Donchian(n)
    previous = []
    for h, lo in zip(high, low, strict=True):
        channel.update(float(h), float(lo))
        previous.append(np.nan if channel.previous is None else channel.previous.upper)
    assert_same(np.array(previous, dtype=np.float64), np.r_[np.nan, upper][: len(upper)], b)


@given(series(), WINDOW)
def test_percentile_rank_online_equals_batch(x: np.ndarray, n: int) -> None:
    """PercentileRank(n) equals percentile_rank(x, n)."""
    assert_same(feed(inc.PercentileRank(n), x), v.percentile_rank(x, n))


def test_percentile_rank_online_equals_batch_when_window_spans_many_blocks() -> None:
    """A long window (many sorted blocks, with ties from rounding) still ranks as in batch."""
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=12_000), 2)
    assert_same(feed(inc.PercentileRank(6_000), x), v.percentile_rank(x, 6_000))
