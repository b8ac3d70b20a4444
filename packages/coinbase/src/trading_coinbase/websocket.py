"""Advanced Trade websocket sessions: market data (no key) and the user channel (JWT).

Facts (EXCHANGE_AND_LLM_APIS.md §3): market data at wss://advanced-trade-ws.coinbase.com,
user data at wss://advanced-trade-ws-user.coinbase.com. One channel per subscribe
message, sent within 5 s of connecting or the venue drops the connection; `jwt` (fresh
per message, no `uri`) only for `user` and `futures_balance_summary`. Idle channels
close after 60-90 s, so every session also subscribes to `heartbeats` (first); no frame
for `idle_timeout_s` (~10 s) ends the session. level2 arrives as channel `l2_data`.

`sequence_num` rises by one per message on a connection. The session tracks it and
reports, as typed events instead of carrying on silently:

- `SequenceGap` (a jump > 1): yielded before the message, which is still delivered;
  the caller drops its book (l2) or reconciles over REST (user).
- `SequenceDuplicate` (== last) and `SequenceOutOfOrder` (< last): yielded *instead*
  of the message, which is stale.

Frames on channels this library does not know count for the sequence and are skipped;
a `{"type":"error"}` frame ends the session with `TransportError`. A session is one
connection: on any `TransportError` the caller backs off, reconnects, resubscribes
and reconciles. Iterate it under `contextlib.aclosing` so leaving early closes the
socket. The connect function is injectable (tests run a real local server).
"""

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol, get_args

import msgspec
import websockets.asyncio.client

from trading_coinbase import schemas as w
from trading_coinbase.auth import Signer
from trading_coinbase.boundary import decode_json, decode_ws_message, websocket_errors
from trading_coinbase.errors import SchemaError, SubscribeTimeout, TransportError
from trading_coinbase.translate import parse_wire_int

__all__ = [
    "IDLE_TIMEOUT_S",
    "JWT_CHANNELS",
    "MARKET_DATA_URL",
    "MAX_FRAME_BYTES",
    "SUBSCRIBE_DEADLINE_S",
    "USER_DATA_URL",
    "Connect",
    "FeedEvent",
    "SequenceDuplicate",
    "SequenceEvent",
    "SequenceGap",
    "SequenceOutOfOrder",
    "SequenceTracker",
    "Subscription",
    "WebsocketFeed",
    "WsConnection",
    "default_connect",
]

MARKET_DATA_URL: Final = "wss://advanced-trade-ws.coinbase.com"
USER_DATA_URL: Final = "wss://advanced-trade-ws-user.coinbase.com"
SUBSCRIBE_DEADLINE_S: Final = 5.0
IDLE_TIMEOUT_S: Final = 10.0
MAX_FRAME_BYTES: Final = 16 * 1024 * 1024  # level2 snapshots need >= 10 MiB (§3)
JWT_CHANNELS: Final = frozenset({"user", "futures_balance_summary"})
_HEARTBEATS: Final = "heartbeats"
_KNOWN_CHANNELS: Final = frozenset(
    cls.__struct_config__.tag for cls in get_args(w.WsMessage) if cls.__struct_config__.tag
)


class WsConnection(Protocol):
    """The two calls a session makes on an open websocket."""

    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes: ...


Connect = Callable[[str], AbstractAsyncContextManager[WsConnection]]


def default_connect(url: str) -> AbstractAsyncContextManager[WsConnection]:
    """A real connection with default TLS verification and a 16 MiB frame limit."""
    return websockets.asyncio.client.connect(url, max_size=MAX_FRAME_BYTES, open_timeout=10)


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """One channel and its products (none for `user`, `heartbeats`, `status`)."""

    channel: str
    product_ids: tuple[str, ...] = ()


class SequenceGap(msgspec.Struct, frozen=True, kw_only=True):
    """Messages were lost: `received` came where `expected` should have."""

    expected: int
    received: int
    channel: str


class SequenceDuplicate(msgspec.Struct, frozen=True, kw_only=True):
    """The last sequence number came again; the message was dropped."""

    received: int
    channel: str


class SequenceOutOfOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A number below the last one came; the message was dropped."""

    last: int
    received: int
    channel: str


SequenceEvent = SequenceGap | SequenceDuplicate | SequenceOutOfOrder
FeedEvent = w.WsMessage | SequenceEvent


class SequenceTracker:
    """`sequence_num` on one connection: the first number sets the baseline."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def observe(self, received: int, channel: str) -> SequenceEvent | None:
        """The anomaly `received` shows, or None if it is the next number."""
        last = self._last
        if last is None or received == last + 1:
            self._last = received
            return None
        if received > last + 1:
            self._last = received
            return SequenceGap(expected=last + 1, received=received, channel=channel)
        if received == last:
            return SequenceDuplicate(received=received, channel=channel)
        return SequenceOutOfOrder(last=last, received=received, channel=channel)


class WebsocketFeed:
    """Sessions on one websocket endpoint; give a `Signer` for the user channel."""

    def __init__(
        self,
        *,
        url: str = MARKET_DATA_URL,
        signer: Signer | None = None,
        connect: Connect = default_connect,
        subscribe_deadline_s: float = SUBSCRIBE_DEADLINE_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self._url = url
        self._signer = signer
        self._connect = connect
        self._deadline_s = subscribe_deadline_s
        self._idle_s = idle_timeout_s

    def subscribe_messages(self, subscriptions: Sequence[Subscription]) -> list[str]:
        """The subscribe frames for `subscriptions`, heartbeats first, JWTs fresh.

        Raises:
            ValueError: a JWT channel was asked for without a signer.
        """
        wanted = [Subscription(channel=_HEARTBEATS)]
        wanted += [s for s in subscriptions if s.channel != _HEARTBEATS]
        return [msgspec.json.encode(self._request(s)).decode() for s in wanted]

    def _request(self, sub: Subscription) -> w.SubscribeRequest:
        token = None
        if sub.channel in JWT_CHANNELS:
            if self._signer is None:
                raise ValueError(f"channel {sub.channel!r} needs a key (a Signer)")
            token = self._signer.websocket_jwt()
        return w.SubscribeRequest(
            type="subscribe", channel=sub.channel, product_ids=sub.product_ids or None, jwt=token
        )

    async def session(
        self, subscriptions: Sequence[Subscription]
    ) -> AsyncGenerator[FeedEvent, None]:
        """Connect, subscribe, then yield messages and sequence events until it ends.

        Raises:
            SubscribeTimeout: the subscribes were not sent within the deadline.
            TransportError: the connection failed, closed, went idle or sent an error.
            SchemaError: a frame did not match its schema.
        """
        frames = self.subscribe_messages(subscriptions)
        tracker = SequenceTracker()
        with websocket_errors(self._url):
            async with self._connect(self._url) as connection:
                await self._send_all(connection, frames)
                while True:
                    for event in _events(await self._receive(connection), tracker):
                        yield event

    async def _send_all(self, connection: WsConnection, frames: list[str]) -> None:
        try:
            async with asyncio.timeout(self._deadline_s):
                for frame in frames:
                    await connection.send(frame)
        except TimeoutError:
            raise SubscribeTimeout(
                f"{self._url}: subscribes not sent within {self._deadline_s} s"
            ) from None

    async def _receive(self, connection: WsConnection) -> str | bytes:
        try:
            async with asyncio.timeout(self._idle_s):
                return await connection.recv()
        except TimeoutError:
            raise TransportError(f"{self._url}: no frame for {self._idle_s} s") from None


def _events(raw: str | bytes, tracker: SequenceTracker) -> list[FeedEvent]:
    probe = decode_json(raw, w.WsProbe, what="websocket frame")
    if probe.type == "error":
        raise TransportError(f"venue error frame: {probe.message}")
    if probe.sequence_num is None:
        raise SchemaError("$.sequence_num", "missing", what=f"{probe.channel!r} frame")
    received = parse_wire_int(probe.sequence_num, "$.sequence_num")
    known = probe.channel in _KNOWN_CHANNELS
    message = decode_ws_message(raw, what=f"{probe.channel} frame") if known else None
    anomaly = tracker.observe(received, probe.channel)
    events: list[FeedEvent] = [] if anomaly is None else [anomaly]
    if message is not None and not isinstance(anomaly, SequenceDuplicate | SequenceOutOfOrder):
        events.append(message)
    return events
