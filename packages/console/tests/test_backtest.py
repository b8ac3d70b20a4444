"""The backtest harness: the agent's engine, the gate's checks and the paper venue together."""

import asyncio
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trading_sim as sim
from console_stubs import WIDE_LIMITS, rows
from gate_process import write_config
from rule_stubs import rule_text, write_rule
from trading_agent.domain.market import Candle
from trading_console.backtest import BacktestError, BacktestResult, BacktestSpec, run_backtest
from trading_console.cli import sim_fees
from trading_gate.rule_files import load_rule_dir

REPO = Path(__file__).resolve().parents[3]
STRATEGIES = REPO / "config" / "strategies"
BTC = sim.bundled_bars_path("BTC-USD")
ETH = sim.bundled_bars_path("ETH-USD")


def spec(tmp_path: Path, name: str = "run", **overrides: Any) -> BacktestSpec:
    fields: dict[str, Any] = {
        "strategies": ("sma_cross",),
        "data": {"BTC-USD": BTC},
        "strategy_dir": STRATEGIES,
        "safety_config": write_config(tmp_path / "safety.yaml", **WIDE_LIMITS),
        "run_dir": tmp_path / name,
        "starting_cash_usd": Decimal(10_000),
    }
    return BacktestSpec(**(fields | overrides))


def run(s: BacktestSpec) -> BacktestResult:
    return asyncio.run(run_backtest(s))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- determinism


def test_run_when_repeated_with_same_inputs_then_event_logs_are_identical(
    tmp_path: Path,
) -> None:
    """Same data, config and seed: the gate's audit chain and the agent's events match."""
    shared: dict[str, Any] = {
        "strategies": ("sma_cross", "mean_reversion", "momentum"),
        "data": {"BTC-USD": BTC, "ETH-USD": ETH},
    }
    first = run(spec(tmp_path, "a", **shared))
    second = run(spec(tmp_path, "b", **shared))

    audit = "SELECT seq, event_type, payload, hash FROM audit ORDER BY seq"
    events = "SELECT seq, ts_ns, kind, body FROM events ORDER BY seq"
    assert rows(first.run_dir / "gate.db", audit) == rows(second.run_dir / "gate.db", audit)
    assert rows(first.run_dir / "agent.db", events) == rows(second.run_dir / "agent.db", events)
    assert _sha(first.run_dir / "trades.csv") == _sha(second.run_dir / "trades.csv")
    assert first.metrics == second.metrics
    assert first.orders > 0  # the runs traded, so the comparison means something


# ---------------------------------------------------------------- limits apply


def test_run_when_limits_are_the_shipped_ones_then_gate_refusals_are_counted(
    tmp_path: Path,
) -> None:
    """Under the shipped safety.yaml a fixed size above the order cap is never sent."""
    shipped = REPO / "config" / "safety.yaml"
    result = run(spec(tmp_path, safety_config=shipped, starting_cash_usd=Decimal(1000)))

    # sma_cross buys a fixed 0.001 BTC (about 75 USD here): inside 100 USD, so it trades,
    # and every order the gate saw is in gate.db with its decision.
    decided = rows(
        result.run_dir / "gate.db",
        "SELECT count(*) FROM audit WHERE event_type IN ('order.accepted', 'order.rejected')",
    )
    assert decided == [(result.orders,)]
    assert result.orders > 0


def test_run_when_order_cap_below_fixed_size_then_nothing_is_sent(tmp_path: Path) -> None:
    """A cap under the reference's fixed size: the engine refuses to send, the gate sees none."""
    capped = WIDE_LIMITS | {
        "products": {
            "BTC-USD": WIDE_LIMITS["products"]["BTC-USD"] | {"max_order_size_base": "0.0005"}
        }
    }
    s = spec(tmp_path, safety_config=write_config(tmp_path / "capped.yaml", **capped))

    result = run(s)

    assert result.orders == 0
    skipped = rows(
        result.run_dir / "agent.db",
        "SELECT count(*) FROM events WHERE kind = 'skipped' AND body LIKE '%order limits%'",
    )
    assert skipped[0][0] > 0


# ---------------------------------------------------------------- the reference anchor


