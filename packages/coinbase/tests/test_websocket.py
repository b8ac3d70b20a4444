"""Websocket sessions against a real local websockets server on 127.0.0.1."""

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.auth import ApiKey, Signer
from trading_coinbase.errors import SchemaError, SubscribeTimeout, TransportError
from trading_coinbase.websocket import (
    FeedEvent,
    SequenceDuplicate,
    SequenceGap,
    SequenceOutOfOrder,
    SequenceTracker,
    Subscription,
    WebsocketFeed,
    WsConnection,
)

KEY_NAME = "organizations/org-1/apiKeys/key-1"
Script = Callable[[ServerConnection, list[dict[str, Any]]], Awaitable[None]]


def frame(channel: str, seq: int | str, events: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "channel": channel,
            "client_id": "",
            "timestamp": "2026-04-07T00:28:59.662782123Z",
            "sequence_num": seq,
            "events": events,
        }
    )


HEARTBEAT = [{"current_time": "2026-04-07 00:28:59.6 +0000 UTC m=+1.0", "heartbeat_counter": 7}]
TRADES = [
    {
        "type": "update",
        "trades": [
            {
                "trade_id": "995098663",
                "product_id": "BTC-USD",
                "price": "68923.67",
                "size": "0.00064",
                "side": "SELL",
                "time": "2026-04-07T00:28:58.544778Z",
            }
        ],
    }
]
L2 = [
    {
        "type": "snapshot",
        "product_id": "BTC-USD",
        "updates": [
            {
                "side": "bid",
                "event_time": "2026-04-07T00:28:59Z",
                "price_level": "68923.66",
                "new_quantity": "0.17189468",
            }
        ],
    }
]


async def collect(
    script: Script,
    subscriptions: list[Subscription],
    *,
    signer: Signer | None = None,
    idle_timeout_s: float = 2.0,
) -> tuple[list[FeedEvent], list[dict[str, Any]], BaseException | None]:
    """Run one session against a server playing `script`; return events, frames, end."""
    received: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        await script(connection, received)

    events: list[FeedEvent] = []
    ended: BaseException | None = None
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        feed = WebsocketFeed(
            url=f"ws://127.0.0.1:{port}", signer=signer, idle_timeout_s=idle_timeout_s
        )
        try:
            async with aclosing(feed.session(subscriptions)) as session:
                async for event in session:
                    events.append(event)
        except (TransportError, SchemaError) as exc:
            ended = exc
    return events, received, ended


async def read_subscribes(connection: ServerConnection, into: list[dict[str, Any]], n: int) -> None:
    for _ in range(n):
        into.append(json.loads(await asyncio.wait_for(connection.recv(), 2)))


def test_session_when_sequence_jumps_repeats_and_goes_back_then_typed_events() -> None:
    """Gap before its message; duplicate and out-of-order replace theirs; unknown skipped."""

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 2)
        for message in [
            frame(
                "subscriptions",
                1,
                [{"subscriptions": {"heartbeats": [], "market_trades": ["BTC-USD"]}}],
            ),
            frame("heartbeats", 2, HEARTBEAT),
            frame("market_trades", 3, TRADES),
            frame("market_trades", 6, TRADES),  # 4 and 5 lost
            frame("market_trades", 6, TRADES),  # replayed
            frame("l2_data", 4, L2),  # late
            frame("brand_new_channel", 7, []),  # unknown: counted, skipped
            frame("l2_data", "8", L2),  # sequence as a string [C13]
        ]:
            await connection.send(message)
        await connection.close()

    events, received, ended = asyncio.run(
        collect(script, [Subscription(channel="market_trades", product_ids=("BTC-USD",))])
    )

    assert received == [
        {"type": "subscribe", "channel": "heartbeats"},
        {"type": "subscribe", "channel": "market_trades", "product_ids": ["BTC-USD"]},
    ]
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "SubscriptionsMessage",
        "HeartbeatsMessage",
        "MarketTradesMessage",
        "SequenceGap",
        "MarketTradesMessage",
        "SequenceDuplicate",
        "SequenceOutOfOrder",
        "L2DataMessage",
    ]
    assert events[3] == SequenceGap(expected=4, received=6, channel="market_trades")
    assert events[5] == SequenceDuplicate(received=6, channel="market_trades")
    assert events[6] == SequenceOutOfOrder(last=6, received=4, channel="l2_data")
    assert isinstance(ended, TransportError)


