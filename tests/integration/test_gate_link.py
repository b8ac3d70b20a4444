"""The agent's GateLink against a real `trading-gate run` process over its real socket."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import trading_contract as c
from gate_process import GateProcess, resting_bid, running_gate
from trading_agent.gate_link import GateLink, GateRejectedHello, GateUnavailable, Reply


def _order(intent: str) -> c.PlaceOrder:
    return c.PlaceOrder(
        request_id=f"r-{intent}",
        intent_id=intent,
        product_id="BTC-USD",
        side=c.Side.BUY,
        order_type=c.OrderType.LIMIT,
        size=Decimal("0.0001"),
        size_in=c.SizeUnit.BASE,
        limit_price=resting_bid(),
        time_in_force=c.TimeInForce.GTC,
        strategy_id="test",
        reason=c.Reason(regime="test"),
        sent_ns=time.time_ns(),
    )


def _ready(gate: GateProcess) -> None:
    """Wait until the gate has reconciled and trades (it starts REDUCING)."""
    gate.wait_for(lambda: gate.status().state is c.TradingState.ACTIVE)


async def _with_link(
    gate: GateProcess,
    body: Callable[[GateLink, list[c.GateMessage]], Awaitable[Any]],
    **options: Any,
) -> Any:
    pushed: list[c.GateMessage] = []
    link = GateLink(
        gate.agent_socket, agent_id="agent-test", now_ns=time.time_ns, on_push=pushed.append,
        **options,
    )  # fmt: skip
    runner = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(link.connected.wait(), 10)
        return await body(link, pushed)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def test_place_when_connected_then_decision_and_pushed_updates(tmp_path: Path) -> None:
    """A PlaceOrder gets its own Decision back; the order's OPEN update arrives as a push."""
    with running_gate(tmp_path) as gate:
        _ready(gate)

        async def body(link: GateLink, pushed: list[c.GateMessage]) -> c.Decision:
            reply = await link.request(_order("i-1"))
            assert isinstance(reply, c.Decision)
            for _ in range(200):
                if any(isinstance(m, c.OrderUpdate) for m in pushed):
                    break
                await asyncio.sleep(0.02)
            assert any(
                isinstance(m, c.OrderUpdate) and m.status is c.OrderStatus.OPEN for m in pushed
            ), pushed
            assert isinstance(pushed[0], c.GateState)  # the connection's first push
            return reply

        decision = asyncio.run(_with_link(gate, body))
        assert isinstance(decision.verdict, c.Accepted)
        assert decision.request_id == "r-i-1"


def test_heartbeats_when_link_idle_past_the_timeout_then_gate_stays_active(
    tmp_path: Path,
) -> None:
    """The link's own heartbeats keep the dead man's switch (3 s) from firing."""
    with running_gate(tmp_path) as gate:
        _ready(gate)

        async def body(link: GateLink, pushed: list[c.GateMessage]) -> None:
            await asyncio.sleep(4.0)

        asyncio.run(_with_link(gate, body, heartbeat_s=0.5))
        assert gate.status().state is c.TradingState.ACTIVE
        assert gate.audit_rows("kill.report") == []


async def _request_until_refused(link: GateLink) -> None:
    """Place orders until the link notices the gate is gone (within a read or two)."""
    for i in range(50):
        try:
            await link.request(_order(f"i-dead-{i}"))
        except GateUnavailable:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the link never noticed the dead gate")


def test_request_when_gate_dies_then_gate_unavailable(tmp_path: Path) -> None:
    """A gate that is killed mid-session fails the next request with GateUnavailable."""
    with running_gate(tmp_path) as gate:
        _ready(gate)

        async def body(link: GateLink, pushed: list[c.GateMessage]) -> None:
            assert gate.proc is not None
            gate.proc.kill()
            gate.proc.wait()
            await _request_until_refused(link)

        asyncio.run(_with_link(gate, body, reply_timeout_s=2.0))


def test_run_when_gate_restarts_then_link_reconnects(tmp_path: Path) -> None:
    """After the gate restarts on the same data dir, the link reconnects by itself."""
    with running_gate(tmp_path) as gate:
        _ready(gate)

        async def body(link: GateLink, pushed: list[c.GateMessage]) -> Reply:
            first = link.welcome
            gate.stop()
            await asyncio.to_thread(gate.start)
            for _ in range(300):
                if link.connected.is_set() and link.welcome is not first:
                    break
                await asyncio.sleep(0.05)
            assert link.welcome is not first
            return await link.request(
                c.Query(request_id="q-1", kind=c.QueryKind.GATE_STATE, sent_ns=time.time_ns())
            )

        reply = asyncio.run(_with_link(gate, body))
        assert isinstance(reply, c.QueryReply)


def test_run_when_another_agent_is_connected_then_hello_refused(tmp_path: Path) -> None:
    """A second link is refused by the gate, and says so instead of retrying forever."""
    with running_gate(tmp_path) as gate:

        async def body(link: GateLink, pushed: list[c.GateMessage]) -> None:
            second = GateLink(
                gate.agent_socket, agent_id="agent-two", now_ns=time.time_ns, on_push=print
            )
            with pytest.raises(GateRejectedHello, match="another agent"):
                await asyncio.wait_for(second.run(), 10)

        asyncio.run(_with_link(gate, body))


def test_run_when_no_gate_and_no_reconnect_then_gate_unavailable(tmp_path: Path) -> None:
    """With no gate listening, a link told not to reconnect fails with a clear error."""
    link = GateLink(
        tmp_path / "absent.sock", agent_id="a", now_ns=time.time_ns, on_push=lambda m: None
    )
    with pytest.raises(GateUnavailable, match=r"absent\.sock"):
        asyncio.run(link.run(reconnect=False))
