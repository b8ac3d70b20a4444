"""The regime classifier: LEARNING.md section 3 rules, hysteresis, dwell, and no look-ahead."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_stubs import candles_from_closes
from trading_agent.domain.regime import (
    UNKNOWN_REGIME,
    Regime,
    RegimeClassifier,
    RegimeParams,
    RegimeParamsError,
    Trend,
    Volatility,
    dwell_step,
    trend_label,
    volatility_label,
)

HIGH, LOW = Volatility.HIGH, Volatility.LOW
SMALL = RegimeParams(vol_window=3, rank_window=8, adx_window=3, vr_window=6, vr_q=2, min_dwell=3)


def labels(closes: Sequence[float], params: RegimeParams) -> list[Regime]:
    classifier = RegimeClassifier(params)
    return [classifier.update(c) for c in candles_from_closes(f"{x:.6f}" for x in closes)]


def path(steps: Sequence[int] | np.ndarray) -> list[float]:
    """Closes from steps in tenths of a percent."""
    return list(100.0 * np.exp(np.cumsum(np.asarray(steps, dtype=float) / 1000.0)))


def runs(seq: Sequence[object]) -> list[int]:
    """Lengths of the runs of equal consecutive items."""
    out: list[int] = []
    for i, item in enumerate(seq):
        if i and item == seq[i - 1]:
            out[-1] += 1
        else:
            out.append(1)
    return out


# ---------------------------------------------------------------- parameters


def test_params_when_defaulted_then_learning_md_production_values() -> None:
    """Defaults: p80 in, p65 out, ADX(14) 25/20, VR(12) z +/-1, dwell 6, 24 h RV over 90 days."""
    p = RegimeParams()
    assert (p.vol_enter_high, p.vol_exit_high) == (0.80, 0.65)
    assert (p.adx_window, p.adx_trend_above, p.adx_range_below) == (14, 25.0, 20.0)
    assert (p.vr_q, p.vr_z_trend_above, p.vr_z_range_below) == (12, 1.0, -1.0)
    assert (p.min_dwell, p.vol_window, p.rank_window) == (6, 24, 90 * 24)


def test_params_when_several_bad_then_every_problem_reported() -> None:
    """One error lists all problems, so a bad config is fixed in one pass."""
    with pytest.raises(RegimeParamsError) as caught:
        RegimeParams(vol_window=1, min_dwell=0, vol_enter_high=0.5, vr_window=12)
    message = str(caught.value)
    for fragment in ("vol_window", "min_dwell", "vol_exit_high <= vol_enter_high", "vr_window"):
        assert fragment in message


def test_params_when_trend_thresholds_inverted_then_refused() -> None:
    """A RANGE threshold above the TREND one would make the labels overlap."""
    with pytest.raises(RegimeParamsError, match="adx_range_below must not exceed"):
        RegimeParams(adx_range_below=30.0)
    with pytest.raises(RegimeParamsError, match="vr_z_range_below must not exceed"):
        RegimeParams(vr_z_range_below=2.0)


# ---------------------------------------------------------------- the pure rules


@pytest.mark.parametrize(
    ("adx", "z", "expected"),
    [
        (30.0, 2.0, Trend.TREND),
        (30.0, 0.5, Trend.NEUTRAL),  # ADX alone is not enough: VR must confirm
        (30.0, -1.5, Trend.RANGE),
        (15.0, 2.0, Trend.RANGE),
        (22.0, 0.0, Trend.NEUTRAL),
        (25.0, 2.0, Trend.NEUTRAL),  # strictly above 25
        (20.0, 0.0, Trend.NEUTRAL),  # strictly below 20
        (30.0, 1.0, Trend.NEUTRAL),  # strictly above z = 1
    ],
)
def test_trend_label_when_adx_and_vr_z_given_then_learning_md_rule(
    adx: float, z: float, expected: Trend
) -> None:
    """TREND: ADX > 25 and z > 1; RANGE: ADX < 20 or z < -1; else NEUTRAL."""
    assert trend_label(adx, z, RegimeParams()) is expected


@pytest.mark.parametrize(
    ("current", "percentile", "expected"),
    [
        (LOW, 0.80, LOW),
        (LOW, 0.81, HIGH),
        (LOW, 0.70, LOW),
        (HIGH, 0.70, HIGH),
        (HIGH, 0.65, HIGH),
        (HIGH, 0.64, LOW),
    ],
)
def test_volatility_label_when_percentile_given_then_hysteresis(
    current: Volatility, percentile: float, expected: Volatility
) -> None:
    """Enter HIGH strictly above p80, leave strictly below p65, hold in between."""
    assert volatility_label(current, percentile, RegimeParams()) is expected


def fold_volatility(percentiles: Sequence[float], params: RegimeParams) -> list[Volatility]:
    """The volatility labels a percentile path gets, trend held fixed, from a long-held LOW."""
    shown, held = Regime(trend=Trend.NEUTRAL, volatility=LOW), params.min_dwell
    out = []
    for pct in percentiles:
        proposed = Regime(
            trend=Trend.NEUTRAL, volatility=volatility_label(shown.volatility, pct, params)
        )
        shown, held = dwell_step(shown, held, proposed, params.min_dwell)
        out.append(shown.volatility)
    return out


def test_hysteresis_when_vol_crosses_p80_then_sits_in_band_then_falls_then_high_then_low() -> None:
    """Above p80 turns HIGH; between p65 and p80 stays HIGH; below p65 turns LOW."""
    pcts = [0.5] * 3 + [0.85] + [0.7] * 10 + [0.6] * 2
    assert fold_volatility(pcts, RegimeParams()) == [LOW] * 3 + [HIGH] * 11 + [LOW] * 2


def test_hysteresis_when_vol_falls_below_p65_inside_the_dwell_then_low_only_after_6_bars() -> None:
    """A fall right after turning HIGH waits out the 6-bar dwell, then turns LOW."""
    pcts = [0.85] + [0.6] * 8
    assert fold_volatility(pcts, RegimeParams()) == [HIGH] * 6 + [LOW] * 3


def test_dwell_step_when_held_shorter_than_dwell_then_change_refused() -> None:
    """Held 5 of 6 bars: the old label stays and is now held 6; a later proposal may change it."""
    a = Regime(trend=Trend.TREND, volatility=LOW)
    b = Regime(trend=Trend.RANGE, volatility=LOW)
    assert dwell_step(a, 5, b, 6) == (a, 6)
    assert dwell_step(a, 6, b, 6) == (b, 1)
    assert dwell_step(a, 2, a, 6) == (a, 3)


# ---------------------------------------------------------------- the classifier


@pytest.mark.parametrize(
    "params",
    [
        RegimeParams(vol_window=3, rank_window=5, adx_window=10, vr_window=8, vr_q=2),
        RegimeParams(vol_window=3, rank_window=5, adx_window=3, vr_window=30, vr_q=2),
        RegimeParams(vol_window=6, rank_window=20, adx_window=3, vr_window=8, vr_q=2),
    ],
)
def test_classifier_when_warming_up_then_unknown_until_warmup_bars(params: RegimeParams) -> None:
    """UNKNOWN_REGIME and not warm for warmup_bars - 1 bars, warm from bar warmup_bars."""
    classifier = RegimeClassifier(params)
    closes = path(np.resize([3, -5, 8, -2, 1, 7], params.warmup_bars + 5))
    warm = []
    for candle in candles_from_closes(f"{x:.6f}" for x in closes):
        regime = classifier.update(candle)
        warm.append(classifier.is_warm)
        if not classifier.is_warm:
            assert regime == UNKNOWN_REGIME
    assert warm.index(True) == params.warmup_bars - 1


def test_classifier_when_price_flat_then_range_low_vol_without_error() -> None:
    """No movement: ADX 0 means RANGE; the undefined variance ratio counts as no evidence."""
    out = labels([100.0] * 40, SMALL)
    assert set(out[SMALL.warmup_bars - 1 :]) == {Regime(trend=Trend.RANGE, volatility=LOW)}


STEPS = st.lists(st.integers(-30, 30), max_size=80)


@given(STEPS, st.data())
def test_classifier_when_future_bars_change_then_past_labels_do_not(
    steps: list[int], data: st.DataObject
) -> None:
    """No look-ahead: a prefix labels as the full series does, whatever follows it."""
    k = data.draw(st.integers(0, len(steps)), label="prefix length")
    future = data.draw(STEPS, label="replacement future")
    full = labels(path(steps), SMALL)
    assert labels(path(steps[:k]), SMALL) == full[:k]
    assert labels(path(steps[:k] + future), SMALL)[:k] == full[:k]


@given(st.lists(st.integers(-40, 40), min_size=20, max_size=150))
def test_classifier_when_labels_change_then_each_label_held_at_least_dwell_bars(
    steps: list[int],
) -> None:
    """Dwell: after warm-up, every label but the last lasts >= min_dwell bars."""
    params = RegimeParams(vol_window=3, rank_window=6, adx_window=2, vr_window=5, vr_q=2)
    out = labels(path(steps), params)[params.warmup_bars - 1 :]
    assert all(length >= params.min_dwell for length in runs(out)[:-1])


def reference_percentiles(closes: Sequence[float], params: RegimeParams) -> np.ndarray:
    """Realized vol by pandas, mid-ranked among the rank_window values before it."""
    rv = np.log(pd.Series(closes)).diff().rolling(params.vol_window).std(ddof=1).to_numpy()
    out = np.full(len(rv), np.nan)
    r = params.rank_window
    for t in range(params.vol_window + r, len(rv)):
        past = rv[t - r : t]
        out[t] = (np.sum(past < rv[t]) + 0.5 * np.sum(past == rv[t])) / r
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_classifier_when_vol_switches_then_changes_only_as_hysteresis_allows(seed: int) -> None:
    """On a vol-switching path, HIGH starts only above p80 and ends only below p65 (pandas
    percentiles), and a crossing is ignored only while the dwell holds."""
    params = RegimeParams(vol_window=10, rank_window=100, adx_window=5, vr_window=20, vr_q=2)
    rng = np.random.default_rng(seed)
    sigma = np.repeat(rng.choice([0.002, 0.004, 0.012], size=60), rng.integers(5, 40, size=60))
    closes = list(100.0 * np.exp(np.cumsum(rng.normal(0.0, sigma))))
    out = labels(closes, params)
    pct = reference_percentiles([float(f"{x:.6f}") for x in closes], params)
    start = params.warmup_bars - 1
    held = runs(out[start:])
    held_before = [n for length in held for n in range(1, length + 1)]  # bars shown so far
    in_band = {HIGH: 0, LOW: 0}
    for t in range(start + 1, len(out)):
        before, now, p = out[t - 1].volatility, out[t].volatility, pct[t]
        dwell_over = held_before[t - 1 - start] >= params.min_dwell
        if now is not before:
            assert p > 0.80 if now is HIGH else p < 0.65
        elif (before is LOW and p > 0.80) or (before is HIGH and p < 0.65):
            assert not dwell_over
        if 0.65 <= p <= 0.80:
            in_band[now] += 1
    # The band between p65 and p80 was exercised in both states.
    assert in_band[HIGH] > 0
    assert in_band[LOW] > 0


def test_classifier_when_strong_persistent_trend_then_mostly_trend() -> None:
    """Drifting, positively autocorrelated returns (rho 0.6): ADX high and VR z > 1 (seeded)."""
    params = RegimeParams()
    rng = np.random.default_rng(11)
    e = rng.normal(0.0, 0.004, params.warmup_bars + 500)
    r = np.zeros_like(e)
    for t in range(1, len(e)):
        r[t] = 0.6 * r[t - 1] + e[t]
    out = labels(list(100.0 * np.exp(np.cumsum(r + 0.002))), params)[params.warmup_bars :]
    share = sum(regime.trend is Trend.TREND for regime in out) / len(out)
    assert share > 0.8


def test_classifier_when_mean_reverting_ar1_then_range() -> None:
    """An AR(1) price with rho = -0.5 has strongly negative return autocorrelation: RANGE."""
    params = RegimeParams()
    rng = np.random.default_rng(12)
    e = rng.normal(0.0, 0.5, params.warmup_bars + 500)
    x = np.zeros_like(e)
    for t in range(1, len(e)):
        x[t] = -0.5 * x[t - 1] + e[t]
    out = labels(list(100.0 + x), params)[params.warmup_bars :]
    assert all(regime.trend is Trend.RANGE for regime in out)


def test_classifier_when_candle_out_of_order_or_other_product_then_refused() -> None:
    """One classifier follows one product forward in time; a repeat or a mix-up is a bug."""
    first, second = candles_from_closes(["100", "101"])
    classifier = RegimeClassifier(SMALL)
    classifier.update(second)
    with pytest.raises(ValueError, match="does not follow"):
        classifier.update(first)
    with pytest.raises(ValueError, match="does not follow"):
        classifier.update(candles_from_closes(["100", "101", "102"], product_id="ETH-USD")[2])
