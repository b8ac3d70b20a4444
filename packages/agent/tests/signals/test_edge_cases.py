"""Degenerate inputs: constant series, n = 1, series shorter than the warm-up, empty arrays."""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from trading_agent.signals import BollingerBands, DonchianChannel
from trading_agent.signals import incremental as inc
from trading_agent.signals import vectorized as v

FLAT = np.full(30, 7.25)


def test_zscore_when_window_constant_then_none_and_nan_not_a_division_error() -> None:
    """A constant window has sd 0 and so no z-score: None online, NaN in batch."""
    z = inc.ZScore(5)
    assert [z.update(7.25) for _ in range(10)] == [None] * 10
    assert z.value is None
    assert np.all(np.isnan(v.zscore(FLAT, 5)))


def test_zscore_when_window_stops_being_constant_then_defined_again() -> None:
    """After a move the window varies again and the z-score is back (here 4 equal, one +1)."""
    z = inc.ZScore(5)
    for _ in range(9):
        z.update(7.25)
    # Window 7.25 x4, 8.25: mean 7.45, sample sd sqrt(0.2), so z = 0.8 / sqrt(0.2).
    assert z.update(8.25) == pytest.approx(0.8 / math.sqrt(0.2))


def test_bollinger_when_constant_then_bands_collapse_to_the_value() -> None:
    """Zero deviation: upper = mid = lower = the constant, exactly."""
    b = inc.Bollinger(5, 2.0)
    results = [b.update(7.25) for _ in range(6)]
    assert results[-1] == BollingerBands(mid=7.25, upper=7.25, lower=7.25)
    mid, upper, lower = v.bollinger(FLAT, 5, 2.0)
    for band in (mid, upper, lower):
        assert np.all(band[4:] == 7.25)


def test_flat_series_when_measured_then_documented_neutral_values() -> None:
    """No movement: RV 0, ER 0, RSI 50, ADX 0, ATR = high - low, rank 0.5, SMA = EMA = value."""
    n = 4
    assert np.all(v.realized_vol(FLAT, n)[n:] == 0.0)
    assert np.all(v.efficiency_ratio(FLAT, n)[n:] == 0.0)
    assert np.all(v.rsi(FLAT, n)[n:] == 50.0)
    assert np.all(v.adx(FLAT + 1.0, FLAT - 1.0, FLAT, n)[2 * n - 1 :] == 0.0)
    assert np.all(v.atr(FLAT + 1.0, FLAT - 1.0, FLAT, n)[n - 1 :] == 2.0)
    assert np.all(v.percentile_rank(FLAT, n)[n:] == 0.5)
    assert np.all(v.sma(FLAT, n)[n - 1 :] == 7.25)
    assert np.all(v.ema(FLAT, n)[n - 1 :] == 7.25)


def test_variance_ratio_when_returns_all_equal_then_undefined() -> None:
    """Equal returns (a flat or exactly geometric path) have no variance: None and NaN."""
    geometric = 2.0 ** np.arange(20.0)
    vr = inc.VarianceRatio(6, 2)
    assert all(vr.update(float(x)) is None for x in geometric)
    for path in (FLAT, geometric):
        ratio, z = v.variance_ratio(path, 6, 2)
        assert np.all(np.isnan(ratio))
        assert np.all(np.isnan(z))


def test_donchian_when_constant_then_channel_is_the_bar() -> None:
    """Identical bars: upper is the high and lower the low."""
    d = inc.Donchian(3)
    results = [d.update(8.0, 6.0) for _ in range(4)]
    assert results[-1] == DonchianChannel(upper=8.0, lower=6.0)
    assert d.previous == DonchianChannel(upper=8.0, lower=6.0)


# ---------------------------------------------------------------- n = 1


def test_window_of_one_when_fed_then_each_result_comes_from_the_latest_input() -> None:
    """n = 1: SMA and EMA echo x; Bollinger collapses; ER is 1 or 0; Donchian is the bar."""
    xs = [3.0, 5.0, 5.0, 2.0]
    assert [inc.SMA(1).update(x) for x in xs] == xs
    ema = inc.EMA(1)
    assert [ema.update(x) for x in xs] == xs
    boll = inc.Bollinger(1, 3.0)
    assert [boll.update(x) for x in xs][-1] == BollingerBands(mid=2.0, upper=2.0, lower=2.0)
    er = inc.EfficiencyRatio(1)
    assert [er.update(x) for x in xs] == [None, 1.0, 0.0, 1.0]
    assert inc.Donchian(1).update(9.0, 4.0) == DonchianChannel(upper=9.0, lower=4.0)