def _reference_sma_cross(
    candles: Sequence[Candle], size: float, fee: float, cash: float
) -> tuple[list[tuple[int, str, float]], float]:
    """An independent, vectorized sma_cross: SMA 20/50 on closes, cross up = buy and
    cross down = sell, each at the NEXT bar's open, a fee on every fill."""
    close = np.array([float(c.close) for c in candles])
    opens = np.array([float(c.open) for c in candles])
    starts = np.array([c.start_ns for c in candles])

    # Sums of whole cents, so equal SMAs compare equal (the strategy compares exactly).
    cents = np.array([int(c.close * 100) for c in candles], dtype=np.int64)
    sums = np.cumsum(np.insert(cents, 0, 0))
    fast_sum = np.zeros(cents.size, dtype=np.int64)
    slow_sum = np.zeros(cents.size, dtype=np.int64)
    fast_sum[19:] = sums[20:] - sums[:-20]
    slow_sum[49:] = sums[50:] - sums[:-50]
    above = fast_sum * 50 > slow_sum * 20
    valid = np.arange(cents.size) >= 49
    up = valid[1:] & valid[:-1] & above[1:] & ~above[:-1]
    down = valid[1:] & valid[:-1] & ~above[1:] & above[:-1]
    fills: list[tuple[int, str, float]] = []
    holding = False
    for i in range(1, close.size - 1):  # decided at bar i's close, filled at bar i+1
        if up[i - 1] and not holding:
            fills.append((int(starts[i + 1]), "buy", float(opens[i + 1])))
            cash -= size * opens[i + 1] * (1 + fee)
            holding = True
        elif down[i - 1] and holding:
            fills.append((int(starts[i + 1]), "sell", float(opens[i + 1])))
            cash += size * opens[i + 1] * (1 - fee)
            holding = False
    equity = cash + (size * close[-1] if holding else 0.0)
    return fills, equity


def test_sma_cross_when_on_bundled_real_data_then_matches_the_vectorized_reference(
    tmp_path: Path,
) -> None:
    """Same trades and final equity within 0.01 % as an independent vectorized model."""
    s = spec(tmp_path, fees=sim_fees(Decimal(10)), spread_bps=Decimal(0))
    result = run(s)
    candles = result.candles_by_product["BTC-USD"]

    expected_fills, expected_equity = _reference_sma_cross(
        candles, size=0.001, fee=0.001, cash=10_000.0
    )

    fills = rows(
        result.run_dir / "agent.db",
        "SELECT json_extract(body, '$.event_ns'), json_extract(body, '$.side'),"
        " CAST(json_extract(body, '$.price') AS REAL) FROM events WHERE kind = 'fill'"
        " ORDER BY seq",
    )
    assert len(expected_fills) >= 4, "the sample must hold several crosses"
    assert [(side, price) for _, side, price in fills] == [
        (side, price) for _, side, price in expected_fills
    ]
    assert [ts for ts, _, _ in fills] == [ts for ts, _, _ in expected_fills]
    assert result.equity_usd[-1] == pytest.approx(expected_equity, rel=1e-4)


# ---------------------------------------------------------------- bad specs


def test_run_when_strategy_has_no_parameter_file_then_error_names_it(tmp_path: Path) -> None:
    """An unknown strategy is refused before anything runs, with the known ones listed."""
    with pytest.raises(BacktestError, match="no parameter file for carry"):
        run(spec(tmp_path, strategies=("carry",)))


def test_run_when_folder_holds_a_run_then_refused(tmp_path: Path) -> None:
    """A run folder is never overwritten."""
    run(spec(tmp_path))

    with pytest.raises(BacktestError, match="already holds a run"):
        run(spec(tmp_path))


def test_run_when_product_not_on_the_venue_then_error_names_it(tmp_path: Path) -> None:
    """Data for a product the paper venue does not list is refused by name."""
    with pytest.raises(BacktestError, match="DOGE-USD"):
        run(spec(tmp_path, data={"DOGE-USD": BTC}))


# ---------------------------------------------------------------- rules


def test_run_when_a_rule_forbids_the_strategys_entries_then_the_gate_refuses_them(
    tmp_path: Path,
) -> None:
    """Rules apply in a backtest as in live: every entry is refused by the rule (named in
    the audit row), so no trade happens; a shadow rule only records would-have outcomes."""
    rules = tmp_path / "rules"
    write_rule(rules, "active", "pause.rule", rule_text(
        "pause_sma", 'order.strategy == "sma_cross" and not order.reduces_position',
        'deny "sma_cross entries paused"',
    ))  # fmt: skip
    write_rule(rules, "shadow", "all.rule", rule_text("shadow_all", "order.size_base > 0"))
    result = run(spec(tmp_path, rules_dir=rules))
    assert result.orders > 0
    assert result.rejections == {"rule_denied": result.orders}
    assert result.trades == ()
    payloads = [
        json.loads(p)
        for (p,) in rows(
            result.run_dir / "gate.db",
            "SELECT payload FROM audit WHERE event_type = 'order.rejected' ORDER BY seq",
        )
    ]
    assert len(payloads) == result.orders
    assert {p["decision"]["verdict"]["fired_by"] for p in payloads} == {"pause_sma"}
    assert {p["shadow_rules"][0]["outcome"] for p in payloads} == {"fired"}
    assert {p["rules_sha256"] for p in payloads} == {load_rule_dir(rules).sha256}


def test_run_when_a_rule_file_is_bad_then_refused_before_anything_runs(tmp_path: Path) -> None:
    """A rule that does not load refuses the backtest, naming the spot, and no run folder
    is made."""
    rules = tmp_path / "rules"
    bad = write_rule(rules, "core", "bad.rule", rule_text("bad", "order.prodcut == 1"))
    with pytest.raises(BacktestError, match=rf"{bad}:5:"):
        run(spec(tmp_path, rules_dir=rules))
    assert not (tmp_path / "run").exists()