def test_session_when_messages_decode_then_typed_payloads() -> None:
    """Heartbeat counter, trades and level2 updates decode into their Structs."""

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 3)
        await connection.send(frame("heartbeats", 1, HEARTBEAT))
        await connection.send(frame("market_trades", 2, TRADES))
        await connection.send(frame("l2_data", 3, L2))
        await connection.close()

    subs = [
        Subscription(channel="market_trades", product_ids=("BTC-USD",)),
        Subscription(channel="level2", product_ids=("BTC-USD",)),
    ]
    events, received, _ = asyncio.run(collect(script, subs))

    heartbeat, trades, book = events
    assert isinstance(heartbeat, w.HeartbeatsMessage)
    assert t.parse_wire_int(heartbeat.events[0].heartbeat_counter, "$") == 7
    assert isinstance(trades, w.MarketTradesMessage)
    assert trades.events[0].trades[0].price == "68923.67"
    assert isinstance(book, w.L2DataMessage)
    assert book.events[0].updates[0].new_quantity == "0.17189468"
    assert [r["channel"] for r in received] == ["heartbeats", "market_trades", "level2"]


def test_user_session_when_subscribing_then_fresh_jwt_without_uri_and_orders_decode(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """Only the user subscribe carries a JWT; it verifies, has no `uri`; orders decode."""
    snapshot = [
        {
            "type": "snapshot",
            "orders": [
                {
                    "order_id": "a1",
                    "client_order_id": "cid-1",
                    "cumulative_quantity": "0.4",
                    "leaves_quantity": "0.6",
                    "avg_price": "68923.67",
                    "total_fees": "0.1",
                    "status": "OPEN",
                    "product_id": "BTC-USD",
                    "order_side": "BUY",
                    "order_type": "Limit",
                    "creation_time": "2026-04-07T14:29:55.123456Z",
                    "number_of_fills": "2",
                    "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
                }
            ],
        }
    ]

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 2)
        await connection.send(frame("user", 1, snapshot))
        await connection.close()

    signer = Signer(ApiKey(KEY_NAME, ec_pem))
    events, received, _ = asyncio.run(
        collect(script, [Subscription(channel="user")], signer=signer)
    )

    heartbeats, user = received
    assert "jwt" not in heartbeats
    claims = jwt.decode(
        user["jwt"], ec_private_key.public_key(), algorithms=["ES256"], issuer="cdp"
    )
    assert claims["sub"] == KEY_NAME
    assert "uri" not in claims
    assert jwt.get_unverified_header(user["jwt"])["kid"] == KEY_NAME
    (message,) = events
    assert isinstance(message, w.UserMessage)
    state = t.user_order_state(message.events[0].orders[0])
    assert (state.order_type, state.status) == ("LIMIT", t.VenueOrderStatus.OPEN)
    assert state.cumulative_quantity + state.leaves_quantity == 1


def test_session_when_server_goes_quiet_then_transport_error_after_idle_timeout() -> None:
    """No frame for idle_timeout_s ends the session: the caller reconnects."""

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 1)
        await connection.wait_closed()

    events, _, ended = asyncio.run(collect(script, [], idle_timeout_s=0.2))

    assert events == []
    assert isinstance(ended, TransportError)
    assert "no frame" in str(ended)


def test_session_when_venue_sends_error_frame_then_transport_error_with_its_message() -> None:
    """A `type: error` frame ends the session with the venue's message."""

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 1)
        await connection.send(json.dumps({"type": "error", "message": "failure to subscribe"}))
        await connection.wait_closed()

    _, _, ended = asyncio.run(collect(script, []))

    assert isinstance(ended, TransportError)
    assert "failure to subscribe" in str(ended)


