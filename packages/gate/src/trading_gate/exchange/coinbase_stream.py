"""The two Coinbase websocket streams the adapter holds open, reconnecting forever.

`UserStream` (the `user` channel, JWT): order reports, and whether they can be trusted.
The venue numbers each frame on a connection (`sequence_num`); a gap, a duplicate, a
number out of order, a closed or silent connection (no frame within the feed's idle
timeout, max(2 x heartbeat, 5 s)) or a frame that does not parse makes the stream
*suspect*: events may have been lost. The session is then dropped and resubscribed,
and the stream stays suspect until the gate has reconciled over REST *after* the new
subscription was acknowledged (RELIABILITY §3 "WebSocket gaps"), in this order so that
nothing can fall between the REST reading and the stream:

    anomaly -> suspect, resubscribe -> acked: reconcile_token() -> gate reconciles
            -> reconciled(token) -> trusted (unless another anomaly came meanwhile)

It starts suspect (`STARTING`): a fresh start is a gap too.

`MarketStream` (`level2` and `ticker`, no key): the reference mid of each product and
when the gate observed it. Any anomaly drops every mid (prices are then stale and the
price collar denies) until the resubscribed snapshot restores them.
"""

import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.errors import SchemaError, TransportError
from trading_coinbase.websocket import (
    FeedEvent,
    SequenceDuplicate,
    SequenceGap,
    SequenceOutOfOrder,
    Subscription,
    WebsocketFeed,
)
from trading_contract import ProductId
from trading_gate.core.context import ReferenceMid
from trading_gate.exchange.coinbase_translate import StreamOrder, stream_order

__all__ = ["STARTING", "MarketStream", "Reconnect", "UserStream"]

log = logging.getLogger("trading_gate.exchange.coinbase")

STARTING: Final = "the user stream has not been reconciled since it started"
_USER: Final = (Subscription(channel="user"),)
_MARKET: Final = frozenset({"level2", "ticker"})

Sleep = Callable[[float], Awaitable[None]]


class Reconnect(msgspec.Struct, frozen=True, kw_only=True):
    """Jittered backoff between reconnects: 250 ms doubling to 30 s (§3).

    Raises:
        ValueError: a delay that is not positive, or a ceiling below the floor.
    """

    min_s: float = 0.25
    max_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError(f"reconnect delays must satisfy 0 < min_s <= max_s, got {self}")

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The wait before reconnect `attempt` (0 = the first): half to all of the ceiling."""
        ceiling = min(self.max_s, self.min_s * 2.0 ** min(attempt, 30))
        return ceiling * (0.5 + 0.5 * rng.random())


def _anomaly(event: FeedEvent) -> str | None:
    if isinstance(event, SequenceGap):
        return f"{event.channel} sequence gap: expected {event.expected}, got {event.received}"
    if isinstance(event, SequenceDuplicate):
        return f"{event.channel} sequence {event.received} repeated"
    if isinstance(event, SequenceOutOfOrder):
        return f"{event.channel} sequence {event.received} after {event.last}"
    return None


async def _session(
    feed: WebsocketFeed,
    subscriptions: Sequence[Subscription],
    on_event: Callable[[FeedEvent], str | None],
    name: str,
) -> str:
    """Run one connection until `on_event` names an anomaly or the connection fails."""
    try:
        async with contextlib.aclosing(feed.session(subscriptions)) as events:
            async for event in events:
                reason = on_event(event)
                if reason is not None:
                    return reason
    except (TransportError, SchemaError) as exc:
        return f"{name} stream: {exc}"
    return f"{name} stream ended"  # pragma: no cover - a session only ends by raising


class UserStream:
    """The user channel, held open; see the module docstring for the trust protocol."""

    def __init__(
        self,
        feed: WebsocketFeed,
        *,
        on_order: Callable[[StreamOrder], None],
        reconnect: Reconnect,
        sleep: Sleep,
        rng: random.Random,
    ) -> None:
        self._feed = feed
        self._on_order = on_order
        self._reconnect = reconnect
        self._sleep = sleep
        self._rng = rng
        self._suspect: str | None = STARTING
        self._anomalies = 1
        self._session = 0
        self._subscribed = False
        self._heartbeat_ns: int | None = None

    @property
    def suspect(self) -> str | None:
        """Why the stream cannot be trusted now, or None when it can."""
        return self._suspect

    @property
    def session(self) -> int | None:
        """The number of the acknowledged subscription in force; None between them."""
        return self._session if self._subscribed else None

    @property
    def heartbeat_ns(self) -> int | None:
        """The venue's time stamped on the last heartbeat received (None before one)."""
        return self._heartbeat_ns

    def reconcile_token(self) -> int | None:
        """A token for a REST reconciliation that can settle the stream; None while the
        stream is trusted or not (re)subscribed yet."""
        if self._suspect is None or not self._subscribed:
            return None
        return self._anomalies

    def reconciled(self, token: int) -> None:
        """A reconciliation that began at `token` succeeded: trusted, if nothing new broke."""
        if self._subscribed and token == self._anomalies and self._suspect is not None:
            log.info("user stream trusted again after: %s", self._suspect)
            self._suspect = None

    async def run(self) -> None:
        """Connect, subscribe and follow the channel, reconnecting after every failure."""
        attempt = 0
        while True:
            reason = await _session(self._feed, _USER, self._on_event, "user")
            attempt = 0 if self._subscribed else attempt + 1
            self._lost(reason)
            await self._sleep(self._reconnect.delay_s(attempt, self._rng))

    def _lost(self, reason: str) -> None:
        self._subscribed = False
        self._anomalies += 1
        log.warning("user stream suspect, new orders wait: %s", reason)
        self._suspect = reason[:300]

    def _on_event(self, event: FeedEvent) -> str | None:
        reason = _anomaly(event)
        if reason is not None:
            return reason
        if isinstance(event, w.SubscriptionsMessage):
            if not self._subscribed and any("user" in e.subscriptions for e in event.events):
                self._subscribed = True
                self._session += 1
        elif isinstance(event, w.HeartbeatsMessage):
            self._heartbeat_ns = t.parse_optional_rfc3339_ns(event.timestamp, "$.timestamp")
        elif isinstance(event, w.UserMessage):
            for update in event.events:
                for order in update.orders:
                    self._on_order(stream_order(order))
        return None