def test_wilder_window_of_one_when_fed_then_no_smoothing() -> None:
    """n = 1: RSI is 100, 0 or 50 by the sign of the change; ATR is each bar's true range."""
    rsi = inc.RSI(1)
    assert [rsi.update(x) for x in [3.0, 5.0, 4.0, 4.0]] == [None, 100.0, 0.0, 50.0]
    atr = inc.ATR(1)
    assert atr.update(10.0, 8.0, 9.0) == 2.0
    assert atr.update(15.0, 12.0, 14.0) == 6.0  # gap up: high - previous close


def test_percentile_rank_window_of_one_when_fed_then_compares_with_the_previous_value() -> None:
    """n = 1: rank 1 above the previous value, 0 below, 0.5 equal."""
    r = inc.PercentileRank(1)
    assert [r.update(x) for x in [2.0, 3.0, 1.0, 1.0]] == [None, 1.0, 0.0, 0.5]


# ---------------------------------------------------------------- shorter than the warm-up


FACTORIES: dict[str, Callable[[], Any]] = {
    "SMA": lambda: inc.SMA(10),
    "EMA": lambda: inc.EMA(10),
    "ZScore": lambda: inc.ZScore(10),
    "Bollinger": lambda: inc.Bollinger(10, 2.0),
    "RSI": lambda: inc.RSI(10),
    "RealizedVol": lambda: inc.RealizedVol(10),
    "EfficiencyRatio": lambda: inc.EfficiencyRatio(10),
    "VarianceRatio": lambda: inc.VarianceRatio(10, 3),
    "PercentileRank": lambda: inc.PercentileRank(10),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_online_when_fed_warmup_minus_one_values_then_none_then_a_value(name: str) -> None:
    """`warmup - 1` updates give None; the `warmup`-th gives a result."""
    obj = FACTORIES[name]()
    xs = 100.0 + np.sin(np.arange(obj.warmup))  # varying, so every indicator is defined
    results = [obj.update(float(x)) for x in xs]
    assert results[:-1] == [None] * (obj.warmup - 1)
    assert results[-1] is not None
    assert obj.value == results[-1]


@pytest.mark.parametrize(("obj", "warmup"), [(inc.ATR(5), 5), (inc.ADX(5), 10)])
def test_bar_indicators_when_fed_warmup_minus_one_bars_then_none_then_a_value(
    obj: inc.ATR | inc.ADX, warmup: int
) -> None:
    """ATR warms up in n bars and ADX in 2n."""
    results = [obj.update(10.0 + i, 9.0 + i, 9.5 + i) for i in range(warmup)]
    assert obj.warmup == warmup
    assert results[:-1] == [None] * (warmup - 1)
    assert results[-1] is not None


BATCH = {
    "sma": lambda x: v.sma(x, 10),
    "ema": lambda x: v.ema(x, 10),
    "zscore": lambda x: v.zscore(x, 10),
    "bollinger": lambda x: v.bollinger(x, 10, 2.0)[1],
    "rsi": lambda x: v.rsi(x, 10),
    "realized_vol": lambda x: v.realized_vol(x, 10),
    "efficiency_ratio": lambda x: v.efficiency_ratio(x, 10),
    "variance_ratio": lambda x: v.variance_ratio(x, 10, 3)[0],
    "percentile_rank": lambda x: v.percentile_rank(x, 10),
    "atr": lambda x: v.atr(x + 1, x - 1, x, 10),
    "adx": lambda x: v.adx(x + 1, x - 1, x, 10),
    "donchian": lambda x: v.donchian(x + 1, x - 1, 10)[0],
}


@pytest.mark.parametrize("name", BATCH)
@pytest.mark.parametrize("length", [0, 1, 5])
def test_batch_when_series_shorter_than_window_then_all_nan_of_same_length(
    name: str, length: int
) -> None:
    """Too short a series is all warm-up: NaN everywhere, the input's length."""
    out = BATCH[name](100.0 + np.arange(float(length)))
    assert out.shape == (length,)
    assert np.all(np.isnan(out))