def test_session_when_frame_breaks_its_schema_then_schema_error_names_path() -> None:
    """A known channel with a malformed event is a SchemaError, not a silent skip."""

    async def script(connection: ServerConnection, received: list[dict[str, Any]]) -> None:
        await read_subscribes(connection, received, 1)
        await connection.send(frame("market_trades", 1, [{"type": "update", "trades": [{}]}]))
        await connection.wait_closed()

    _, _, ended = asyncio.run(collect(script, []))

    assert isinstance(ended, SchemaError)
    assert ended.path.startswith("$.events[0].trades[0]")


class _StalledConnection:
    """Our WsConnection protocol with a send that never completes (not a websockets mock)."""

    async def send(self, message: str) -> None:
        await asyncio.sleep(10)

    async def recv(self) -> str:  # pragma: no cover - never reached
        return ""


@asynccontextmanager
async def _stalled(url: str) -> AsyncIterator[WsConnection]:
    yield _StalledConnection()


def test_session_when_subscribes_miss_the_deadline_then_subscribe_timeout() -> None:
    """The venue drops a connection with no subscribe within 5 s; we fail first."""
    feed = WebsocketFeed(url="ws://unused", connect=_stalled, subscribe_deadline_s=0.05)

    async def go() -> None:
        async with aclosing(feed.session([])) as session:
            async for _ in session:
                pass  # pragma: no cover

    with pytest.raises(SubscribeTimeout, match="not sent within"):
        asyncio.run(go())


def test_subscribe_when_user_channel_without_signer_then_value_error() -> None:
    """The user channel needs a JWT, so a keyless feed refuses before connecting."""
    with pytest.raises(ValueError, match="needs a key"):
        WebsocketFeed().subscribe_messages([Subscription(channel="user")])


def test_subscribe_request_when_shown_then_jwt_masked() -> None:
    """A subscribe message's repr never shows its bearer token."""
    shown = repr(w.SubscribeRequest(type="subscribe", channel="user", jwt="eyJ.secret.sig"))

    assert "eyJ" not in shown
    assert "'***'" in shown


def test_connect_when_nothing_listens_then_transport_error() -> None:
    """A refused connection is a TransportError from the one mapping place."""

    async def go() -> None:
        feed = WebsocketFeed(url="ws://127.0.0.1:9", idle_timeout_s=1)
        async with aclosing(feed.session([])) as session:
            async for _ in session:
                pass  # pragma: no cover

    with pytest.raises(TransportError):
        asyncio.run(go())


@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(min_value=0, max_value=10**6))
def test_tracker_when_messages_dropped_then_one_gap_per_run_of_losses(
    kept: list[bool], first: int
) -> None:
    """Numbers first, first+1, ... with some dropped: a gap exactly where each run of drops
    ends, naming the first missing number and the one that came."""
    kept[0] = True  # the baseline arrives
    arrived = [first + i for i, keep in enumerate(kept) if keep]
    tracker = SequenceTracker()

    gaps = [g for n in arrived if (g := tracker.observe(n, "l2_data")) is not None]

    expected = [
        SequenceGap(expected=prev + 1, received=n, channel="l2_data")
        for prev, n in itertools.pairwise(arrived)
        if n != prev + 1
    ]
    assert gaps == expected


@given(st.integers(min_value=2, max_value=50), st.data())
def test_tracker_when_a_number_repeats_or_goes_back_then_reported_and_baseline_kept(
    length: int, data: st.DataObject
) -> None:
    """A repeat of the last number is a duplicate, an older one out of order; neither moves
    the baseline, so the next number in line is clean."""
    tracker = SequenceTracker()
    for n in range(length):
        assert tracker.observe(n, "user") is None
    older = data.draw(st.integers(min_value=0, max_value=length - 2))

    assert tracker.observe(length - 1, "user") == SequenceDuplicate(
        received=length - 1, channel="user"
    )
    assert tracker.observe(older, "user") == SequenceOutOfOrder(
        last=length - 1, received=older, channel="user"
    )
    assert tracker.observe(length, "user") is None
