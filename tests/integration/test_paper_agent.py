"""Paper trading end to end: `trading-agent run` against a real `trading-gate run`."""

import asyncio
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import msgspec

import trading_sim as sim
from gate_process import REPO, running_gate
from trading_console.backtest import BacktestSpec, run_backtest

AGENT_BIN = Path(sys.executable).parent / "trading-agent"


def _events(db: Path, kind: str) -> list[dict[str, object]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT body FROM events WHERE kind = ? ORDER BY seq", (kind,))
        return [msgspec.json.decode(r[0]) for r in rows.fetchall()]
    finally:
        conn.close()


def test_agent_when_run_against_the_gate_then_its_orders_are_decided_and_filled_there(
    tmp_path: Path,
) -> None:
    """The agent's intents reach the gate, which decides, fills and audits them; the
    agent books the same fills the gate journaled."""
    limits = {
        "products": {
            "BTC-USD": {"max_order_size_base": "0.01", "max_order_notional_usd": "1000.00",
                        "max_position_usd": "10000.00", "price_collar_bps": 300},
        },
        "account": {"max_order_notional_usd": "1000.00", "max_gross_exposure_usd": "20000.00",
                    "max_open_orders": 50},
    }  # fmt: skip
    with running_gate(tmp_path, "--bar-seconds", "0.05", **limits) as gate:
        done = subprocess.run(
            [AGENT_BIN, "run", "--data", gate.data, "--strategies-dir",
             REPO / "config" / "strategies", "--strategy", "sma_cross", "--product", "BTC-USD",
             "--duration", "12"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "trading-agent ready" in done.stdout
        accepted = gate.audit_rows("order.accepted")

    orders = _events(gate.data / "agent.db", "order")
    fills = _events(gate.data / "agent.db", "fill")
    assert orders, done.stderr
    assert {o["intent_id"] for o in orders} == {a["request"]["intent_id"] for a in accepted}
    assert all(a["request"]["strategy_id"] == "sma_cross" for a in accepted)
    gate_fills = _gate_fills(gate.data / "gate.db")
    assert sorted(f["trade_id"] for f in fills) == sorted(gate_fills)

    # The same strategy backtested over the same candles decides the same orders: the
    # paper agent joined the replay late, so its orders are the backtest's from its
    # first one on (sma_cross is flat before any cross up, in both).
    spec = BacktestSpec(
        strategies=("sma_cross",),
        data={"BTC-USD": sim.bundled_bars_path("BTC-USD")},
        strategy_dir=REPO / "config" / "strategies",
        safety_config=gate.config,
        run_dir=tmp_path / "backtest",
        starting_cash_usd=Decimal(10_000),
    )
    result = asyncio.run(run_backtest(spec))
    backtested = [
        (o["sent_ns"], o["side"], o["size"]) for o in _events(result.run_dir / "agent.db", "order")
    ]
    papered = [(o["sent_ns"], o["side"], o["size"]) for o in orders]
    start = backtested.index(papered[0])
    assert backtested[start : start + len(papered)] == papered


def _gate_fills(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT trade_id FROM fills").fetchall()]
    finally:
        conn.close()
