"""Run metrics against closed forms and independent references (pandas, brute force)."""

import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_stubs import trade
from trading_agent.analytics.metrics import (
    NS_PER_DAY,
    YEAR_NS,
    Metrics,
    MetricsError,
    compute_metrics,
    max_drawdown,
)

DAY0 = 19_700 * NS_PER_DAY  # a UTC midnight (2023-12-09)
HOUR = 3600 * 10**9
YEAR = int(YEAR_NS)


def metrics(ts: list[int], eq: list[float], notional: float = 0.0) -> Metrics:
    return compute_metrics(ts, eq, [], notional)


def _reference_daily_returns(ts: list[int], eq: list[float]) -> np.ndarray:
    """The module's convention rebuilt with pandas: start, then UTC day closes, ffilled,
    without the first day's close if the start is that day's only sample."""
    s = pd.Series(eq, index=pd.to_datetime(ts, unit="ns", utc=True))
    closes = s.resample("1D").last().ffill().to_numpy()
    alone = (s.index.floor("D") == s.index[0].floor("D")).sum() == 1
    path = np.array([s.iloc[0], *(closes[1:] if alone else closes)])
    return np.asarray(path[1:] / path[:-1] - 1.0)


# ---------------------------------------------------------------- growth and annualising


def test_compute_metrics_when_constant_growth_then_cagr_is_the_rate() -> None:
    """100 * 1.2^(t / year) daily for 3 years: CAGR 20 %; no deviation, so no Sharpe."""
    ts = [DAY0 + k * NS_PER_DAY for k in range(3 * 365 + 1)]
    eq = [100.0 * 1.2 ** ((t - DAY0) / YEAR_NS) for t in ts]

    m = metrics(ts, eq)

    assert m.cagr == pytest.approx(0.2, rel=1e-12)
    assert m.years == (3 * 365) / 365.25
    assert m.total_return == pytest.approx(1.2**m.years - 1.0, rel=1e-12)
    assert (m.sharpe, m.sortino) == (None, None)
    assert m.max_drawdown == 0.0


def test_compute_metrics_when_flat_equity_then_undefined_ratios_not_crash() -> None:
    """Flat equity: zero return and CAGR, no drawdown, Sharpe and Sortino None."""
    ts = [DAY0 + k * NS_PER_DAY for k in range(10)]

    m = metrics(ts, [500.0] * 10)

    assert (m.total_return, m.cagr, m.max_drawdown) == (0.0, 0.0, 0.0)
    assert (m.sharpe, m.sortino) == (None, None)
    assert (m.max_drawdown_start_ns, m.max_drawdown_trough_ns) == (None, None)


def test_compute_metrics_when_single_day_then_no_annualised_figures() -> None:
    """Hours of data: one daily return, so no Sharpe, and no CAGR under one day."""
    ts = [DAY0 + h * HOUR for h in range(6)]

    m = metrics(ts, [100.0, 101.0, 99.0, 102.0, 103.0, 104.0], notional=1000.0)

    assert m.daily_return_count == 1
    assert (m.cagr, m.sharpe, m.sortino) == (None, None, None)
    assert m.total_return == pytest.approx(0.04)
    assert m.turnover_per_year == pytest.approx(
        1000.0 / np.mean([100, 101, 99, 102, 103, 104]) / (5 * HOUR / YEAR_NS)
    )


def test_compute_metrics_when_single_sample_then_span_metrics_none() -> None:
    """One point: no time, so no CAGR, turnover or exposure."""
    m = metrics([DAY0], [100.0])

    assert (m.years, m.cagr, m.turnover_per_year, m.exposure) == (0.0, None, None, None)
    assert (m.final_equity, m.daily_return_count, m.sharpe) == (100.0, 0, None)


