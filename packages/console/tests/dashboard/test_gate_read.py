"""trading_gate.read: read-only queries over gate.db, checked against the raw rows, the
agent's own record of the same run, and closed forms."""

import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trading_contract as c
from trading_console.backtest import BacktestResult
from trading_gate import read
from trading_gate.core.order_fsm import Trigger
from trading_gate.core.trading_state import Cause, GateMode

TERMINAL = {"filled", "cancelled", "rejected", "expired"}  # the order lifecycle's spec


def raw(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------- opening


def test_open_when_file_missing_then_clear_error_and_nothing_created(tmp_path: Path) -> None:
    """A missing gate.db is an error naming the path; no empty database is created."""
    path = tmp_path / "data" / "gate.db"

    with (
        pytest.raises(read.GateDbMissing, match=r"no gate\.db at .*gate has not run"),
        read.open_gate_db(path),
    ):
        pass

    assert not path.exists()
    assert not path.parent.exists()


def test_open_when_file_is_not_a_gate_journal_then_error_names_missing_tables(
    tmp_path: Path,
) -> None:
    """An SQLite file without the journal's tables is refused, not read as empty."""
    path = tmp_path / "gate.db"
    sqlite3.connect(path).close()

    with (
        pytest.raises(read.GateDbError, match="not a gate journal: no audit, orders"),
        read.open_gate_db(path),
    ):
        pass


def test_open_when_garbage_file_then_gate_db_error(tmp_path: Path) -> None:
    """A file that is not a database becomes GateDbError, not a raw sqlite3 error."""
    path = tmp_path / "gate.db"
    path.write_bytes(b"not a database at all" * 100)

    with pytest.raises(read.GateDbError, match="cannot read"), read.open_gate_db(path):
        pass


def test_connection_when_opened_then_refuses_writes(backtest: BacktestResult) -> None:
    """The connection is read-only: even a direct INSERT is refused."""
    with (
        read.open_gate_db(backtest.run_dir / "gate.db") as conn,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        conn.execute("CREATE TABLE probe (x INTEGER)")


# ---------------------------------------------------------------- a real run


def test_fills_when_backtest_then_same_trades_the_agent_was_told_of(
    backtest: BacktestResult,
) -> None:
    """Every fill the gate journaled is a fill event in agent.db, same trade, size, price."""
    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        fills = read.fills(conn)
        counts = read.counts(conn)
    told = {
        (b["trade_id"], Decimal(b["size"]), Decimal(b["price"]))
        for (body,) in raw(
            backtest.run_dir / "agent.db", "SELECT body FROM events WHERE kind='fill'"
        )
        for b in [json.loads(body)]
    }

    assert {(f.trade_id, f.size, f.price) for f in fills} == told
    assert counts.fills == len(fills) == len(told) > 0
    assert counts.open_orders == 0  # market IOC orders only: none rests


def test_positions_when_backtest_then_match_an_independent_fold_of_raw_rows(
    backtest: BacktestResult,
) -> None:
    """Base, fees and (for flat products) realized P&L equal sums over the raw fill rows."""
    base: dict[str, Decimal] = defaultdict(Decimal)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    flow: dict[str, Decimal] = defaultdict(Decimal)
    for (text,) in raw(backtest.run_dir / "gate.db", "SELECT fill FROM fills ORDER BY rowid"):
        f = json.loads(text)
        sign = 1 if f["side"] == "buy" else -1
        base[f["product_id"]] += sign * Decimal(f["size"])
        fees[f["product_id"]] += Decimal(f["fee"])
        flow[f["product_id"]] -= sign * Decimal(f["size"]) * Decimal(f["price"])

    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        positions = {p.product_id: p for p in read.positions(conn)}

    assert set(positions) == set(base)
    for product, p in positions.items():
        assert p.base == base[product]
        assert p.fees_usd == fees[product]
        if p.base == 0:
            assert p.realized_pnl_usd == flow[product]  # exact: a round trip takes all its cost
            assert p.average_entry_usd is None


def test_positions_when_flat_then_realized_equals_agent_trades_gross(
    backtest: BacktestResult,
) -> None:
    """Gate average cost and the agent's round trips (other code, other db) agree when flat."""
    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        flat = [p for p in read.positions(conn) if p.base == 0]
    assert flat, "the run must end flat in at least one product for this check"
    for p in flat:
        gross = sum(
            (t.gross_pnl_usd for t in backtest.trades if t.product_id == p.product_id), Decimal(0)
        )
        assert p.realized_pnl_usd == gross


def test_decisions_when_backtest_then_verdicts_and_checks_match_the_raw_payloads(
    backtest: BacktestResult,
) -> None:
    """Each decision carries the audited verdict and every check; the code is the first
    refusing check's (the policy's first rejection wins)."""
    rows = raw(
        backtest.run_dir / "gate.db",
        "SELECT seq, event_type, payload FROM audit "
        "WHERE event_type IN ('order.accepted', 'order.rejected') ORDER BY seq DESC",
    )
    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        decisions = read.decisions(conn, limit=10_000)
        rejected = read.decisions(conn, limit=10_000, rejected_only=True)

    assert [d.seq for d in decisions] == [seq for seq, _, _ in rows]
    assert [d.seq for d in rejected] == [seq for seq, kind, _ in rows if kind == "order.rejected"]
    for d, (_, kind, payload) in zip(decisions, rows, strict=True):
        p = json.loads(payload)
        refusing = [ch for ch in p["checks"] if ch["rejection"] is not None]
        assert d.accepted == (kind == "order.accepted")
        assert [ch.name for ch in d.checks] == [ch["name"] for ch in p["checks"]]
        assert d.refused_by == tuple(ch["name"] for ch in refusing)
        assert d.size == Decimal(p["request"]["size"])
        if d.accepted:
            assert d.code is None
            assert not refusing
        else:
            assert d.code == refusing[0]["rejection"]["code"]
            assert d.fired_by == refusing[0]["rejection"]["fired_by"]
    assert any(not d.accepted for d in decisions)


def test_rejections_by_code_when_backtest_then_equal_the_harness_count(
    backtest: BacktestResult,
) -> None:
    """Refusals per code equal what the backtest harness counted from the gate's replies."""
    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        by_code = {r.code: r.count for r in read.rejections_by_code(conn)}

    assert by_code == backtest.rejections
    assert by_code


def test_mode_when_backtest_halted_then_state_cause_and_history(
    backtest: BacktestResult,
) -> None:
    """The run ends HALTED by the drawdown stop: the mode and its history say so."""
    with read.open_gate_db(backtest.run_dir / "gate.db") as conn:
        mode = read.mode(conn)
        history = read.mode_history(conn)
        kill = read.last_kill(conn)

    assert backtest.final_gate_state == "halted"
    assert mode is not None
    assert mode.state is c.TradingState.HALTED
    assert mode.cause == "drawdown"
    assert "below its peak" in mode.detail
    assert history[0].state is c.TradingState.HALTED
    assert history[-1].state is c.TradingState.ACTIVE  # oldest first change: reconciled
    assert kill is not None
    assert kill.verified_empty


# ---------------------------------------------------------------- hand-made journals


def test_open_orders_when_one_order_per_status_then_only_non_terminal_ones(
    gate_journal: Any,
) -> None:
    """Open orders are exactly the non-terminal statuses, with filled size and average."""
    t = Trigger
    paths: dict[str, tuple[Trigger | str, ...]] = {
        "pending": (),
        "unknown": (t.SUBMIT_OUTCOME_UNKNOWN,),
        "open": (t.VENUE_ACK,),
        "partially_filled": (t.VENUE_ACK, "fill:0.004@49000", "fill:0.002@49600"),
        "pending_cancel": (t.VENUE_ACK, t.CANCEL_REQUESTED),
        "filled": (t.VENUE_ACK, "fill:0.01@50000"),
        "cancelled": (t.VENUE_ACK, t.VENUE_CANCELLED),
        "rejected": (t.VENUE_REJECT,),
        "expired": (t.VENUE_ACK, t.VENUE_EXPIRED),
    }
    for name, triggers in paths.items():
        assert gate_journal.order(name, triggers).status.value == name

    with read.open_gate_db(gate_journal.path) as conn:
        live = read.open_orders(conn)
        recent = read.recent_orders(conn, limit=3)
        counts = read.counts(conn)

    expected = [name for name in paths if name not in TERMINAL]
    assert [o.status.value for o in live] == expected  # oldest first
    assert all(o.live for o in live)
    assert counts.open_orders == len(expected)
    assert counts.orders == len(paths)
    partial = next(o for o in live if o.status is c.OrderStatus.PARTIALLY_FILLED)
    assert partial.filled_size == Decimal("0.006")
    assert partial.average_price == (Decimal("0.004") * 49000 + Decimal("0.002") * 49600) / (
        Decimal("0.006")
    )
    assert partial.limit_price == Decimal("50000")
    assert [o.status.value for o in recent] == ["expired", "rejected", "cancelled"]


def test_mode_when_never_saved_then_none(gate_journal: Any) -> None:
    """A gate that never journaled a state: None, not a made-up ACTIVE."""
    with read.open_gate_db(gate_journal.path) as conn:
        assert read.mode(conn) is None
        assert read.mode_history(conn) == ()
        assert read.last_kill(conn) is None


def test_mode_when_operator_halt_saved_then_read_back_with_detail(gate_journal: Any) -> None:
    """The journaled mode comes back with its cause, detail and who set it."""
    gate_journal.mode(
        GateMode(
            state=c.TradingState.HALTED,
            cause=Cause.KILL_SWITCH,
            since_ns=1_700_000_001_000_000_000,
            set_by="alice",
            detail="venue outage",
        )
    )
    with read.open_gate_db(gate_journal.path) as conn:
        mode = read.mode(conn)
        history = read.mode_history(conn)

    assert mode == read.ModeView(
        state=c.TradingState.HALTED,
        cause="kill_switch",
        detail="venue outage",
        since_ns=1_700_000_001_000_000_000,
        set_by="alice",
        later_causes=(),
    )
    assert [(h.state, h.cause, h.set_by) for h in history] == [
        (c.TradingState.HALTED, "kill_switch", "alice")
    ]


def test_fills_when_limited_then_the_last_ones_oldest_first(gate_journal: Any) -> None:
    """A limit keeps the newest fills, still in the order applied."""
    gate_journal.order("a", (Trigger.VENUE_ACK, "fill:0.001@100", "fill:0.002@101"))
    gate_journal.order("b", (Trigger.VENUE_ACK, "fill:0.003@102"))

    with read.open_gate_db(gate_journal.path) as conn:
        last_two = read.fills(conn, limit=2)

    assert [f.price for f in last_two] == [Decimal(101), Decimal(102)]


# ---------------------------------------------------------------- the position fold


_sizes = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5), places=3)
_prices = st.decimals(min_value=Decimal(1), max_value=Decimal(1000), places=2)
_fills = st.lists(st.tuples(st.booleans(), _sizes, _prices), min_size=1, max_size=30)


