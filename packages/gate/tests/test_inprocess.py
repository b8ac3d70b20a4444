"""The in-process gate of backtests: the real Gate over the paper venue, caller-driven."""

import asyncio
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import msgspec

import trading_sim as sim
from gate_process import TEST_LIMITS, write_config
from trading_contract import (
    Accepted,
    CancelAll,
    CancelOrder,
    ClientOrderId,
    Decision,
    Fill,
    GateMessage,
    GateState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PlaceOrder,
    Reason,
    RequestId,
    Side,
    SizeUnit,
    TimeInForce,
    TradingState,
)
from trading_gate import InProcessGate, PaperConfig, ReplayClock, load_config

T0 = 1_764_614_400 * 10**9
MINUTE = 60 * 10**9


def bar(start: int) -> sim.Bar:
    return sim.Bar(
        product_id="BTC-USD", open_ns=start, close_ns=start + MINUTE,
        open=Decimal(50_000), high=Decimal(50_010), low=Decimal(49_990),
        close=Decimal(50_000), volume=Decimal(100),
    )  # fmt: skip


def gate(tmp_path: Path) -> tuple[InProcessGate, ReplayClock]:
    clock = ReplayClock(T0)
    config = load_config(write_config(tmp_path / "safety.yaml", **TEST_LIMITS))
    g = InProcessGate(
        config=config,
        data_dir=tmp_path,
        clock=clock,
        paper=PaperConfig(starting_balances={"USD": Decimal(10_000)}),
        starting_cash_usd=Decimal(10_000),
    )
    return g, clock


def bid(intent: str, price: str = "49500.00") -> PlaceOrder:
    return PlaceOrder(
        request_id=RequestId(f"r-{intent}"), intent_id=intent, product_id="BTC-USD",
        side=Side.BUY, order_type=OrderType.LIMIT, size=Decimal("0.001"),
        size_in=SizeUnit.BASE, limit_price=Decimal(price), time_in_force=TimeInForce.GTC,
        strategy_id="test", reason=Reason(regime="test"), sent_ns=T0,
    )  # type: ignore[arg-type]  # fmt: skip


def statuses(messages: Sequence[GateMessage]) -> list[OrderStatus]:
    return [m.status for m in messages if isinstance(m, OrderUpdate)]


def test_start_when_venue_is_empty_then_active_and_said_so(tmp_path: Path) -> None:
    """Reconciling an empty venue leaves REDUCING; the first message says ACTIVE."""
    g, _ = gate(tmp_path)

    out = asyncio.run(g.start())

    assert any(isinstance(m, GateState) and m.state is TradingState.ACTIVE for m in out)
    g.close()


def test_place_then_cancel_when_driven_then_every_message_comes_back_in_order(
    tmp_path: Path,
) -> None:
    """Decision, OPEN, then on cancel a Decision and CANCELLED: what an agent would get."""
    g, clock = gate(tmp_path)

    async def scenario() -> tuple[list[GateMessage], list[GateMessage], list[GateMessage]]:
        await g.start()
        clock.advance(T0 + MINUTE)
        await g.on_bar(bar(T0))
        placed = await g.place(bid("i-1"))
        decision = placed[0]
        assert isinstance(decision, Decision)
        assert isinstance(decision.verdict, Accepted)
        (coid,) = decision.verdict.client_order_ids
        cancelled = await g.cancel(
            CancelOrder(
                request_id=RequestId("c-1"), client_order_id=ClientOrderId(coid), sent_ns=T0
            )
        )
        again = await g.place(bid("i-2", "49400.00"))  # not a duplicate of i-1
        everything = await g.cancel_all(CancelAll(request_id=RequestId("c-2"), sent_ns=T0))
        return placed, cancelled, again + everything

    placed, cancelled, rest = asyncio.run(scenario())

    assert statuses(placed) == [OrderStatus.OPEN]
    assert isinstance(cancelled[0], Decision)
    assert OrderStatus.CANCELLED in statuses(cancelled)
    assert OrderStatus.CANCELLED in statuses(rest)
    g.close()


