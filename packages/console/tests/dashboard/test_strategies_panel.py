"""The Strategies panel over the agent.db a real backtest wrote: every figure against a
recount with plain sqlite3 and json, and the totals against the backtest's own."""

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from trading_console.backtest import BacktestResult
from trading_console.dashboard import views


def _events(db: Path, kind: str) -> list[tuple[int, dict[str, Any]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT ts_ns, body FROM events WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()
    finally:
        conn.close()
    return [(int(ts), json.loads(body)) for ts, body in rows]


def _recount(db: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (strategy, product), from the raw JSON bodies: the last order's stats (the
    strings as stored) and time, order, refusal, trade and signal counts, net P&L."""
    out: dict[tuple[str, str], dict[str, Any]] = {}

    def pair(doc: dict[str, Any]) -> dict[str, Any]:
        fresh = {"stats": {}, "ts": None, "side": None, "orders": 0, "refusals": 0}
        fresh |= {"closed": 0, "net": Decimal(0), "signals": 0}
        return out.setdefault((doc["strategy_id"], doc["product_id"]), fresh)

    owner: dict[str, dict[str, Any]] = {}
    for ts, doc in _events(db, "order"):
        row = pair(doc)
        row["orders"] += 1
        row["stats"], row["ts"], row["side"] = doc["reason"]["stats"], ts, doc["side"]
        owner[doc["intent_id"]] = row
    for _, doc in _events(db, "rejected"):
        owner[doc["intent_id"]]["refusals"] += 1
    for _, doc in _events(db, "trade_closed"):
        row = pair(doc)
        row["closed"] += 1
        row["net"] += Decimal(doc["net_pnl_usd"])
    for _, doc in _events(db, "signal"):
        pair(doc)["signals"] += 1
    return out


def test_strategies_when_backtest_then_each_figure_matches_a_plain_recount(
    backtest: BacktestResult, tmp_path: Path
) -> None:
    """Confidence, record, orders, refusals, closed trades, net P&L and last intent of
    every pair are what the raw events say; the JSON carries the stored strings."""
    db = backtest.run_dir / "agent.db"
    panel = views.agent_panel(views.Sources.in_data_dir(backtest.run_dir, tmp_path / "a.sock"))
    expected = _recount(db)

    assert panel.error is None
    assert [(r.strategy_id, r.product_id) for r in panel.strategies] == sorted(expected)
    encoded = json.loads(msgspec.json.encode(panel.strategies))
    for row, doc in zip(panel.strategies, encoded, strict=True):
        want = expected[(row.strategy_id, row.product_id)]
        reported = {
            k: doc[k]
            for k in ("confidence", "trade_count", "win_rate", "expectancy_bps")
            if doc[k] is not None
        }
        assert reported == want["stats"]  # the very strings the agent wrote
        assert (row.last_intent_ns, row.last_intent_side) == (want["ts"], want["side"])
        assert (row.orders_sent, row.refusals, row.trades_closed, row.signals) == (
            want["orders"],
            want["refusals"],
            want["closed"],
            want["signals"],
        )
        assert row.net_pnl_usd == want["net"]
        assert Decimal(doc["net_pnl_usd"]) == want["net"]


def test_strategies_when_backtest_then_totals_are_the_runs_own(
    backtest: BacktestResult, tmp_path: Path
) -> None:
    """Summed over pairs: the orders the run sent, the refusals it counted, its closed
    trades and their net P&L, as the backtest harness reports them."""
    rows = views.agent_panel(
        views.Sources.in_data_dir(backtest.run_dir, tmp_path / "a.sock")
    ).strategies

    assert sum(r.orders_sent for r in rows) == backtest.orders
    assert sum(r.refusals for r in rows) == sum(backtest.rejections.values())
    assert sum(r.trades_closed for r in rows) == len(backtest.trades)
    assert sum((r.net_pnl_usd for r in rows), Decimal(0)) == sum(
        (t.net_pnl_usd for t in backtest.trades), Decimal(0)
    )
    assert backtest.rejections, "the run must have a refusal for this test to mean anything"


def test_strategies_when_no_agent_db_then_empty_and_the_panel_says_why(tmp_path: Path) -> None:
    """No agent.db: no rows, and the agent panel's error names the missing file."""
    panel = views.agent_panel(views.Sources.in_data_dir(tmp_path / "none", tmp_path / "a.sock"))

    assert panel.strategies == ()
    assert "no agent.db" in (panel.error or "")
