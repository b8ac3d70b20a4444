"""Websocket endpoints (§3): market data on /ws/market, user data on /ws/user.

As Coinbase: the market endpoint serves every channel, the user endpoint `heartbeats`
and `user`. A client must subscribe within `subscribe_deadline_s` (5 s) of connecting
or the venue closes the connection (1008). One channel per (un)subscribe; `user` needs
a fresh JWT in the message (no `uri`), verified like REST's. A bad subscribe gets a
`{"type":"error","message":...}` frame and the connection is closed.

Every data frame is the envelope {channel, client_id, timestamp, sequence_num, events}
with `sequence_num` rising by one per frame on the connection (the `ws_gap_next` fault
skips one; `ws_drop_next` closes the connection instead of sending). What each channel
sends, derived from the replay:

| channel         | on subscribe                  | on each new bar / order change      |
|-----------------|-------------------------------|-------------------------------------|
| heartbeats      | -                             | every `heartbeat_s`, counter + 1    |
| level2 (l2_data)| snapshot: a level a side      | update: changed levels ("0" deletes)|
| ticker(_batch)  | snapshot ticker               | update ticker                       |
| candles         | snapshot: the forming bucket  | update: the forming bucket          |
| market_trades   | snapshot: last 50 bar trades  | update: the new bar's trade         |
| status          | snapshot: products online     | -                                   |
| user            | snapshot: open orders, by 50  | update: the changed order           |

Candles are 5-minute buckets (as Coinbase's channel) when the data's granularity
divides 300 s; coarser data is sent at its own granularity, the best the replay has.
Ticker batches go out with every bar rather than every 5 s.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from typing import Final, NamedTuple

import msgspec
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from trading_coinbase import schemas as w
from trading_coinbase.translate import format_rfc3339
from trading_sim.venue import wire
from trading_sim.venue.auth import AuthRejected
from trading_sim.venue.exchange import Exchange, MarketTick, OrderUpdate, Publication
from trading_sim.venue.market import aggregate

__all__ = ["MARKET_PATH", "USER_PATH", "routes"]

MARKET_PATH: Final = "/ws/market"
USER_PATH: Final = "/ws/user"
_PRODUCT_CHANNELS: Final = frozenset(
    {"level2", "ticker", "ticker_batch", "candles", "market_trades"}
)
_MARKET_CHANNELS: Final = _PRODUCT_CHANNELS | {"heartbeats", "status", "user"}
_USER_CHANNELS: Final = frozenset({"heartbeats", "user"})
_WS_CANDLE_S: Final = 300
_BATCH: Final = 50
_NS_PER_S: Final = 1_000_000_000
# What sending or receiving raises once the peer has gone (Starlette, uvicorn, the OS).
_GONE: Final = (WebSocketDisconnect, OSError, RuntimeError)

Frame = (
    w.SubscriptionsMessage
    | w.HeartbeatsMessage
    | w.L2DataMessage
    | w.MarketTradesMessage
    | w.TickerMessage
    | w.TickerBatchMessage
    | w.CandlesMessage
    | w.StatusMessage
    | w.UserMessage
)


class _Close(NamedTuple):
    code: int
    reason: str


Outgoing = Frame | w.WsErrorFrame | _Close


def routes(exchange: Exchange) -> list[WebSocketRoute]:
    """The two websocket endpoints."""

    async def market(websocket: WebSocket) -> None:
        await _Session(exchange, websocket, _MARKET_CHANNELS).run()

    async def user(websocket: WebSocket) -> None:
        await _Session(exchange, websocket, _USER_CHANNELS).run()

    return [WebSocketRoute(MARKET_PATH, market), WebSocketRoute(USER_PATH, user)]


class _Session:
    """One connection: its subscriptions, its outgoing queue and its sequence numbers."""

    def __init__(self, exchange: Exchange, websocket: WebSocket, channels: frozenset[str]) -> None:
        self._ex = exchange
        self._ws = websocket
        self._allowed = channels
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._subs: dict[str, set[str]] = {}
        self._user_id = ""
        self._levels: dict[str, dict[tuple[str, str], str]] = {}
        self._seq = 0
        self._beats = 0
        self._opened_ns = exchange.now_ns()

    async def run(self) -> None:
        await self._ws.accept()
        try:
            # Not wait_for: on Python 3.11 it can lose the cancel of a closing server
            # (cpython#86296).
            async with asyncio.timeout(self._ex.settings.subscribe_deadline_s):
                first = await self._receive()
        except TimeoutError:
            await self._ws.close(code=1008, reason="no subscribe within the deadline")
            return
        if first is None:
            return
        self._ex.sync()
        self._ex.subscribe(self.offer)
        try:
            self._handle(first)
            await self._serve()
        finally:
            self._ex.unsubscribe(self.offer)

    async def _serve(self) -> None:
        tasks = [
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._heartbeat_loop()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            # A client going away ends a session; anything else is a bug, and raises.
            failure = task.exception()
            if failure is not None and not isinstance(failure, _GONE):
                raise failure

    # ------------------------------------------------------------ receiving

    async def _receive(self) -> str | None:
        """The next text message, or None once the client has gone."""
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            text = data.decode("utf-8", errors="replace")
        return str(text)

    async def _receive_loop(self) -> None:
        while True:
            text = await self._receive()
            if text is None:
                return
            self._ex.sync()
            self._handle(text)

    def _handle(self, text: str) -> None:
        try:
            request = msgspec.json.decode(text, type=w.SubscribeRequest)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._fail(f"malformed subscribe: {exc}")
            return
        problem = self._problem(request)
        if problem:
            self._fail(problem)
            return
        if request.type == "subscribe":
            self._subscribe(request)
        else:
            self._unsubscribe(request)

    def _problem(self, request: w.SubscribeRequest) -> str:
        channel, products = request.channel, request.product_ids or ()
        if channel not in self._allowed:
            return f"Failure to subscribe: channel {channel!r} is not served here"
        unknown = [p for p in products if self._ex.spec(p) is None]
        if unknown:
            return f"Failure to subscribe: unknown products {unknown}"
        if channel in _PRODUCT_CHANNELS and not products:
            return f"Failure to subscribe: channel {channel!r} needs product_ids"
        if channel == "user":
            return self._authenticate(request.jwt)
        return ""

    def _authenticate(self, token: str | None) -> str:
        verifier = self._ex.verifier
        if verifier is None:
            self._ex.auth_failures.append("websocket: no public key is configured")
            return "authentication failure"
        try:
            key_name = verifier.websocket(token, now_s=self._ex.now_s())
        except AuthRejected as exc:
            self._ex.auth_failures.append(f"websocket user subscribe: {exc.reason}")
            return "authentication failure"
        self._user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, key_name))
        return ""

    def _fail(self, message: str) -> None:
        self._queue.put_nowait(w.WsErrorFrame(type="error", message=message))
        self._queue.put_nowait(_Close(1008, "subscribe refused"))

    def _subscribe(self, request: w.SubscribeRequest) -> None:
        channel = request.channel
        added = set(request.product_ids or ())
        self._subs.setdefault(channel, set()).update(added)
        self._put(self._ack())
        self._put_all(self._snapshot(channel, sorted(added)))

    def _unsubscribe(self, request: w.SubscribeRequest) -> None:
        channel = request.channel
        products = set(request.product_ids or ())
        current = self._subs.get(channel, set())
        current -= products
        if not products or not current:
            self._subs.pop(channel, None)
        self._put(self._ack())

    # ------------------------------------------------------------ sending

    def _envelope(self) -> tuple[int, str, str]:
        return 0, "", format_rfc3339(self._ex.now_ns())

    def _put(self, frame: Frame) -> None:
        self._queue.put_nowait(frame)

    def _put_all(self, frames: Iterable[Frame]) -> None:
        for frame in frames:
            self._put(frame)

    async def _send_loop(self) -> None:
        with contextlib.suppress(*_GONE):
            while True:
                item = await self._queue.get()
                if isinstance(item, _Close):
                    await self._ws.close(code=item.code, reason=item.reason)
                    return
                if isinstance(item, w.WsErrorFrame):
                    await self._ws.send_text(wire.encode(item).decode())
                    continue
                if self._ex.faults.take_ws_drop():
                    await self._ws.close(code=1011, reason="sim fault: connection dropped")
                    return
                if self._ex.faults.take_ws_gap():
                    self._seq += 1
                frame = msgspec.structs.replace(item, sequence_num=self._seq)
                self._seq += 1
                await self._ws.send_text(wire.encode(frame).decode())

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._ex.settings.heartbeat_s)
            if "heartbeats" not in self._subs:
                continue
            self._beats += 1
            now_ns = self._ex.now_ns()
            seq, client, stamp = self._envelope()
            event = w.HeartbeatEvent(
                current_time=wire.go_time(now_ns, self._opened_ns), heartbeat_counter=self._beats
            )
            self._put(
                w.HeartbeatsMessage(
                    sequence_num=seq, client_id=client, timestamp=stamp, events=(event,)
                )
            )

    # ------------------------------------------------------------ publications

    def offer(self, publication: Publication) -> None:
        """Queue what this connection's subscriptions want of `publication`."""
        if isinstance(publication, OrderUpdate):
            self._offer_order(publication)
        elif isinstance(publication, MarketTick):
            for channel in tuple(self._subs):
                self._put_all(self._updates(channel, sorted(self._subs[channel])))

    def _offer_order(self, update: OrderUpdate) -> None:
        wanted = self._subs.get("user")
        if wanted is None or (wanted and update.order.product_id not in wanted):
            return
        seq, client, stamp = self._envelope()
        event = w.UserEvent(type="update", orders=(wire.ws_order(update.order),))
        self._put(
            w.UserMessage(sequence_num=seq, client_id=client, timestamp=stamp, events=(event,))
        )

    def _ack(self) -> w.SubscriptionsMessage:
        listed = {
            channel: (self._user_id,) if channel == "user" else tuple(sorted(products))
            for channel, products in self._subs.items()
        }
        seq, client, stamp = self._envelope()
        event = w.SubscriptionsEvent(subscriptions=listed)
        return w.SubscriptionsMessage(
            sequence_num=seq, client_id=client, timestamp=stamp, events=(event,)
        )

    def _snapshot(self, channel: str, products: list[str]) -> list[Frame]:
        if channel == "user":
            return self._user_snapshot()
        if channel == "status":
            return [self._status()]
        return self._updates(channel, products, "snapshot")

    def _updates(self, channel: str, products: list[str], kind: str = "update") -> list[Frame]:
        """The frames of a product channel now (none for heartbeats, user, status)."""
        if self._ex.index < 0 or channel not in _PRODUCT_CHANNELS:
            return []
        if channel == "level2":
            return self._level2(products, kind)
        if channel == "candles":
            return self._candles(products, kind)
        if channel == "market_trades":
            return self._trades(products, kind)
        return self._ticker(channel, products, kind)

    def _user_snapshot(self) -> list[Frame]:
        wanted = self._subs.get("user") or set()
        open_orders = [
            wire.ws_order(o)
            for o in reversed(self._ex.state.orders_newest_first())
            if o.working and (not wanted or o.product_id in wanted)
        ]
        batches = [open_orders[i : i + _BATCH] for i in range(0, len(open_orders), _BATCH)] or [[]]
        seq, client, stamp = self._envelope()
        return [
            w.UserMessage(
                sequence_num=seq,
                client_id=client,
                timestamp=stamp,
                events=(w.UserEvent(type="snapshot", orders=tuple(batch)),),
            )
            for batch in batches
        ]

    def _status(self) -> w.StatusMessage:
        products = tuple(
            w.StatusProduct(id=s.product_id, status="online", product_type="SPOT")
            for s in self._ex.state.config.products
        )
        seq, client, stamp = self._envelope()
        event = w.StatusEvent(type="snapshot", products=products)
        return w.StatusMessage(sequence_num=seq, client_id=client, timestamp=stamp, events=(event,))

    def _level2(self, products: list[str], kind: str) -> list[Frame]:
        now = format_rfc3339(self._ex.now_ns())
        events = []
        for product in products:
            touch = self._ex.touch(product)
            levels: dict[tuple[str, str], str] = {}
            if touch is not None and touch.size > 0:
                size = wire.plain(touch.size)
                levels = {
                    ("bid", wire.plain(touch.bid)): size,
                    ("offer", wire.plain(touch.ask)): size,
                }
            before = {} if kind == "snapshot" else self._levels.get(product, {})
            self._levels[product] = levels
            changed = [(k, "0") for k in before if k not in levels]
            changed += [(k, q) for k, q in levels.items() if before.get(k) != q]
            if changed or kind == "snapshot":
                updates = tuple(
                    w.L2Update(side=s, price_level=p, new_quantity=q, event_time=now)
                    for (s, p), q in changed
                )
                events.append(w.L2Event(type=kind, product_id=product, updates=updates))
        if not events:
            return []
        seq, client, stamp = self._envelope()
        return [
            w.L2DataMessage(
                sequence_num=seq, client_id=client, timestamp=stamp, events=tuple(events)
            )
        ]

    def _ticker(self, channel: str, products: list[str], kind: str) -> list[Frame]:
        tickers = []
        for product in products:
            day = self._ex.replay.day(product, self._ex.index)
            touch = self._ex.touch(product)
            if day is not None and touch is not None:
                tickers.append(wire.ws_ticker(product, day, touch.bid, touch.ask, touch.size))
        seq, client, stamp = self._envelope()
        events = (w.TickerEvent(type=kind, tickers=tuple(tickers)),)
        if channel == "ticker_batch":
            return [
                w.TickerBatchMessage(
                    sequence_num=seq, client_id=client, timestamp=stamp, events=events
                )
            ]
        return [w.TickerMessage(sequence_num=seq, client_id=client, timestamp=stamp, events=events)]

    def _candles(self, products: list[str], kind: str) -> list[Frame]:
        candles = []
        for product in products:
            data_s = self._ex.replay.granularity_s(product)
            size_s = _WS_CANDLE_S if _WS_CANDLE_S % data_s == 0 else data_s
            bar = self._ex.replay.bar(product, self._ex.index)
            start_s = bar.open_ns // _NS_PER_S // size_s * size_s
            bars = self._ex.replay.visible(
                product, self._ex.index, start_s * _NS_PER_S, bar.open_ns
            )
            candles.append(wire.ws_candle(aggregate(bars, size_s)[-1], product))
        seq, client, stamp = self._envelope()
        events = (w.CandlesEvent(type=kind, candles=tuple(candles)),)
        return [
            w.CandlesMessage(sequence_num=seq, client_id=client, timestamp=stamp, events=events)
        ]

    def _trades(self, products: list[str], kind: str) -> list[Frame]:
        count = _BATCH if kind == "snapshot" else 1
        trades = []
        for product in products:
            bars = self._ex.replay.recent(product, self._ex.index, count)
            first = self._ex.index - len(bars) + 1
            trades += [wire.ws_trade(b, first + i) for i, b in enumerate(bars) if b.volume > 0]
        trades.reverse()
        seq, client, stamp = self._envelope()
        events = (w.MarketTradesEvent(type=kind, trades=tuple(trades)),)
        return [
            w.MarketTradesMessage(
                sequence_num=seq, client_id=client, timestamp=stamp, events=events
            )
        ]
