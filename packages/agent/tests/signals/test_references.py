"""Each vectorized indicator against an independent reference: pandas, closed forms, identities."""

import math

import numpy as np
import pandas as pd
import pytest

from trading_agent.signals import vectorized as v

RNG_SEED = 20240611


def prices(n: int = 400, seed: int = RNG_SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))


def bars(n: int = 400, seed: int = RNG_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    close = prices(n, seed)
    high = close * (1.0 + rng.uniform(0.0, 0.02, n))
    low = close * (1.0 - rng.uniform(0.0, 0.02, n))
    return high, low, close


def wilder_ref(values: pd.Series, n: int) -> pd.Series:
    """Wilder's smoothing: pandas' ewm(alpha=1/n, adjust=False) from the mean of the first n."""
    raw = values.to_numpy()
    seeded = pd.Series(np.r_[raw[:n].mean(), raw[n:]], index=values.index[n - 1 :])
    return seeded.ewm(alpha=1.0 / n, adjust=False).mean().reindex(values.index)


def assert_matches(
    actual: np.ndarray, expected: pd.Series | np.ndarray, rtol: float = 1e-9
) -> None:
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), rtol=rtol, atol=1e-10)


# ---------------------------------------------------------------- moving averages


@pytest.mark.parametrize("n", [1, 5, 20])
def test_sma_when_compared_with_pandas_rolling_mean_then_equal(n: int) -> None:
    """SMA is pandas' rolling mean, NaN for the first n - 1 values."""
    x = prices()
    assert_matches(v.sma(x, n), pd.Series(x).rolling(n).mean())


@pytest.mark.parametrize("n", [1, 3, 12])
def test_ema_when_compared_with_pandas_ewm_seeded_by_sma_then_equal(n: int) -> None:
    """EMA is pandas' ewm(alpha = 2/(n+1), adjust=False) started from the SMA of the first n."""
    x = prices()
    seeded = pd.Series(np.r_[x[:n].mean(), x[n:]])
    expected = np.r_[np.full(n - 1, np.nan), seeded.ewm(alpha=2 / (n + 1), adjust=False).mean()]
    assert_matches(v.ema(x, n), expected)


def test_ema_when_hand_computed_then_equal() -> None:
    """EMA(3) of 1, 2, 3, 6: seed 2, then 2 + 0.5 (6 - 2) = 4."""
    assert_matches(v.ema([1.0, 2.0, 3.0, 6.0], 3), [np.nan, np.nan, 2.0, 4.0])


# ---------------------------------------------------------------- dispersion


@pytest.mark.parametrize("n", [2, 10, 30])
def test_zscore_when_compared_with_pandas_rolling_then_equal(n: int) -> None:
    """z = (x - rolling mean) / rolling sample sd (ddof = 1)."""
    s = pd.Series(prices())
    expected = (s - s.rolling(n).mean()) / s.rolling(n).std(ddof=1)
    assert_matches(v.zscore(s.to_numpy(), n), expected, rtol=1e-7)


def test_zscore_when_hand_computed_then_equal() -> None:
    """Window 1, 2, 3: mean 2, sample sd 1, so the z of 3 is 1."""
    assert_matches(v.zscore([1.0, 2.0, 3.0], 3), [np.nan, np.nan, 1.0])


@pytest.mark.parametrize(("n", "k"), [(1, 2.0), (20, 2.0), (10, 1.5)])
def test_bollinger_when_compared_with_pandas_population_sd_then_equal(n: int, k: float) -> None:
    """Bands are rolling mean +/- k rolling population sd (ddof = 0)."""
    s = pd.Series(prices())
    mean, sd = s.rolling(n).mean(), s.rolling(n).std(ddof=0)
    mid, upper, lower = v.bollinger(s.to_numpy(), n, k)
    assert_matches(mid, mean)
    assert_matches(upper, mean + k * sd, rtol=1e-8)
    assert_matches(lower, mean - k * sd, rtol=1e-8)


@pytest.mark.parametrize("n", [2, 24])
def test_realized_vol_when_compared_with_pandas_log_return_sd_then_equal(n: int) -> None:
    """RV is the rolling sample sd (ddof = 1) of log returns; NaN for the first n prices."""
    s = pd.Series(prices())
    expected = np.log(s).diff().rolling(n).std(ddof=1)
    assert_matches(v.realized_vol(s.to_numpy(), n), expected, rtol=1e-7)


