"""trading_agent.store.read: read-only queries over agent.db, checked against hand-made
events with a closed-form P&L and against the backtest harness's own figures."""

import csv
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

import trading_contract as c
from trading_agent.domain.events import EngineEvent
from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.trades import Trade
from trading_agent.store import read
from trading_agent.store.event_store import EventStore
from trading_console.backtest import BacktestResult

# ---------------------------------------------------------------- hand-made events


def _fill(n: int, product: str, side: c.Side, size: str, price: str, fee: str) -> EngineEvent:
    fill = c.Fill(
        client_order_id=c.ClientOrderId(f"coid-{n}"),
        intent_id=c.IntentId(f"intent-{n}"),
        trade_id=c.TradeId(f"trade-{n}"),
        product_id=c.ProductId(product),
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        fee=Decimal(fee),
        fee_currency=c.Currency("USD"),
        liquidity=c.Liquidity.TAKER,
        event_ns=n * 1_000_000_000,
    )
    return EngineEvent(ts_ns=n * 1_000_000_000, kind="fill", body=msgspec.to_builtins(fill))


def _signal(n: int, product: str, price: str, action: Action = Action.ENTER_LONG) -> EngineEvent:
    signal = Signal(
        strategy_id="momentum",
        product_id=product,
        action=action,
        decided_ns=n * 1_000_000_000,
        reference_price=Decimal(price),
        values={"atr": 1.5},
        note="breakout",
    )
    return EngineEvent(ts_ns=n * 1_000_000_000, kind="signal", body=msgspec.to_builtins(signal))


def _closed(n: int, net: str) -> EngineEvent:
    trade = Trade(
        product_id="BTC-USD",
        strategy_id="momentum",
        entry_intent_id="intent-2",
        exit_intent_id="intent-5",
        entry_ns=2,
        exit_ns=5,
        entry_price=Decimal(100),
        exit_price=Decimal(125),
        size=Decimal(2),
        gross_pnl_usd=Decimal(50),
        fees_usd=Decimal(3),
        net_pnl_usd=Decimal(net),
        risk_usd=None,
        r_multiple=None,
        max_adverse_usd=Decimal(0),
        max_favourable_usd=Decimal(60),
        fill_count=3,
    )
    return EngineEvent(
        ts_ns=n * 1_000_000_000, kind="trade_closed", body=msgspec.to_builtins(trade)
    )


SKIP: dict[str, object] = {
    "strategy_id": "momentum",
    "product_id": "BTC-USD",
    "action": "enter_long",
    "why": "the gate is reducing",
}


@pytest.fixture
def agent_db(tmp_path: Path) -> Path:
    """Buy 2 BTC @ 100, sell 1 @ 120 and 1 @ 130 (fees 1 each), then buy 1 ETH @ 50
    (fee 0.5) that a later signal marks at 40."""
    path = tmp_path / "agent.db"
    store = EventStore(path)
    store.append(
        [
            _signal(1, "BTC-USD", "100"),
            _fill(2, "BTC-USD", c.Side.BUY, "2", "100", "1"),
            _signal(3, "BTC-USD", "110", Action.EXIT_LONG),
            _fill(4, "BTC-USD", c.Side.SELL, "1", "120", "1"),
            _fill(5, "BTC-USD", c.Side.SELL, "1", "130", "1"),
            _closed(5, "47"),
            EngineEvent(ts_ns=5_500_000_000, kind="skipped", body=SKIP),
            _fill(6, "ETH-USD", c.Side.BUY, "1", "50", "0.5"),
            _signal(7, "ETH-USD", "40", Action.EXIT_LONG),
        ]
    )
    store.close()
    return path


def test_open_when_file_missing_then_clear_error_and_nothing_created(tmp_path: Path) -> None:
    """A missing agent.db is an error naming the path; no empty database is created."""
    path = tmp_path / "agent.db"

    with pytest.raises(read.AgentDbMissing, match=r"no agent\.db at"), read.open_agent_db(path):
        pass

    assert not path.exists()


def test_open_when_no_events_table_then_refused(tmp_path: Path) -> None:
    """An SQLite file that is not an agent store is refused, not read as empty."""
    path = tmp_path / "agent.db"
    sqlite3.connect(path).close()

    with pytest.raises(read.AgentDbError, match="no events table"), read.open_agent_db(path):
        pass