def test_compute_metrics_when_turnover_then_notional_over_mean_equity_per_year() -> None:
    """2,000,000 traded over exactly two years on a mean equity of 1,000: 1,000 a year."""
    m = metrics([DAY0, DAY0 + YEAR, DAY0 + 2 * YEAR], [900.0, 1000.0, 1100.0], 2_000_000.0)

    assert m.turnover_per_year == pytest.approx(1000.0, rel=1e-15)


# ---------------------------------------------------------------- Sharpe and Sortino


_NOON = DAY0 + 12 * HOUR
_SERIES = (
    [DAY0 + HOUR, _NOON, DAY0 + 23 * HOUR]  # three samples on day 0; the last is its close
    + [_NOON + k * NS_PER_DAY for k in (1, 2, 4, 5, 6, 9)]  # days 3, 7, 8 have no sample
)
_EQUITY = [1000.0, 1013.0, 1010.0, 990.0, 1004.85, 1007.0, 1003.0, 1024.0, 1018.5]


def test_compute_metrics_when_daily_series_then_sharpe_matches_pandas_reference() -> None:
    """Sharpe = mean / std(ddof=1) * sqrt(365) of pandas-resampled daily returns."""
    r = _reference_daily_returns(_SERIES, _EQUITY)

    m = metrics(_SERIES, _EQUITY)

    assert m.daily_return_count == len(r) == 10
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365), rel=1e-12)


def test_compute_metrics_when_daily_series_then_sortino_matches_downside_reference() -> None:
    """Sortino = mean / sqrt(mean(min(r, 0)^2)) * sqrt(365) over all days."""
    r = _reference_daily_returns(_SERIES, _EQUITY)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in r) / len(r))

    m = metrics(_SERIES, _EQUITY)

    assert m.sortino == pytest.approx(r.mean() / downside * math.sqrt(365), rel=1e-12)


def test_compute_metrics_when_only_up_days_then_sortino_none_and_sharpe_defined() -> None:
    """No down day: the downside deviation is zero, so Sortino is None (not inf)."""
    ts = [DAY0 + k * NS_PER_DAY for k in range(5)]
    eq = [100.0, 101.0, 103.0, 103.5, 106.0]

    m = metrics(ts, eq)

    r = np.diff(eq) / np.array(eq[:-1])
    assert m.sortino is None
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365), rel=1e-12)


# ---------------------------------------------------------------- drawdown


def test_max_drawdown_when_known_path_then_depth_and_times_exact() -> None:
    """100 120 90 120 80 130: 1/3 from the last 120 (the peak's last time), back at 130."""
    ts = [DAY0 + s for s in (0, 7, 19, 30, 31, 50)]

    m = metrics(ts, [100.0, 120.0, 90.0, 120.0, 80.0, 130.0])

    assert m.max_drawdown == pytest.approx(1 / 3, rel=1e-15)
    assert (m.max_drawdown_start_ns, m.max_drawdown_trough_ns, m.max_drawdown_recovery_ns) == (
        DAY0 + 30,
        DAY0 + 31,
        DAY0 + 50,
    )


def test_max_drawdown_when_not_recovered_then_recovery_none() -> None:
    """130 -> 60 and never back: recovery is None."""
    ts = [DAY0 + s for s in range(8)]

    m = metrics(ts, [100.0, 120.0, 90.0, 110.0, 120.0, 130.0, 60.0, 125.0])

    assert m.max_drawdown == pytest.approx(70 / 130, rel=1e-15)
    assert (m.max_drawdown_start_ns, m.max_drawdown_trough_ns) == (DAY0 + 5, DAY0 + 6)
    assert m.max_drawdown_recovery_ns is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1.0, 1e6), min_size=1, max_size=40))
def test_max_drawdown_when_random_curve_then_matches_brute_force(eq: list[float]) -> None:
    """The depth is the largest 1 - later / earlier over all ordered pairs."""
    brute = max(
        (1.0 - eq[j] / eq[i] for i in range(len(eq)) for j in range(i, len(eq))), default=0.0
    )

    dd = max_drawdown(np.arange(len(eq), dtype=np.int64), np.array(eq))

    assert dd.depth == pytest.approx(max(brute, 0.0), abs=1e-15)