def test_realized_vol_when_returns_alternate_then_closed_form() -> None:
    """Returns +a, -a, +a, -a: sample sd over 4 is a * sqrt(4/3)."""
    a = 0.01
    x = np.exp(np.cumsum([0.0, a, -a, a, -a]))
    assert v.realized_vol(x, 4)[-1] == pytest.approx(a * math.sqrt(4 / 3), rel=1e-9)


# ---------------------------------------------------------------- Wilder


@pytest.mark.parametrize("n", [1, 2, 14])
def test_rsi_when_compared_with_pandas_wilder_then_equal(n: int) -> None:
    """RSI = 100 AG / (AG + AL) with AG, AL Wilder-smoothed gains and losses."""
    s = pd.Series(prices())
    change = s.diff().iloc[1:]
    gain = wilder_ref(change.clip(lower=0.0), n)
    loss = wilder_ref((-change).clip(lower=0.0), n)
    expected = np.r_[np.nan, 100.0 - 100.0 / (1.0 + gain / loss)]
    assert_matches(v.rsi(s.to_numpy(), n), expected, rtol=1e-8)


def test_rsi_when_hand_computed_then_equal() -> None:
    """RSI(2) of 1, 2, 4, 3: seed AG 1.5, AL 0 gives 100; then AG .75, AL .5 gives 60."""
    assert_matches(v.rsi([1.0, 2.0, 4.0, 3.0], 2), [np.nan, np.nan, 100.0, 60.0])


def test_rsi_when_strictly_rising_or_falling_then_100_or_0() -> None:
    """No losses at all gives exactly 100; no gains at all exactly 0."""
    rising = np.arange(1.0, 40.0)
    assert np.all(v.rsi(rising, 14)[14:] == 100.0)
    assert np.all(v.rsi(rising[::-1], 14)[14:] == 0.0)


