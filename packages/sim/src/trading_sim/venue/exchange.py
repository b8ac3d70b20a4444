"""The loopback venue's one stateful object: replay, book-keeping, faults, subscribers.

The REST routes and websocket sessions call into it from one event loop, so nothing
here needs a lock. `sync()` is the heartbeat of the venue: it reads the clock, feeds
every bar now due to the engine (unless the market is stale), expires GTD orders and
publishes what changed. Every request syncs first, and a poll task syncs when no
request does, so the market moves on the clock either way; with a manual clock a test
moves it by advancing the clock and making any request.
"""

import asyncio
import random
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final, NamedTuple

import msgspec

from trading_sim.matching.config import ProductSpec
from trading_sim.matching.model import Bar
from trading_sim.matching.prices import touch
from trading_sim.venue.auth import JwtVerifier
from trading_sim.venue.clock import Clock
from trading_sim.venue.config import VenueSettings
from trading_sim.venue.faults import FaultBoard
from trading_sim.venue.limits import ClientBuckets
from trading_sim.venue.market import Replay
from trading_sim.venue.state import VenueOrder, VenueState

__all__ = [
    "Exchange",
    "MarketTick",
    "OrderUpdate",
    "Publication",
    "Subscriber",
    "Touch",
    "VenueStatus",
]

_NS_PER_S: Final = 1_000_000_000
_AUTH_LOG: Final = 100


class OrderUpdate(NamedTuple):
    """An order changed (accepted, filled, cancelled, expired, triggered, edited)."""

    order: VenueOrder


class MarketTick(NamedTuple):
    """Bar `bar_index` became the market for every product."""

    bar_index: int


Publication = OrderUpdate | MarketTick
Subscriber = Callable[[Publication], None]


class Touch(NamedTuple):
    """The best bid and ask and what each offers now (the engine's bar budget)."""

    bid: Decimal
    ask: Decimal
    size: Decimal


class VenueStatus(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /__sim/state`: where the replay is, for humans and test harnesses."""

    now_ns: int
    bar_index: int
    start_ns: int
    bar_seconds: float
    history_bars: int
    market_time_ns: dict[str, int]
    orders: int
    fills: int
    connections: int
    auth_failures: tuple[str, ...]


class Exchange:
    """The venue: everything the server's routes and sessions share."""

    def __init__(
        self,
        settings: VenueSettings,
        replay: Replay,
        clock: Clock,
        verifier: JwtVerifier | None,
    ) -> None:
        self.settings = settings
        self.replay = replay
        self.clock = clock
        self.verifier = verifier
        self.state = VenueState(
            settings.engine_config(replay.products), settings.balances, seed=settings.seed
        )
        self.faults = FaultBoard(settings.faults, random.Random(f"venue-faults/{settings.seed}"))  # noqa: S311
        self.private_buckets = ClientBuckets(settings.private_rate_per_s)
        self.public_buckets = ClientBuckets(settings.public_rate_per_s)
        self.auth_failures: deque[str] = deque(maxlen=_AUTH_LOG)
        self.index = -1
        self._subscribers: set[Subscriber] = set()
        self.sync()

    # ------------------------------------------------------------ time

    def now_ns(self) -> int:
        return self.clock.now_ns()

    def now_s(self) -> int:
        return self.clock.now_ns() // _NS_PER_S

    def sync(self) -> None:
        """Bring the venue up to the clock: due bars, expiries, then publish."""
        now_ns = self.clock.now_ns()
        if not self.faults.current.stale:
            due = self.replay.due_index(now_ns)
            while self.index < due:
                self.index += 1
                updates: list[VenueOrder] = []
                for product in self.replay.products:
                    updates.extend(self.state.on_bar(self.replay.engine_bar(product, self.index)))
                self.publish_orders(updates)
                self._publish(MarketTick(self.index))
        self.publish_orders(self.state.expire(now_ns))

    def trade_bar(self, bar: Bar) -> None:
        """Test hook: the engine trades `bar` now, as if the replay held it.

        For tests that need a market of their own shape (the gate's exchange-port
        contract). Resting orders fill against it, it becomes the product's market, and
        subscribers hear of both as of a replayed bar. The bar must follow the product's
        last one, and the replay must not move meanwhile: give the venue a `bar_seconds`
        longer than the test.

        Raises:
            ValueError: the product is not listed, or the bar does not follow its last one.
        """
        self.sync()
        self.publish_orders(self.state.on_bar(bar))
        self._publish(MarketTick(self.index))

    async def poll(self) -> None:
        """Sync every `poll_s` forever (a task of the server)."""
        while True:
            self.sync()
            await asyncio.sleep(self.settings.poll_s)

    # ------------------------------------------------------------ subscribers

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish_orders(self, updates: Iterable[VenueOrder]) -> None:
        for order in updates:
            self._publish(OrderUpdate(order))

    def _publish(self, publication: Publication) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber(publication)

    # ------------------------------------------------------------ market views

    def spec(self, product_id: str) -> ProductSpec | None:
        return self.state.config.product(product_id)

    def last_bar(self, product_id: str) -> Bar | None:
        """The current bar on the market timeline, or None before the first."""
        if self.index < 0 or product_id not in self.replay.products:
            return None
        return self.replay.bar(product_id, self.index)

    def touch(self, product_id: str) -> Touch | None:
        """Bid and ask around the last close (the engine's own touch) and the size there."""
        book = self.state.engine.books.get(product_id)
        spec = self.spec(product_id)
        if book is None or spec is None:
            return None
        bid, ask = touch(book.bar.close, self.state.config.spread_bps, spec)
        return Touch(bid=bid, ask=ask, size=book.budget)

    def status(self) -> VenueStatus:
        market = {
            p: t
            for p in self.replay.products
            if (t := self.replay.market_time_ns(p, self.index)) is not None
        }
        return VenueStatus(
            now_ns=self.clock.now_ns(),
            bar_index=self.index,
            start_ns=self.replay.start_ns,
            bar_seconds=self.settings.bar_seconds,
            history_bars=self.replay.history_bars,
            market_time_ns=market,
            orders=len(self.state.orders_newest_first()),
            fills=len(self.state.fills_newest_first()),
            connections=len(self._subscribers),
            auth_failures=tuple(self.auth_failures),
        )