def _view(i: int, buy: bool, size: Decimal, price: Decimal) -> read.FillView:
    return read.FillView(
        trade_id=f"t{i}",
        client_order_id=f"o{i}",
        venue_order_id=f"v{i}",
        product_id="BTC-USD",
        side=c.Side.BUY if buy else c.Side.SELL,
        price=price,
        size=size,
        fee=Decimal("0.01"),
        liquidity="taker",
        ts_ns=i,
    )


@given(_fills)
def test_positions_from_fills_when_any_sequence_then_cash_identity_holds(
    fills: list[tuple[bool, Decimal, Decimal]],
) -> None:
    """base = sum of signed sizes; realized - open cost = cash moved (exact when flat,
    to 1e-20 otherwise: a partial close takes a rounded share of the cost)."""
    views = [_view(i, *f) for i, f in enumerate(fills)]
    signed = [(s if buy else -s, p) for buy, s, p in fills]

    (position,) = read.positions_from_fills(views)

    cash = sum((-q * p for q, p in signed), Decimal(0))
    assert position.base == sum((q for q, _ in signed), Decimal(0))
    assert position.fees_usd == Decimal("0.01") * len(fills)
    assert position.fill_count == len(fills)
    assert position.last_price_usd == fills[-1][2]
    if position.base == 0:
        assert position.average_entry_usd is None
        assert position.realized_pnl_usd == cash
    else:
        assert position.average_entry_usd is not None
        open_cost = position.base * position.average_entry_usd
        assert abs(position.realized_pnl_usd - open_cost - cash) < Decimal("1e-20")


def test_positions_from_fills_when_long_then_short_then_crossing_opens_at_its_price() -> None:
    """Buy 2 @ 10 and 2 @ 20 (average 15), sell 5 @ 30: 60 realized, short 1 @ 30."""
    views = [
        _view(0, True, Decimal(2), Decimal(10)),
        _view(1, True, Decimal(2), Decimal(20)),
        _view(2, False, Decimal(5), Decimal(30)),
    ]

    (position,) = read.positions_from_fills(views)

    assert position.realized_pnl_usd == (30 - 15) * 4
    assert position.base == -1
    assert position.average_entry_usd == 30