def true_range_ref(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    prev = close.shift(1)
    tr = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(axis=1)
    return tr.fillna(high - low)


@pytest.mark.parametrize("n", [1, 3, 14])
def test_atr_when_compared_with_pandas_wilder_true_range_then_equal(n: int) -> None:
    """ATR is Wilder's smoothing of the true range, the first bar's TR being high - low."""
    h, lo, c = (pd.Series(a) for a in bars())
    assert_matches(v.atr(h, lo, c, n), wilder_ref(true_range_ref(h, lo, c), n))


def adx_ref(high: pd.Series, low: pd.Series, close: pd.Series, n: int) -> pd.Series:
    """Wilder's ADX as published: DI from smoothed DM over smoothed TR, then smoothed DX."""
    up, down = high.diff(), -low.diff()
    plus = up.where((up > down) & (up > 0), 0.0).iloc[1:]
    minus = down.where((down > up) & (down > 0), 0.0).iloc[1:]
    tr = true_range_ref(high, low, close).iloc[1:]
    atr = wilder_ref(tr, n)
    plus_di = 100.0 * wilder_ref(plus, n) / atr
    minus_di = 100.0 * wilder_ref(minus, n) / atr
    di_sum = plus_di + minus_di
    # No directional movement at all is 0/0; the documented convention is DX = 0.
    dx = (100.0 * (plus_di - minus_di).abs() / di_sum).where(di_sum != 0.0, 0.0).dropna()
    return wilder_ref(dx, n).reindex(high.index)


@pytest.mark.parametrize("n", [1, 3, 14])
def test_adx_when_compared_with_pandas_di_formulas_then_equal(n: int) -> None:
    """ADX from the DM/TR formulas with pandas equals ours (the TR cancels in DX)."""
    h, lo, c = (pd.Series(a) for a in bars())
    assert_matches(v.adx(h, lo, c, n), adx_ref(h, lo, c, n), rtol=1e-8)


def test_adx_when_bars_rise_steadily_then_100() -> None:
    """Every bar a higher high and higher low: only +DM, so DX and ADX are 100."""
    t = np.arange(40.0)
    adx = v.adx(t + 1.0, t, t + 0.5, 5)
    assert np.all(np.isnan(adx[:9]))
    np.testing.assert_allclose(adx[9:], 100.0)


# ---------------------------------------------------------------- efficiency and channels


@pytest.mark.parametrize("n", [1, 10])
def test_efficiency_ratio_when_compared_with_pandas_then_equal(n: int) -> None:
    """ER = |diff(n)| / rolling sum of |diff(1)|."""
    s = pd.Series(prices())
    expected = s.diff(n).abs() / s.diff().abs().rolling(n).sum()
    assert_matches(v.efficiency_ratio(s.to_numpy(), n), expected)


def test_efficiency_ratio_when_monotone_then_1_and_when_back_and_forth_then_0() -> None:
    """A monotone window moves all its path (ER 1); 1, 2, 1, 2, 1 ends where it began (ER 0)."""
    assert np.all(v.efficiency_ratio(np.cumsum(np.arange(1.0, 30.0)), 7)[7:] == 1.0)
    assert v.efficiency_ratio([1.0, 2.0, 1.0, 2.0, 1.0], 4)[-1] == 0.0


@pytest.mark.parametrize("n", [1, 20])
def test_donchian_when_compared_with_pandas_rolling_extremes_then_equal(n: int) -> None:
    """Upper is the rolling max of highs and lower the rolling min of lows, current bar included."""
    h, lo, _ = bars()
    upper, lower = v.donchian(h, lo, n)
    assert_matches(upper, pd.Series(h).rolling(n).max())
    assert_matches(lower, pd.Series(lo).rolling(n).min())


def test_percentile_rank_when_compared_with_counting_then_equal() -> None:
    """Mid-rank of x_t among the n values before it, counted directly."""
    x = np.round(prices(), 0)  # rounding makes ties, which count half
    n = 15
    expected = [np.nan] * n + [
        (np.sum(x[t - n : t] < x[t]) + 0.5 * np.sum(x[t - n : t] == x[t])) / n
        for t in range(n, len(x))
    ]
    assert_matches(v.percentile_rank(x, n), expected)


# ---------------------------------------------------------------- variance ratio


def variance_ratio_ref(x: np.ndarray, n: int, q: int) -> tuple[list[float], list[float]]:
    """Lo & MacKinlay (1988) in their notation, on log prices p_0 .. p_n of each window."""
    ratios, zs = [math.nan] * n, [math.nan] * n
    m = q * (n - q + 1) * (1 - q / n)
    phi = 2 * (2 * q - 1) * (q - 1) / (3 * q * n)
    for t in range(n, len(x)):
        p = np.log(x[t - n : t + 1])
        mu = (p[-1] - p[0]) / n
        sigma_a2 = np.sum((p[1:] - p[:-1] - mu) ** 2) / (n - 1)
        sigma_c2 = np.sum((p[q:] - p[:-q] - q * mu) ** 2) / m
        ratios.append(sigma_c2 / sigma_a2)
        zs.append((sigma_c2 / sigma_a2 - 1) / math.sqrt(phi))
    return ratios, zs


@pytest.mark.parametrize(("n", "q"), [(3, 2), (50, 5), (120, 12)])
def test_variance_ratio_when_compared_with_log_price_formulas_then_equal(n: int, q: int) -> None:
    """VR and z equal Lo & MacKinlay's formulas written on log prices."""
    x = prices()
    ratio, z = v.variance_ratio(x, n, q)
    ref_ratio, ref_z = variance_ratio_ref(x, n, q)
    assert_matches(ratio, ref_ratio, rtol=1e-7)
    assert_matches(z, ref_z, rtol=1e-7)


def test_variance_ratio_when_gaussian_random_walk_then_near_1_with_small_z() -> None:
    """Under i.i.d. Gaussian returns VR(q) is about 1 and z about N(0, 1) (seeded)."""
    x = prices(6001)
    ratio, z = v.variance_ratio(x, 6000, 10)
    assert abs(ratio[-1] - 1.0) < 0.1
    assert abs(z[-1]) < 3.0


@pytest.mark.parametrize(("rho", "sign"), [(0.4, 1.0), (-0.4, -1.0)])
def test_variance_ratio_when_returns_autocorrelated_then_z_has_its_sign(
    rho: float, sign: float
) -> None:
    """Positively autocorrelated returns give VR > 1 (z > 3); negatively, VR < 1 (z < -3)."""
    rng = np.random.default_rng(RNG_SEED)
    e = rng.normal(0.0, 0.01, 3001)
    r = np.zeros_like(e)
    for t in range(1, len(e)):
        r[t] = rho * r[t - 1] + e[t]
    ratio, z = v.variance_ratio(100.0 * np.exp(np.cumsum(r)), 3000, 8)
    assert sign * (ratio[-1] - 1.0) > 0.0
    assert sign * z[-1] > 3.0
