"""`read.strategy_records`: each (strategy, product)'s last reported record, orders,
refusals and closed trades, over stores the real `EventStore` wrote, checked against a
hand count and against plain sqlite3 and json."""

import json
import sqlite3
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import trading_contract as c
from agent_stubs import T0_NS, event, rejection, trade
from trading_agent.domain.events import EngineEvent
from trading_agent.domain.intents import Action, Signal
from trading_agent.store import read
from trading_agent.store.event_store import EventStore

S = 1_000_000_000


def order(
    n: int,
    strategy: str,
    product: str,
    stats: dict[str, str],
    *,
    side: c.Side = c.Side.BUY,
    regime: str = "trend_up",
) -> EngineEvent:
    """The engine's `order` event: a PlaceOrder whose reason carries `stats`."""
    placed = c.PlaceOrder(
        request_id=c.RequestId(f"r{n}"),
        intent_id=c.IntentId(f"{strategy}:{product}:{n}"),
        product_id=c.ProductId(product),
        side=side,
        order_type=c.OrderType.MARKET,
        size=Decimal("0.01"),
        size_in=c.SizeUnit.BASE,
        time_in_force=c.TimeInForce.IOC,
        strategy_id=c.StrategyId(strategy),
        reason=c.Reason(regime=regime, stats={k: Decimal(v) for k, v in stats.items()}),
        sent_ns=T0_NS + n * S,
    )
    return event("order", T0_NS + n * S, placed)


def signal(n: int, strategy: str, product: str) -> EngineEvent:
    decided = Signal(
        strategy_id=strategy,
        product_id=product,
        action=Action.ENTER_LONG,
        decided_ns=T0_NS + n * S,
        reference_price=Decimal(100),
    )
    return event("signal", T0_NS + n * S, decided)


def closed(n: int, strategy: str, product: str, net: str) -> EngineEvent:
    done = trade(strategy_id=strategy, product_id=product, net_pnl_usd=Decimal(net))
    return event("trade_closed", T0_NS + n * S, done)


def refused(n: int, strategy: str, product: str) -> EngineEvent:
    return rejection(
        c.RejectCode.ORDER_RATE_LIMIT, "too fast", f"{strategy}:{product}:{n}", T0_NS + n * S
    )


def records(path: Path, events: Sequence[EngineEvent]) -> tuple[read.StrategyRecord, ...]:
    store = EventStore(path)
    store.append(events)
    store.close()
    with read.open_agent_db(path) as conn:
        return read.strategy_records(conn)


# ---------------------------------------------------------------- by hand


def test_records_when_hand_made_run_then_last_report_and_counts_per_pair(tmp_path: Path) -> None:
    """momentum BTC: two orders (the second reports 1 trade, 100 % wins), one refused,
    trades +3.94 and -1.25 (net 2.69); momentum ETH only signalled; breakout SOL one
    order before any closed trade (no win rate or expectancy reported)."""
    found = records(
        tmp_path / "agent.db",
        [
            signal(1, "momentum", "BTC-USD"),
            order(1, "momentum", "BTC-USD", {"confidence": "1", "trade_count": "0"}),
            closed(2, "momentum", "BTC-USD", "3.94"),
            signal(3, "momentum", "ETH-USD"),
            order(
                4,
                "momentum",
                "BTC-USD",
                {
                    "confidence": "0.75",
                    "trade_count": "1",
                    "win_rate": "1.000000",
                    "expectancy_bps": "78.80",
                },
                side=c.Side.SELL,
                regime="range",
            ),
            refused(4, "momentum", "BTC-USD"),
            closed(5, "momentum", "BTC-USD", "-1.25"),
            order(6, "breakout", "SOL-USD", {"confidence": "1", "trade_count": "0"}),
            refused(7, "nobody", "XRP-USD"),  # an intent the store never sent: no pair
        ],
    )

    by_pair = {(r.strategy_id, r.product_id): r for r in found}
    assert [(r.strategy_id, r.product_id) for r in found] == [
        ("breakout", "SOL-USD"),
        ("momentum", "BTC-USD"),
        ("momentum", "ETH-USD"),
    ]
    btc = by_pair[("momentum", "BTC-USD")]
    assert (btc.confidence, btc.trade_count, btc.win_rate, btc.expectancy_bps) == (
        Decimal("0.75"),
        Decimal(1),
        Decimal("1.000000"),
        Decimal("78.80"),
    )
    assert str(btc.win_rate) == "1.000000"  # exact as reported, trailing zeros kept
    assert (btc.orders_sent, btc.refusals, btc.trades_closed) == (2, 1, 2)
    assert btc.net_pnl_usd == Decimal("2.69")
    assert (btc.last_intent_ns, btc.last_intent_side, btc.last_regime) == (
        T0_NS + 4 * S,
        "sell",
        "range",
    )
    assert (btc.signals, btc.last_signal_ns) == (1, T0_NS + S)
    eth = by_pair[("momentum", "ETH-USD")]
    assert (eth.confidence, eth.orders_sent, eth.last_intent_ns, eth.signals) == (None, 0, None, 1)
    assert eth.net_pnl_usd == 0
    sol = by_pair[("breakout", "SOL-USD")]
    assert (sol.confidence, sol.trade_count, sol.win_rate, sol.expectancy_bps) == (
        Decimal(1),
        Decimal(0),
        None,
        None,
    )


