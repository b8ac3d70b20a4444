"""Synthetic generators: seeded, on the tick and grid, and with the statistics they promise.

Tolerances are about four standard errors of each estimate, so a correct generator
fails about once in 10^4 seeds; the seeds are fixed, so the tests are deterministic.
"""

import itertools
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pytest

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata import synthetic as syn
from trading_agent.marketdata.candles import CandleSeries

FloatArray = npt.NDArray[np.float64]

GENERATORS: dict[str, Callable[[int, int | np.random.Generator], list[Candle]]] = {
    "gbm": lambda n, rng: syn.gbm(n, 0.0, 0.002, rng),
    "ar1": lambda n, rng: syn.ar1(n, 0.4, 0.002, rng),
    "regime": lambda n, rng: syn.regime_switching(n, rng).candles,
    "edge": lambda n, rng: syn.planted_edge(n, rng).candles,
}


def log_returns(candles: list[Candle]) -> FloatArray:
    closes = np.array([float(c.close) for c in candles])
    return np.diff(np.log(np.concatenate(([float(candles[0].open)], closes))))


def lag1_autocorrelation(x: FloatArray) -> float:
    d = x - x.mean()
    return float(np.dot(d[:-1], d[1:]) / np.dot(d, d))


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_when_same_seed_then_same_candles_and_other_seed_differs(name: str) -> None:
    """A seed (int or Generator) fixes the output; another seed changes it."""
    make = GENERATORS[name]

    assert make(300, 7) == make(300, np.random.default_rng(7))
    assert make(300, 7) != make(300, 8)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_when_run_then_candles_on_tick_grid_and_chained(name: str) -> None:
    """Prices are whole ticks, each bar opens at the last close, and the bars form a gapless
    series (Candle itself checks low <= open, close <= high)."""
    candles = GENERATORS[name](2_000, 3)
    tick, lot = syn.DEFAULT_MARKET.tick, syn.DEFAULT_MARKET.lot

    assert all(p % tick == 0 and p > 0 for c in candles for p in (c.open, c.high, c.low, c.close))
    assert all(c.volume % lot == 0 for c in candles)
    assert all(b.open == a.close for a, b in itertools.pairwise(candles))
    assert candles[0].open == syn.DEFAULT_MARKET.start_price
    series = CandleSeries.from_candles(candles)
    assert (len(series), series.gaps) == (2_000, [])


def test_gbm_when_many_paths_then_log_return_mean_and_sd_match_parameters() -> None:
    """GBM log returns have mean mu - sigma^2/2 (Ito) and sd sigma per bar.

    500 paths of 100 bars: enough bars to see the sigma^2/2 term (11 standard errors
    here), short enough that no path wanders to where the tick distorts returns.
    """
    paths, n, mu, sigma = 500, 100, 0.001, 0.1
    rng = np.random.default_rng(11)

    r = np.concatenate([log_returns(syn.gbm(n, mu, sigma, rng)) for _ in range(paths)])

    assert abs(r.mean() - (mu - sigma**2 / 2)) < 4 * sigma / math.sqrt(paths * n)
    assert abs(r.std() / sigma - 1) < 4 / math.sqrt(2 * paths * n)


@pytest.mark.parametrize("rho", [0.5, -0.3])
def test_ar1_when_long_then_autocorrelation_near_rho_and_sd_near_sigma(rho: float) -> None:
    """AR(1) returns have lag-1 autocorrelation rho and stationary sd sigma."""
    n, sigma = 40_000, 0.002

    r = log_returns(syn.ar1(n, rho, sigma, 5))

    # Bartlett: the sample autocorrelation has sd about sqrt((1 - rho^2) / n).
    assert abs(lag1_autocorrelation(r) - rho) < 4 * math.sqrt((1 - rho**2) / n)
    assert abs(r.std() / sigma - 1) < 0.05