class _Book:
    """One product's level2 book. The best prices are cached and recomputed only when
    the best level itself goes, so a deep book costs a scan per touch change, not per
    update."""

    def __init__(self) -> None:
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._best_bid: Decimal | None = None
        self._best_ask: Decimal | None = None

    def apply(self, update: w.L2Update, at: str) -> None:
        price = t.parse_decimal(update.price_level, f"{at}.price_level")
        quantity = t.parse_decimal(update.new_quantity, f"{at}.new_quantity")
        if update.side.lower() == "bid":
            self._best_bid = _changed(self._bids, price, quantity, self._best_bid, max)
        else:
            self._best_ask = _changed(self._asks, price, quantity, self._best_ask, min)

    def mid(self) -> Decimal | None:
        if not self._bids or not self._asks:
            return None
        if self._best_bid is None:
            self._best_bid = max(self._bids)
        if self._best_ask is None:
            self._best_ask = min(self._asks)
        return (self._best_bid + self._best_ask) / 2


def _changed(
    levels: dict[Decimal, Decimal],
    price: Decimal,
    quantity: Decimal,
    best: Decimal | None,
    better: Callable[[Decimal, Decimal], Decimal],
) -> Decimal | None:
    """Set one level (a zero quantity deletes it); the new best, None if unknown."""
    if quantity > 0:
        levels[price] = quantity
        return None if best is None else better(best, price)
    levels.pop(price, None)
    return None if price == best else best


class MarketStream:
    """Level2 and ticker for the gate's products: the reference mids, when observed."""

    def __init__(
        self,
        feed: WebsocketFeed,
        *,
        clock_ns: Callable[[], int],
        reconnect: Reconnect,
        sleep: Sleep,
        rng: random.Random,
    ) -> None:
        self._feed = feed
        self._clock_ns = clock_ns
        self._reconnect = reconnect
        self._sleep = sleep
        self._rng = rng
        self._books: dict[str, _Book] = {}
        self._mids: dict[ProductId, ReferenceMid] = {}
        self.subscribed = False

    def reference_mid(self, product_id: ProductId) -> ReferenceMid | None:
        """The last mid seen for `product_id` and when; None if none since the last gap."""
        return self._mids.get(product_id)

    async def run(self, products: Sequence[ProductId]) -> None:
        """Follow level2 and ticker for `products` (each one the venue lists: it refuses
        the subscription otherwise), reconnecting after every failure."""
        subscriptions = [
            Subscription(channel=channel, product_ids=tuple(products)) for channel in _MARKET
        ]
        attempt = 0
        while True:
            reason = await _session(self._feed, subscriptions, self._on_event, "market")
            attempt = 0 if self.subscribed else attempt + 1
            log.warning("market data stale until resubscribed: %s", reason)
            self.subscribed = False
            self._books.clear()
            self._mids.clear()
            await self._sleep(self._reconnect.delay_s(attempt, self._rng))

    def _on_event(self, event: FeedEvent) -> str | None:
        reason = _anomaly(event)
        if reason is not None:
            return reason
        if isinstance(event, w.SubscriptionsMessage):
            # Acks come one per subscribe, heartbeats first: live once all are in.
            self.subscribed = any(e.subscriptions.keys() >= _MARKET for e in event.events)
        elif isinstance(event, w.L2DataMessage):
            for i, l2 in enumerate(event.events):
                self._on_level2(l2, f"$.events[{i}]")
        elif isinstance(event, w.TickerMessage | w.TickerBatchMessage):
            for ticker_event in event.events:
                for ticker in ticker_event.tickers:
                    self._on_ticker(ticker)
        return None

    def _on_level2(self, event: w.L2Event, at: str) -> None:
        if event.type == "snapshot":
            self._books[event.product_id] = _Book()
        book = self._books.setdefault(event.product_id, _Book())
        for i, update in enumerate(event.updates):
            book.apply(update, f"{at}.updates[{i}]")
        self._observe(event.product_id, book.mid())

    def _on_ticker(self, ticker: w.WsTicker) -> None:
        bid = t.parse_optional_decimal(ticker.best_bid, "$.tickers[0].best_bid")
        ask = t.parse_optional_decimal(ticker.best_ask, "$.tickers[0].best_ask")
        if bid is not None and ask is not None and 0 < bid <= ask:
            self._observe(ticker.product_id, (bid + ask) / 2)

    def _observe(self, product_id: str, mid: Decimal | None) -> None:
        if mid is not None and mid > 0:
            observed = ReferenceMid(mid=mid, observed_ns=self._clock_ns())
            self._mids[ProductId(product_id)] = observed