def test_sync_when_a_fill_happened_on_placing_then_reported_once_between_bars(
    tmp_path: Path,
) -> None:
    """A market order fills as it is placed; `sync` reports it at once (the gate syncs
    on bars otherwise), and the next bar does not report it again."""
    g, clock = gate(tmp_path)
    market = msgspec.structs.replace(
        bid("i-1"), order_type=OrderType.MARKET, limit_price=None, time_in_force=TimeInForce.IOC
    )

    async def scenario() -> tuple[list[GateMessage], list[GateMessage], list[GateMessage]]:
        await g.start()
        clock.advance(T0 + MINUTE)
        await g.on_bar(bar(T0))
        g.on_open("BTC-USD", Decimal(50_000))
        placed = await g.place(market)
        synced = await g.sync()
        clock.advance(T0 + 2 * MINUTE)
        return placed, synced, await g.on_bar(bar(T0 + MINUTE))

    placed, synced, next_bar = asyncio.run(scenario())

    assert not any(isinstance(m, Fill) for m in placed)
    fills = [m for m in synced if isinstance(m, Fill)]
    assert [(f.side, f.size) for f in fills] == [(Side.BUY, Decimal("0.001"))]
    assert statuses(synced) == [OrderStatus.FILLED]
    assert not any(isinstance(m, Fill) for m in next_bar)
    g.close()


def test_replay_clock_when_waiting_then_simulated_time_passes_and_never_goes_back() -> None:
    """sleep moves replayed time on; advance never moves it back."""
    clock = ReplayClock(T0)

    asyncio.run(clock.sleep(1.5))
    clock.advance(T0)

    assert clock.now_ns() == clock.monotonic_ns() == T0 + 1_500_000_000


def test_start_when_venue_holds_less_than_the_journal_bought_then_not_serving(
    tmp_path: Path,
) -> None:
    """Reconciliation compares balances: a restart on a venue without the BTC the
    journal's fills bought stays REDUCING and says why."""
    g, clock = gate(tmp_path)

    async def buy() -> None:
        await g.start()
        clock.advance(T0 + MINUTE)
        await g.on_bar(bar(T0))
        market = msgspec.structs.replace(
            bid("i-buy"), order_type=OrderType.MARKET, limit_price=None,
            time_in_force=TimeInForce.IOC,
        )  # fmt: skip
        await g.place(market)
        clock.advance(T0 + 2 * MINUTE)
        await g.on_bar(bar(T0 + MINUTE))  # the sync that journals the fill

    asyncio.run(buy())
    assert g.gate.ledger.positions_base["BTC-USD"] == Decimal("0.001")
    g.close()

    again, _ = gate(tmp_path)  # the same journal, a venue that never saw the fill
    out = asyncio.run(again.start())

    assert any(isinstance(m, GateState) and m.state is TradingState.REDUCING for m in out)
    assert any("journal's fills leave the gate with 0.001 BTC" in a for a in again.alerts)
    again.close()


_TABLE_ROWS = {
    "audit": "SELECT * FROM audit ORDER BY rowid",
    "intents": "SELECT * FROM intents ORDER BY rowid",
    "orders": "SELECT * FROM orders ORDER BY rowid",
    "fills": "SELECT * FROM fills ORDER BY rowid",
    "gate_mode": "SELECT * FROM gate_mode ORDER BY rowid",
}


def _traded(root: Path, *, live_durability: bool) -> tuple[object, ...]:
    """Place, fill, rest and cancel 40 orders (over 100 audit rows, so anchors fall);
    return every message, every gate.db row and the anchor file."""
    root.mkdir()
    clock = ReplayClock(T0)
    g = InProcessGate(
        config=load_config(write_config(root / "safety.yaml", **TEST_LIMITS)),
        data_dir=root,
        clock=clock,
        paper=PaperConfig(starting_balances={"USD": Decimal(10_000)}),
        starting_cash_usd=Decimal(10_000),
        live_durability=live_durability,
    )

    async def scenario() -> list[GateMessage]:
        out = await g.start()
        for i in range(40):
            start = T0 + i * MINUTE
            clock.advance(start + MINUTE)
            out += await g.on_bar(bar(start))
            price = "50100.00" if i % 2 else f"{49_000 + i}.00"  # crossing, or resting
            out += await g.place(bid(f"i-{i}", price))
        out += await g.cancel_all(CancelAll(request_id=RequestId("c"), sent_ns=T0))
        return out

    messages = asyncio.run(scenario())
    g.close()
    conn = sqlite3.connect(root / "gate.db")
    rows = {t: conn.execute(q).fetchall() for t, q in _TABLE_ROWS.items()}
    conn.close()
    return messages, rows, (root / "audit.anchor").read_bytes()


def test_inprocess_when_deferred_commit_then_same_messages_rows_and_anchors_as_live(
    tmp_path: Path,
) -> None:
    """The backtest's batched gate.db is the live-durability gate.db, byte for byte."""
    fast = _traded(tmp_path / "fast", live_durability=False)
    live = _traded(tmp_path / "live", live_durability=True)

    assert fast == live
    assert len(fast[1]["audit"]) > 100
    assert len(fast[2].splitlines()) >= 2
