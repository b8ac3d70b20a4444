"""Correctness anchor T1 (LEARNING.md section 5): a strategy whose expected P&L on AR(1)
returns has a closed form, reproduced in two links.

1. The whole pipeline (candles -> engine -> gate -> paper venue -> fees -> books) trades
   `return_sign` exactly as a plain vectorized model of the same rule: same fills,
   same final equity.
2. That rule, simulated over 8 million AR(1) bars, earns the closed-form expectation
   to three significant figures (gross, position changes and net per bar).

The pipeline cannot run 8 million bars inside a test, and a vectorized model alone
would not prove the pipeline: together they do.
"""

import asyncio
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from console_stubs import WIDE_LIMITS, rows
from gate_process import write_config
from trading_agent.marketdata.replay import write_candle_parquet
from trading_agent.marketdata.synthetic import SyntheticMarket, ar1
from trading_console.backtest import BacktestSpec, run_backtest
from trading_console.cli import sim_fees

REPO = Path(__file__).resolve().parents[3]
FEE = 0.0002  # c = 2 bp per unit traded, as in LEARNING.md's check


def test_pipeline_when_trading_return_sign_on_ar1_then_matches_the_vectorized_rule(
    tmp_path: Path,
) -> None:
    """Link 1: the event-driven pipeline and the vectorized rule agree fill for fill."""
    market = SyntheticMarket(product_id="BTC-USD", start_price=Decimal(50_000))
    candles = ar1(12_000, rho=0.3, sigma=0.002, rng=20251201, market=market)
    data = tmp_path / "ar1.parquet"
    write_candle_parquet(data, candles)
    spec = BacktestSpec(
        strategies=("return_sign",),
        data={"BTC-USD": data},
        strategy_dir=REPO / "config" / "strategies",
        safety_config=write_config(tmp_path / "safety.yaml", **WIDE_LIMITS),
        run_dir=tmp_path / "run",
        starting_cash_usd=Decimal(100_000),
        fees=sim_fees(Decimal(2)),
        spread_bps=Decimal(0),
        participation=Decimal(1),
    )

    result = asyncio.run(run_backtest(spec))

    close = np.array([float(c.close) for c in candles])
    opens = np.array([float(c.open) for c in candles])
    starts = [c.start_ns for c in candles]
    expected: list[tuple[int, str, float]] = []
    cash, held = 100_000.0, False
    for t in range(1, len(candles) - 1):  # decided at close t, filled at open t+1
        up = close[t] > close[t - 1]
        if up != held:
            side, price = ("buy" if up else "sell"), opens[t + 1]
            expected.append((starts[t + 1], side, float(price)))
            cash += (-1 if up else 1) * 0.001 * price - FEE * 0.001 * price
            held = up
    equity = cash + (0.001 * close[-1] if held else 0.0)

    fills = rows(
        result.run_dir / "agent.db",
        "SELECT json_extract(body, '$.event_ns'), json_extract(body, '$.side'),"
        " CAST(json_extract(body, '$.price') AS REAL) FROM events WHERE kind = 'fill'"
        " ORDER BY seq",
    )
    assert len(expected) > 2_000
    assert fills == expected
    assert result.equity_usd[-1] == pytest.approx(equity, rel=1e-9)


def _ar1_returns(n: int, rho: float, sigma: float, seed: int) -> np.ndarray:
    """Stationary AR(1) returns: a moving average of the innovations, truncated where
    rho**k is below 1e-30 (far under float resolution), after a burn-in."""
    lags = math.ceil(math.log(1e-30) / math.log(abs(rho)))
    eps = np.random.default_rng(seed).normal(0.0, sigma * math.sqrt(1 - rho**2), n + lags)
    return np.convolve(eps, rho ** np.arange(lags))[lags : n + lags]


def test_return_sign_when_simulated_long_then_closed_form_to_three_figures() -> None:
    """Link 2: gross, position changes and net per bar match the closed form to 3 s.f."""
    rho, sigma, n = 0.3, 0.01, 8_000_000
    r = _ar1_returns(n, rho, sigma, seed=20251201)
    position = (r[:-1] > 0).astype(np.float64)  # long for bar t+1 after an up bar t
    gross = position * r[1:]
    changes = np.abs(np.diff(position))
    net = gross[1:] - FEE * changes

    exact_gross = rho * sigma / math.sqrt(2 * math.pi)
    exact_changes = 0.5 - math.asin(rho) / math.pi
    exact_net = exact_gross - FEE * exact_changes

    for simulated, exact in (
        (gross.mean(), exact_gross),
        (changes.mean(), exact_changes),
        (net.mean(), exact_net),
    ):
        assert f"{simulated:.2e}" == f"{exact:.2e}"  # three significant figures
        assert abs(simulated / exact - 1) < 0.005