def test_connection_when_opened_then_refuses_writes(agent_db: Path) -> None:
    """The connection is read-only: even a direct write is refused."""
    with (
        read.open_agent_db(agent_db) as conn,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        conn.execute("CREATE TABLE probe (x INTEGER)")


def test_pnl_when_hand_made_events_then_closed_form(agent_db: Path) -> None:
    """cash = -201 + 119 + 129 - 50.5 = -3.5; ETH 1 at its mark 40: total 36.5;
    realized is the closed trade's 47; unrealized -10.5."""
    with read.open_agent_db(agent_db) as conn:
        pnl = read.pnl(conn)

    assert pnl.total_usd == Decimal("36.5")
    assert pnl.realized_usd == Decimal(47)
    assert pnl.unrealized_usd == Decimal("-10.5")
    assert pnl.fees_usd == Decimal("3.5")
    assert pnl.fills == 4
    assert pnl.holdings == {"ETH-USD": Decimal(1)}
    assert pnl.marks == {"BTC-USD": Decimal(130), "ETH-USD": Decimal(40)}


def test_pnl_curve_when_hand_made_events_then_one_point_per_fill_and_trade(
    agent_db: Path,
) -> None:
    """Points after each fill and closed trade (not signals), marked at the latest price."""
    with read.open_agent_db(agent_db) as conn:
        curve = read.pnl_curve(conn)

    assert [(p.ts_ns // 1_000_000_000, p.total_usd, p.realized_usd) for p in curve] == [
        (2, Decimal(-1), Decimal(0)),  # -201 cash + 2 x 100
        (4, Decimal(38), Decimal(0)),  # -82 cash + 1 x 120
        (5, Decimal(47), Decimal(0)),  # flat
        (5, Decimal(47), Decimal(47)),  # the trade closed
        (6, Decimal("46.5"), Decimal(47)),  # -3.5 cash + 1 ETH x 50
    ]


def test_pnl_curve_when_thinned_then_bounded_and_ends_at_the_last_point(
    agent_db: Path,
) -> None:
    """Thinning keeps at most max_points, the first and the last."""
    with read.open_agent_db(agent_db) as conn:
        full = read.pnl_curve(conn)
        thin = read.pnl_curve(conn, max_points=3)
        with pytest.raises(ValueError, match="at least 2"):
            read.pnl_curve(conn, max_points=1)

    assert len(thin) == 3
    assert thin[0] == full[0]
    assert thin[-1] == full[-1]


def test_signals_and_skips_when_hand_made_events_then_newest_first(agent_db: Path) -> None:
    """Signals and skips come back newest first with their prices and reasons."""
    with read.open_agent_db(agent_db) as conn:
        signals = read.recent_signals(conn, limit=2)
        skips = read.recent_skips(conn)
        counts = read.event_counts(conn)

    assert [(s.product_id, s.action, s.reference_price) for s in signals] == [
        ("ETH-USD", "exit_long", Decimal(40)),
        ("BTC-USD", "exit_long", Decimal(110)),
    ]
    assert signals[0].values == {"atr": 1.5}
    assert [(s.why, s.action) for s in skips] == [("the gate is reducing", "enter_long")]
    assert counts == {"fill": 4, "signal": 3, "skipped": 1, "trade_closed": 1}


# ---------------------------------------------------------------- a real run


def test_closed_trades_when_backtest_then_equal_the_harness_trades(
    backtest: BacktestResult,
) -> None:
    """Every round trip the harness returned is in agent.db, newest first, same numbers."""
    with read.open_agent_db(backtest.run_dir / "agent.db") as conn:
        trades = read.closed_trades(conn)
        last_three = read.closed_trades(conn, limit=3)
        pnl = read.pnl(conn)

    expected = [(t.product_id, t.exit_ns, t.net_pnl_usd) for t in reversed(backtest.trades)]
    assert [(t.product_id, t.exit_ns, t.net_pnl_usd) for t in trades] == expected
    assert last_three == trades[:3]
    assert pnl.realized_usd == sum((t.net_pnl_usd for t in backtest.trades), Decimal(0))


def test_pnl_when_backtest_then_equals_final_equity_less_starting_cash(
    backtest: BacktestResult,
) -> None:
    """Total P&L + starting cash is the harness's last equity (engine cash + marks).

    Exact here because the one holding left (ETH) signals an exit on every candle while
    the gate is halted, so its latest mark is the last close the engine marks at.
    """
    with (backtest.run_dir / "equity.csv").open() as f:
        last_equity = Decimal(list(csv.DictReader(f))[-1]["equity_usd"])
    with read.open_agent_db(backtest.run_dir / "agent.db") as conn:
        pnl = read.pnl(conn)

    assert pnl.holdings  # the check means something only with an open holding
    assert pnl.total_usd + Decimal(1000) == last_equity


def test_rejections_by_code_when_backtest_then_equal_the_harness_count(
    backtest: BacktestResult,
) -> None:
    """The agent's refusals per code equal the harness's count of the gate's replies."""
    with read.open_agent_db(backtest.run_dir / "agent.db") as conn:
        by_code = {r.code: r.count for r in read.rejections_by_code(conn)}

    assert by_code == backtest.rejections


def test_gate_state_seen_when_backtest_then_last_push_is_the_halt(
    backtest: BacktestResult,
) -> None:
    """The last state the gate pushed is HALTED with the drawdown cause."""
    with read.open_agent_db(backtest.run_dir / "agent.db") as conn:
        seen = read.gate_state_seen(conn)
        signals = read.recent_signals(conn, limit=5)

    assert seen is not None
    assert seen.state == "halted"
    assert seen.cause.startswith("drawdown")
    raw = sqlite3.connect(f"file:{backtest.run_dir / 'agent.db'}?mode=ro", uri=True)
    try:
        newest = raw.execute(
            "SELECT seq, body FROM events WHERE kind = 'signal' ORDER BY seq DESC LIMIT 5"
        ).fetchall()
    finally:
        raw.close()
    assert [(s.seq, s.reference_price) for s in signals] == [
        (seq, Decimal(json.loads(body)["reference_price"])) for seq, body in newest
    ]
