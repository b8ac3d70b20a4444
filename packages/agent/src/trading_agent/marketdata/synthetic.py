"""Seeded synthetic candles whose truth is known, for tests and for checking research.

A strategy test on real data cannot tell a bug from a bad market; on these series the
answer is known in advance: GBM has no edge, AR(1) has exactly autocorrelation `rho`,
a regime-switching series comes with its true regime path, and a planted edge comes
with its true effect size. Every generator takes a seed or a `numpy.random.Generator`
and draws in a fixed order, so the same seed gives the same candles.

All models produce close-to-close log returns r_t. `candles_from_returns` turns them
into candles: the close follows the returns, each bar opens at the previous close, and
high/low come from a Brownian bridge from open to close with `intrabar_steps` points
(for GBM this is the exact law of the path inside the bar). Prices are rounded to the
tick and volumes to the lot as Decimal; rounding is monotone, so low <= open, close
<= high survives it. Time is bar-indexed: `mu` and `sigma` are per bar, not per year.
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

from trading_agent.domain.market import NS_PER_S, Candle

__all__ = [
    "CALM_VOLATILE",
    "DEFAULT_MARKET",
    "TREND_REVERT",
    "PlantedEdge",
    "RegimeSeries",
    "RegimeSpec",
    "SyntheticMarket",
    "ar1",
    "candles_from_returns",
    "gbm",
    "planted_edge",
    "regime_switching",
]

FloatArray = npt.NDArray[np.float64]
Seed = int | np.random.Generator


class SyntheticMarket(msgspec.Struct, frozen=True, kw_only=True):
    """How returns become candles: product, grid, start price, tick, lot and volume."""

    product_id: str = "SYN-USD"
    start_ns: int = 1_704_067_200 * NS_PER_S  # 2024-01-01 00:00 UTC, on every daily grid
    granularity_s: int = 60
    start_price: Decimal = Decimal(10_000)
    tick: Decimal = Decimal("0.01")
    lot: Decimal = Decimal("0.0001")
    mean_volume: float = 10.0
    intrabar_steps: int = 4

    def __post_init__(self) -> None:
        if self.granularity_s <= 0 or self.start_ns % (self.granularity_s * NS_PER_S):
            raise ValueError(
                f"start_ns {self.start_ns} must lie on the {self.granularity_s}s grid (> 0)"
            )
        if min(self.start_price, self.tick, self.lot) <= 0 or self.intrabar_steps < 1:
            raise ValueError("start_price, tick, lot must be positive and intrabar_steps >= 1")


DEFAULT_MARKET: Final = SyntheticMarket()


class RegimeSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One regime: returns of mean `mu`, stationary sd `sigma`, lag-1 autocorrelation `rho`."""

    name: str
    mu: float
    sigma: float
    rho: float = 0.0

    def __post_init__(self) -> None:
        if not (self.sigma > 0 and -1 < self.rho < 1):
            raise ValueError(f"regime {self.name}: need sigma > 0 and |rho| < 1")


CALM_VOLATILE: Final = (
    RegimeSpec(name="calm", mu=0.0, sigma=0.001),
    RegimeSpec(name="volatile", mu=0.0, sigma=0.004),
)
TREND_REVERT: Final = (
    RegimeSpec(name="trending", mu=0.0002, sigma=0.001, rho=0.3),
    RegimeSpec(name="mean_reverting", mu=0.0, sigma=0.001, rho=-0.3),
)
_STICKY: Final = ((0.99, 0.01), (0.02, 0.98))


class RegimeSeries(msgspec.Struct, frozen=True, kw_only=True):
    """Candles with the regime index (into `specs`) that generated each bar."""

    candles: list[Candle]
    regimes: tuple[int, ...]
    specs: tuple[RegimeSpec, ...]


class PlantedEdge(msgspec.Struct, frozen=True, kw_only=True):
    """Candles with a drift in one UTC hour, and the truth a strategy should find.

    `effect_size` is `drift_per_bar / sigma_per_bar`: the edge in noise units per bar.
    """

    candles: list[Candle]
    hour_utc: int
    drift_per_bar: float
    sigma_per_bar: float
    effect_size: float


