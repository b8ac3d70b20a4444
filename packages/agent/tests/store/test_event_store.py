"""A struct body is stored exactly as its builtins would be (the engine records the
struct and the store encodes it once)."""

import sqlite3
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

import trading_contract as c
from agent_stubs import fill, trade
from trading_agent.domain.events import EngineEvent
from trading_agent.domain.intents import Action, Signal
from trading_agent.store.event_store import EventStore

_ORDER = c.PlaceOrder(
    request_id=c.RequestId("r7"),
    intent_id=c.IntentId("sma_cross:BTC-USD:1700000000:7"),
    product_id=c.ProductId("BTC-USD"),
    side=c.Side.SELL,
    order_type=c.OrderType.MARKET,
    size=Decimal("0.01250000"),
    size_in=c.SizeUnit.BASE,
    time_in_force=c.TimeInForce.IOC,
    reduce_only=True,
    strategy_id=c.StrategyId("sma_cross"),
    reason=c.Reason(
        regime="trend_up",
        signals={"sma_fast": Decimal("1.000000000000"), "sma_slow": Decimal("2.5E-7")},
        stats={"confidence": Decimal(1), "trade_count": Decimal(3)},
        note="cross down",
    ),
    sent_ns=1_700_000_000_000_000_000,
)
_SIGNAL = Signal(
    strategy_id="sma_cross",
    product_id="BTC-USD",
    action=Action.ENTER_LONG,
    decided_ns=5,
    reference_price=Decimal("50000.10"),
    stop_price=Decimal("49000"),
    values={"sma_slow": 2.5e-7, "sma_fast": 50000.125, "nan": float("nan")},
    note="cross up",
)
_STRUCTS: list[msgspec.Struct] = [
    _ORDER,
    _SIGNAL,
    fill(),
    fill(side=c.Side.SELL, fee=Decimal("0E-8")),
    trade(),
    trade(risk_usd=None, r_multiple=None),
    c.Decision(
        request_id=c.RequestId("r1"),
        intent_id=c.IntentId("i-1"),
        verdict=c.Rejected(code=c.RejectCode.HALTED, message="halted"),
        decided_ns=9,
    ),
    c.Decision(
        request_id=c.RequestId("r2"),
        verdict=c.Accepted(client_order_ids=(c.ClientOrderId("c-1"),)),
        decided_ns=9,
    ),
    c.OrderUpdate(
        client_order_id=c.ClientOrderId("c-1"),
        intent_id=c.IntentId("i-1"),
        product_id=c.ProductId("BTC-USD"),
        status=c.OrderStatus.FILLED,
        filled_size=Decimal("0.5"),
        average_fill_price=Decimal("50000.5"),
        event_ns=9,
    ),
    c.GateState(state=c.TradingState.HALTED, cause="operator", since_ns=9, sent_ns=9),
]


def _bodies(path: Path, events: list[EngineEvent]) -> list[tuple[int, str, str]]:
    store = EventStore(path)
    store.append(events)
    store.close()
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT ts_ns, kind, body FROM events ORDER BY seq").fetchall()


@pytest.mark.parametrize("struct", _STRUCTS, ids=lambda s: type(s).__name__)
def test_event_store_when_body_is_a_struct_then_stored_as_its_builtins(
    tmp_path: Path, struct: msgspec.Struct
) -> None:
    """The same row, byte for byte, as the struct's `to_builtins` dict gives."""
    built = msgspec.to_builtins(struct)
    assert isinstance(built, dict)
    as_struct = _bodies(tmp_path / "a.db", [EngineEvent(ts_ns=1, kind="k", body=struct)])
    as_dict = _bodies(tmp_path / "b.db", [EngineEvent(ts_ns=1, kind="k", body=built)])
    assert as_struct == as_dict