# ---------------------------------------------------------------- trades and exposure


def test_compute_metrics_when_hand_trades_then_win_rate_and_expectancy() -> None:
    """+30 (1.5 R), -10 (-0.5 R), 0 (no stop), +20 (1 R): half win, 2/3 R, +10 a trade."""
    trades = [
        trade(net_pnl_usd=Decimal(30), r_multiple=Decimal("1.5")),
        trade(net_pnl_usd=Decimal(-10), r_multiple=Decimal("-0.5")),
        trade(net_pnl_usd=Decimal(0), r_multiple=None, risk_usd=None),
        trade(net_pnl_usd=Decimal(20), r_multiple=Decimal(1)),
    ]

    m = compute_metrics([DAY0, DAY0 + NS_PER_DAY], [100.0, 100.0], trades, Decimal(0))

    assert (m.trade_count, m.win_rate) == (4, 0.5)
    assert m.expectancy_r == pytest.approx(2 / 3, rel=1e-15)
    assert (m.expectancy_usd, m.average_win_usd, m.average_loss_usd) == (10.0, 25.0, -10.0)


def test_compute_metrics_when_no_trades_then_trade_stats_none() -> None:
    """Zero trades: a count of zero, no rates, no exposure."""
    m = metrics([DAY0, DAY0 + NS_PER_DAY], [100.0, 101.0])

    assert (m.trade_count, m.win_rate, m.expectancy_r, m.expectancy_usd) == (0, None, None, None)
    assert (m.average_win_usd, m.average_loss_usd, m.exposure) == (None, None, 0.0)


def test_compute_metrics_when_trades_overlap_or_stay_open_then_exposure_is_union() -> None:
    """Span 0..100; trades 10-30, 20-40, 90-120, open since 95: covered 10-40 and 90-100."""
    trades = [
        trade(entry_ns=DAY0 + 10, exit_ns=DAY0 + 30),
        trade(entry_ns=DAY0 + 20, exit_ns=DAY0 + 40),
        trade(entry_ns=DAY0 + 90, exit_ns=DAY0 + 120),
    ]

    m = compute_metrics([DAY0, DAY0 + 100], [1.0, 1.0], trades, 0.0, open_since_ns=[DAY0 + 95])

    assert m.exposure == pytest.approx(0.4, rel=1e-15)


# ---------------------------------------------------------------- shapes and output


@pytest.mark.parametrize(
    ("ts", "eq", "message"),
    [
        ([], [], "non-empty"),
        ([DAY0, DAY0 + 1], [1.0], "equal"),
        ([DAY0 + 1, DAY0], [1.0, 1.0], "go back at index 1"),
        ([DAY0, DAY0 + 1], [1.0, 0.0], "finite and > 0, got 0.0 at index 1"),
        ([DAY0], [math.nan], "finite"),
    ],
)
def test_compute_metrics_when_bad_curve_then_metrics_error(
    ts: list[int], eq: list[float], message: str
) -> None:
    """Empty, ragged, backwards or non-positive curves are refused, saying where."""
    with pytest.raises(MetricsError, match=message):
        metrics(ts, eq)


def test_compute_metrics_when_decimal_equity_then_same_as_float() -> None:
    """The portfolio's Decimal equity can be passed as it is."""
    ts = [DAY0, DAY0 + NS_PER_DAY, DAY0 + 2 * NS_PER_DAY]

    assert compute_metrics(ts, [Decimal("100"), Decimal("90.5"), Decimal("120")], [], 0) == (
        metrics(ts, [100.0, 90.5, 120.0])
    )


def test_to_dict_when_dumped_then_strict_json_with_every_field() -> None:
    """`--json` output: every field, no NaN or inf."""
    m = metrics(_SERIES, _EQUITY)

    d = m.to_dict()

    assert list(d) == list(Metrics.__struct_fields__)
    assert json.loads(json.dumps(d, allow_nan=False)) == d
