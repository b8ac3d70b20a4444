"""A cancel of the agent's link is never lost: not when a reply lands in the same tick
(Python 3.11's `asyncio.wait_for` returns the reply then: cpython#86296), and not when
the connection fails as the link is told to stop.

The peer is a scripted gate on a real Unix socket speaking the real frames, so what
triggers the cancel and what races it arrive in one read, deterministically.
"""

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import trading_contract as c
from trading_agent.gate_link import GateLink

RACE = "race"  # the cause of the push whose handler cancels


def _order() -> c.PlaceOrder:
    return c.PlaceOrder(
        request_id=c.RequestId("r-1"), intent_id=c.IntentId("i-1"),
        product_id=c.ProductId("BTC-USD"), side=c.Side.BUY, order_type=c.OrderType.LIMIT,
        size=Decimal("0.001"), size_in=c.SizeUnit.BASE, limit_price=Decimal("50000"),
        time_in_force=c.TimeInForce.GTC, strategy_id=c.StrategyId("test"),
        reason=c.Reason(regime="test"), sent_ns=time.time_ns(),
    )  # fmt: skip


def _welcome(writer: asyncio.StreamWriter, now: int) -> None:
    writer.write(c.frame(c.encode(c.Welcome(
        protocol_version=1, gate_id="gate-test", session_id="s-1", heartbeat_interval_ms=1000,
        heartbeat_timeout_ms=3000, max_frame_bytes=1 << 20, state=c.TradingState.ACTIVE,
        sent_ns=now,
    ))))  # type: ignore[arg-type]  # fmt: skip


async def _scripted_gate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Welcome the hello; answer the first request with a push and its reply in one write."""
    now = time.time_ns()
    await c.read_frame(reader.readexactly)
    _welcome(writer, now)
    try:
        while (body := await c.read_frame(reader.readexactly)) is not None:
            message = c.decode_agent_message(body)
            if isinstance(message, c.PlaceOrder):
                push = c.GateState(
                    state=c.TradingState.ACTIVE, cause=RACE, since_ns=now, sent_ns=now
                )
                reply = c.Decision(
                    request_id=message.request_id, intent_id=message.intent_id,
                    verdict=c.Accepted(client_order_ids=("coid-1",)), decided_ns=now,
                )  # type: ignore[arg-type]  # fmt: skip
                writer.write(c.frame(c.encode(push)) + c.frame(c.encode(reply)))
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the agent hung up
    finally:
        writer.close()


async def _cancelled_while_reply_lands(socket: Path) -> tuple[bool, list[c.GateMessage]]:
    server = await asyncio.start_unix_server(_scripted_gate, path=str(socket))
    pushed: list[c.GateMessage] = []
    requesting: list[asyncio.Task[object]] = []

    def on_push(message: c.GateMessage) -> None:
        pushed.append(message)
        if isinstance(message, c.GateState) and message.cause == RACE:
            requesting[0].cancel()  # the reply is dispatched right after, in this tick

    link = GateLink(socket, agent_id="agent-test", now_ns=time.time_ns, on_push=on_push)
    runner = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(link.connected.wait(), 5)
        requesting.append(asyncio.create_task(link.request(_order())))
        await asyncio.wait(requesting, timeout=5)
        return requesting[0].cancelled(), pushed
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        server.close()
        await server.wait_closed()


def test_request_when_cancelled_as_its_reply_arrives_then_cancelled(tmp_path: Path) -> None:
    """The cancel wins: the caller stops (an agent told to stop does stop), and the
    reply it no longer waits for is handed to on_push like any unasked message."""
    cancelled, pushed = asyncio.run(_cancelled_while_reply_lands(tmp_path / "gate.sock"))

    assert cancelled
    assert any(isinstance(m, c.Decision) and m.request_id == "r-1" for m in pushed)


async def _garbling_gate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Welcome the hello, then send a push and a frame that is not a gate message."""
    now = time.time_ns()
    await c.read_frame(reader.readexactly)
    _welcome(writer, now)
    push = c.GateState(state=c.TradingState.ACTIVE, cause=RACE, since_ns=now, sent_ns=now)
    writer.write(c.frame(c.encode(push)) + c.frame(b'{"type": "no_such_message"}'))
    try:
        await reader.read()  # until the agent hangs up
    finally:
        writer.close()


async def _link_cancelled_as_the_stream_breaks(socket: Path) -> bool:
    server = await asyncio.start_unix_server(_garbling_gate, path=str(socket))
    runner: list[asyncio.Task[None]] = []

    def on_push(message: c.GateMessage) -> None:
        if isinstance(message, c.GateState) and message.cause == RACE:
            # Runs just after the garbled frame has failed the session in this tick,
            # while the link waits for its heartbeat task to finish.
            asyncio.get_running_loop().call_soon(runner[0].cancel)

    link = GateLink(socket, agent_id="agent-test", now_ns=time.time_ns, on_push=on_push)
    runner.append(asyncio.create_task(link.run()))
    try:
        await asyncio.wait(runner, timeout=3)
        return runner[0].cancelled()
    finally:
        runner[0].cancel()
        await asyncio.gather(runner[0], return_exceptions=True)
        server.close()
        await server.wait_closed()


def test_run_when_cancelled_as_a_bad_frame_ends_the_session_then_cancelled(
    tmp_path: Path,
) -> None:
    """The stop is not taken for the heartbeat task's own cancel: the link ends instead
    of reconnecting forever."""
    assert asyncio.run(_link_cancelled_as_the_stream_breaks(tmp_path / "gate.sock"))