def test_regime_switching_when_long_then_each_regime_shows_its_own_statistics() -> None:
    """Bars labelled with a regime have that regime's sd, autocorrelation and mean."""
    specs = (
        syn.RegimeSpec(name="calm_trend", mu=0.0003, sigma=0.001, rho=0.4),
        syn.RegimeSpec(name="wild_revert", mu=0.0, sigma=0.004, rho=-0.3),
    )
    out = syn.regime_switching(60_000, 2, specs=specs, transition=((0.995, 0.005), (0.01, 0.99)))
    r = log_returns(out.candles)
    states = np.array(out.regimes)

    assert len(states) == len(out.candles) == 60_000
    assert out.specs == specs
    index = np.arange(len(states))
    last_switch = np.maximum.accumulate(np.where(np.diff(states, prepend=-1) != 0, index, 0))
    for k, spec in enumerate(specs):
        # Bars at least 10 steps into a regime, both of a pair inside it: transients gone.
        settled = (states == k) & (index - last_switch >= 10)
        x = r[settled]
        pairs = settled[1:] & settled[:-1]
        d0, d1 = r[:-1][pairs] - spec.mu, r[1:][pairs] - spec.mu
        assert abs(x.std() / spec.sigma - 1) < 0.05, spec.name
        assert abs(float(np.mean(d0 * d1)) / spec.sigma**2 - spec.rho) < 0.06, spec.name
        assert abs(x.mean() - spec.mu) < 4 * spec.sigma * math.sqrt(3 / len(x)), spec.name


def test_regime_switching_when_long_then_switch_rates_match_transition_matrix() -> None:
    """The returned path switches at the rates of the transition matrix."""
    out = syn.regime_switching(50_000, 4, transition=((0.98, 0.02), (0.05, 0.95)))
    s = np.array(out.regimes)

    leave_0 = np.mean(s[1:][s[:-1] == 0] == 1)
    leave_1 = np.mean(s[1:][s[:-1] == 1] == 0)

    assert abs(leave_0 - 0.02) < 0.004
    assert abs(leave_1 - 0.05) < 0.01


def test_planted_edge_when_long_then_edge_hour_mean_is_the_returned_effect() -> None:
    """Only bars starting in the planted UTC hour drift, by the returned drift per bar."""
    out = syn.planted_edge(60 * 24 * 30, 9, hour_utc=14, drift=0.0002, sigma=0.001)
    r = log_returns(out.candles)
    hours = np.array(
        [datetime.fromtimestamp(c.start_ns // NS_PER_S, UTC).hour for c in out.candles]
    )

    inside, outside = r[hours == 14], r[hours != 14]

    assert (out.hour_utc, out.drift_per_bar, out.effect_size) == (14, 0.0002, 0.2)
    assert abs(inside.mean() - out.drift_per_bar) < 4 * 0.001 / math.sqrt(len(inside))
    assert abs(outside.mean()) < 4 * 0.001 / math.sqrt(len(outside))


def test_candles_from_returns_when_market_given_then_product_grid_and_prices_follow_it() -> None:
    """A custom market sets product, start, granularity, tick and start price."""
    market = syn.SyntheticMarket(
        product_id="ETH-USD",
        start_ns=1_700_000_100 * NS_PER_S,
        granularity_s=300,
        start_price=Decimal(2_000),
        tick=Decimal("0.05"),
    )

    candles = syn.candles_from_returns(
        np.array([0.01, -0.02]), 1, intrabar_sigma=0.0, market=market
    )

    assert [c.start_ns for c in candles] == [1_700_000_100 * NS_PER_S, 1_700_000_400 * NS_PER_S]
    assert candles[0].product_id == "ETH-USD"
    assert candles[0].close == Decimal("2020.10")  # 2000 e^0.01 = 2020.100 to 0.05
    assert candles[1].close == Decimal("1980.10")  # 2000 e^-0.01 = 1980.099 to 0.05
    assert (candles[0].low, candles[0].high) == (candles[0].open, candles[0].close)


@pytest.mark.parametrize(
    "make",
    [
        lambda: syn.gbm(0, 0.0, 0.01, 1),
        lambda: syn.gbm(10, 0.0, 0.0, 1),
        lambda: syn.ar1(10, 1.0, 0.01, 1),
        lambda: syn.regime_switching(10, 1, transition=((0.5, 0.4), (0.5, 0.5))),
        lambda: syn.planted_edge(10, 1, hour_utc=24),
        lambda: syn.gbm(10, 50.0, 0.01, 1),
        lambda: syn.SyntheticMarket(start_ns=1),
    ],
)
def test_generator_when_parameters_invalid_then_value_error(make: Callable[[], object]) -> None:
    """Bad sizes, non-stationary rho, bad matrices, bad hours, overflow, off-grid start."""
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make()