def _generator(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def gbm(
    n: int, mu: float, sigma: float, rng: Seed, *, market: SyntheticMarket = DEFAULT_MARKET
) -> list[Candle]:
    """Geometric Brownian motion: log returns ~ N(mu - sigma^2/2, sigma^2) per bar."""
    _check_n(n)
    if sigma <= 0:
        raise ValueError(f"gbm: sigma must be positive, got {sigma}")
    gen = _generator(rng)
    returns = (mu - sigma**2 / 2) + sigma * gen.standard_normal(n)
    return candles_from_returns(returns, gen, intrabar_sigma=sigma, market=market)


def ar1(
    n: int,
    rho: float,
    sigma: float,
    rng: Seed,
    *,
    mu: float = 0.0,
    market: SyntheticMarket = DEFAULT_MARKET,
) -> list[Candle]:
    """Log returns r_t - mu = rho (r_{t-1} - mu) + eps_t, stationary sd `sigma`.

    eps_t ~ N(0, sigma^2 (1 - rho^2)) and r_0 is drawn from the stationary law, so the
    whole series is stationary (Hamilton 1994, ch. 3).
    """
    _check_n(n)
    RegimeSpec(name="ar1", mu=mu, sigma=sigma, rho=rho)  # the same parameter checks
    gen = _generator(rng)
    z = gen.standard_normal(n).tolist()
    innovation_sd = sigma * math.sqrt(1 - rho**2)
    returns = np.empty(n)
    e = sigma * z[0]
    returns[0] = mu + e
    for t in range(1, n):
        e = rho * e + innovation_sd * z[t]
        returns[t] = mu + e
    return candles_from_returns(returns, gen, intrabar_sigma=sigma, market=market)


def regime_switching(
    n: int,
    rng: Seed,
    *,
    specs: Sequence[RegimeSpec] = CALM_VOLATILE,
    transition: Sequence[Sequence[float]] = _STICKY,
    initial: int = 0,
    market: SyntheticMarket = DEFAULT_MARKET,
) -> RegimeSeries:
    """A Markov chain over `specs` (Hamilton 1989) with each regime an AR(1) as in `ar1`.

    `transition[i][j]` is P(next = j | now = i). The deviation from the regime mean
    carries over a switch, so the first bars after one mix both regimes; that decays
    as rho^k.
    """
    _check_n(n)
    cumulative = _check_chain(specs, transition, initial)
    gen = _generator(rng)
    u = gen.random(n).tolist()
    z = gen.standard_normal(n).tolist()
    states = [initial]
    for t in range(1, n):
        row = cumulative[states[-1]]
        # min() guards u against a last cumulative entry a hair below 1.0.
        states.append(min(int(np.searchsorted(row, u[t], side="right")), len(specs) - 1))
    returns = np.empty(n)
    sigmas = np.empty(n)
    e = 0.0
    for t, s in enumerate(states):
        spec = specs[s]
        scale = 1.0 if t == 0 else math.sqrt(1 - spec.rho**2)
        e = (spec.rho * e if t else 0.0) + scale * spec.sigma * z[t]
        returns[t] = spec.mu + e
        sigmas[t] = spec.sigma
    candles = candles_from_returns(returns, gen, intrabar_sigma=sigmas, market=market)
    return RegimeSeries(candles=candles, regimes=tuple(states), specs=tuple(specs))


def _check_chain(
    specs: Sequence[RegimeSpec], transition: Sequence[Sequence[float]], initial: int
) -> list[FloatArray]:
    k = len(specs)
    if k < 1 or not 0 <= initial < k:
        raise ValueError(f"regime_switching: need >= 1 regime and 0 <= initial < {k}")
    matrix = np.asarray(transition, dtype=np.float64)
    if matrix.shape != (k, k) or (matrix < 0).any():
        raise ValueError(f"regime_switching: transition must be {k}x{k} and non-negative")
    if not np.allclose(matrix.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("regime_switching: every transition row must sum to 1")
    return [np.cumsum(row) for row in matrix]


def planted_edge(
    n: int,
    rng: Seed,
    *,
    hour_utc: int = 14,
    drift: float = 0.0002,
    sigma: float = 0.001,
    market: SyntheticMarket = DEFAULT_MARKET,
) -> PlantedEdge:
    """Gaussian noise of sd `sigma` per bar plus `drift` on every bar starting in `hour_utc`.

    Outside that hour returns have mean 0; the edge is the only predictable part.
    """
    _check_n(n)
    if not 0 <= hour_utc < 24 or sigma <= 0 or 3600 % market.granularity_s:
        raise ValueError("planted_edge: need 0 <= hour_utc < 24, sigma > 0, bars dividing 1h")
    gen = _generator(rng)
    step_ns = market.granularity_s * NS_PER_S
    starts = market.start_ns + step_ns * np.arange(n, dtype=np.int64)
    in_hour = (starts // (3600 * NS_PER_S)) % 24 == hour_utc
    returns = drift * in_hour + sigma * gen.standard_normal(n)
    candles = candles_from_returns(returns, gen, intrabar_sigma=sigma, market=market)
    return PlantedEdge(
        candles=candles,
        hour_utc=hour_utc,
        drift_per_bar=drift,
        sigma_per_bar=sigma,
        effect_size=drift / sigma,
    )


def candles_from_returns(
    log_returns: FloatArray,
    rng: Seed,
    *,
    intrabar_sigma: float | FloatArray,
    market: SyntheticMarket = DEFAULT_MARKET,
) -> list[Candle]:
    """One candle per close-to-close log return, as the module docstring describes.

    Raises:
        ValueError: the price path leaves the float range (mu or sigma far too large).
    """
    gen = _generator(rng)
    r = np.asarray(log_returns, dtype=np.float64)
    n, k = len(r), market.intrabar_steps
    vol = np.broadcast_to(np.asarray(intrabar_sigma, dtype=np.float64), (n,))
    # Brownian bridge from 0 to r_t: W_j - (j/k) W_k + (j/k) r_t at j = 1..k.
    walk = np.cumsum(gen.standard_normal((n, k)) * (vol / math.sqrt(k))[:, None], axis=1)
    frac = np.arange(1, k + 1) / k
    bridge = walk - frac * walk[:, -1:] + frac * r[:, None]
    log_close = math.log(float(market.start_price)) + np.cumsum(r)
    log_open = np.concatenate(([math.log(float(market.start_price))], log_close[:-1]))
    # Clamped by open and close too: log_open + r_t and log_close differ in the last bit.
    log_high = np.maximum(np.maximum(log_open, log_close), log_open + bridge.max(axis=1))
    log_low = np.minimum(np.minimum(log_open, log_close), log_open + bridge.min(axis=1))
    volume = gen.gamma(2.0, market.mean_volume / 2.0, n)
    with np.errstate(over="ignore", invalid="ignore"):  # _ticks reports an overflow
        columns = [_ticks(np.exp(x), market.tick) for x in (log_open, log_high, log_low, log_close)]
    lots = np.rint(volume / float(market.lot)).astype(np.int64).tolist()
    step_ns = market.granularity_s * NS_PER_S
    return [
        Candle(
            product_id=market.product_id,
            start_ns=market.start_ns + i * step_ns,
            granularity_s=market.granularity_s,
            open=Decimal(o) * market.tick,
            high=Decimal(h) * market.tick,
            low=Decimal(lo) * market.tick,
            close=Decimal(c) * market.tick,
            volume=Decimal(v) * market.lot,
        )
        for i, (o, h, lo, c, v) in enumerate(zip(*columns, lots, strict=True))
    ]


def _ticks(prices: FloatArray, tick: Decimal) -> list[int]:
    ticks = np.rint(prices / float(tick))
    if not np.isfinite(ticks).all() or ticks.max(initial=0.0) > 2.0**62:
        raise ValueError("synthetic price path overflowed: lower mu or sigma, or n")
    # At least one tick: a price may not round to zero.
    out: list[int] = np.maximum(ticks, 1).astype(np.int64).tolist()
    return out


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"need at least one bar, got n={n}")