def test_records_when_store_empty_then_none(tmp_path: Path) -> None:
    """No signal and no order: no row."""
    assert records(tmp_path / "agent.db", []) == ()


# ---------------------------------------------------------------- against plain sqlite and json


def reference(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The same figures with sqlite3 and json alone."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT ts_ns, kind, body FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    owner: dict[str, tuple[str, str]] = {}

    def pair(key: tuple[str, str]) -> dict[str, Any]:
        blank = {"stats": {}, "orders": 0, "refusals": 0, "closed": 0, "net": Decimal(0)}
        return out.setdefault(key, blank | {"signals": 0, "last_ns": None})

    for ts, kind, body in rows:
        doc = json.loads(body)
        if kind == "rejected":
            if doc["intent_id"] in owner:
                pair(owner[doc["intent_id"]])["refusals"] += 1
            continue
        if kind not in ("order", "trade_closed", "signal"):
            continue
        row = pair((doc["strategy_id"], doc["product_id"]))
        if kind == "order":
            owner[doc["intent_id"]] = (doc["strategy_id"], doc["product_id"])
            row["orders"] += 1
            row["stats"], row["last_ns"] = doc["reason"]["stats"], ts
        elif kind == "trade_closed":
            row["closed"] += 1
            row["net"] += Decimal(doc["net_pnl_usd"])
        else:
            row["signals"] += 1
    return out


_PAIRS = st.sampled_from([("a", "BTC-USD"), ("a", "ETH-USD"), ("b", "BTC-USD")])
_STAT = st.decimals(min_value=0, max_value=10, places=4, allow_nan=False).map(str)
_STATS = st.dictionaries(st.sampled_from(["confidence", "win_rate", "trade_count"]), _STAT)
_NET = st.decimals(min_value=-50, max_value=50, places=8, allow_nan=False).map(str)
_STEP = st.one_of(
    st.tuples(st.just("order"), _PAIRS, _STATS),
    st.tuples(st.just("refuse"), _PAIRS, st.none()),
    st.tuples(st.just("close"), _PAIRS, _NET),
    st.tuples(st.just("signal"), _PAIRS, st.none()),
)


def _events(steps: list[tuple[str, tuple[str, str], Any]]) -> list[EngineEvent]:
    built: list[EngineEvent] = []
    last_order: dict[tuple[str, str], int] = {}
    for n, (what, (sid, product), arg) in enumerate(steps):
        if what == "order":
            built.append(order(n, sid, product, arg))
            last_order[(sid, product)] = n
        elif what == "refuse" and (sid, product) in last_order:
            built.append(refused(last_order[(sid, product)], sid, product))
        elif what == "close":
            built.append(closed(n, sid, product, arg))
        elif what == "signal":
            built.append(signal(n, sid, product))
    return built


@settings(max_examples=40, deadline=None)
@given(st.lists(_STEP, max_size=30))
def test_records_when_any_run_then_match_plain_sqlite_and_json(
    steps: list[tuple[str, tuple[str, str], Any]],
) -> None:
    """Every figure of every pair equals a plain sqlite3 + json recount of the store."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agent.db"
        found = records(path, _events(steps))
        expected = reference(path)

    assert [(r.strategy_id, r.product_id) for r in found] == sorted(expected)
    for r in found:
        want = expected[(r.strategy_id, r.product_id)]
        stats = want["stats"]
        got = {"confidence": r.confidence, "win_rate": r.win_rate, "trade_count": r.trade_count}
        assert {k: str(v) for k, v in got.items() if v is not None} == stats
        assert (r.orders_sent, r.refusals, r.trades_closed, r.signals) == (
            want["orders"],
            want["refusals"],
            want["closed"],
            want["signals"],
        )
        assert r.net_pnl_usd == want["net"]
        assert r.last_intent_ns == want["last_ns"]
