"""An L2 order book for one product: a snapshot, then numbered updates, or stale.

An L2 feed is only correct if no message was lost, so the book trusts nothing it
cannot check. A snapshot sets every level and the sequence; each update must carry
the next sequence number. Anything else turns the book *stale*:

    empty --snapshot--> live --update(seq = last + 1)--> live
      |                   |--update(seq > last + 1)----> stale (gap: a message was lost)
      |                   |--update leaves bid >= ask--> stale (crossed: the book is wrong)
      +--update---------> stale (no snapshot yet)
    stale --update--> stale (ignored)     stale --snapshot--> live (resync)

An update numbered at or below the last one is a repeat and is ignored without harm.
A stale book reports no prices (`best_bid` is None), so nothing downstream trades on
a book that is known to be wrong; the shell asks the venue for a new snapshot.

Size 0 removes a level. Each side is a dict of levels plus a heap of its prices with
lazy deletion, so an update costs O(log n) and the best level is found without a scan.
"""

import enum
import heapq
from collections.abc import Iterable
from decimal import Decimal

import msgspec

from trading_agent.domain.market import TopOfBook

__all__ = ["BookError", "BookSide", "LevelChange", "OrderBook", "UpdateResult"]

Level = tuple[Decimal, Decimal]  # (price, size)


class BookError(ValueError):
    """Book data no venue would send: a non-positive price, a negative size."""


class BookSide(enum.StrEnum):
    BID = "bid"
    ASK = "ask"


class LevelChange(msgspec.Struct, frozen=True):
    """The new total size at one price; size 0 deletes the level."""

    side: BookSide
    price: Decimal
    size: Decimal


class UpdateResult(enum.StrEnum):
    APPLIED = "applied"
    REPEAT = "repeat"  # sequence at or below the last one: already applied, ignored
    GAP = "gap"  # a sequence number was skipped: now stale
    CROSSED = "crossed"  # the update left bid >= ask: now stale
    NO_SNAPSHOT = "no_snapshot"  # an update before any snapshot: now stale
    IGNORED_STALE = "ignored_stale"  # the book was already stale


class _Side:
    """Levels of one side; `best` is the highest bid or the lowest ask."""

    def __init__(self, *, is_bid: bool) -> None:
        self._sign = -1 if is_bid else 1
        self.levels: dict[Decimal, Decimal] = {}
        self._heap: list[Decimal] = []  # sign * price; may hold deleted prices

    def set(self, price: Decimal, size: Decimal) -> None:
        if size == 0:
            self.levels.pop(price, None)
            return
        if price not in self.levels:
            heapq.heappush(self._heap, self._sign * price)
        self.levels[price] = size

    def clear(self) -> None:
        self.levels.clear()
        self._heap.clear()

    def best(self) -> Decimal | None:
        heap = self._heap
        while heap and self._sign * heap[0] not in self.levels:
            heapq.heappop(heap)
        # Deleted prices below the top stay until they surface; rebuild before they pile up.
        if len(heap) > 2 * len(self.levels) + 64:
            self._heap = [self._sign * p for p in self.levels]
            heapq.heapify(self._heap)
        return self._sign * self._heap[0] if self._heap else None

    def depth(self, n: int) -> list[Level]:
        if self._sign < 0:
            prices = heapq.nlargest(n, self.levels)
        else:
            prices = heapq.nsmallest(n, self.levels)
        return [(p, self.levels[p]) for p in prices]


class OrderBook:
    """The L2 book of `product_id`, valid only while not `stale`."""

    def __init__(self, product_id: str) -> None:
        self.product_id = product_id
        self._bids = _Side(is_bid=True)
        self._asks = _Side(is_bid=False)
        self._sequence: int | None = None
        self._as_of_ns: int | None = None
        self._stale_reason: str | None = "no snapshot yet"

    @property
    def stale(self) -> bool:
        return self._stale_reason is not None

    @property
    def stale_reason(self) -> str | None:
        return self._stale_reason

    @property
    def sequence(self) -> int | None:
        """The sequence of the last message applied; None before the first snapshot."""
        return self._sequence

    @property
    def as_of_ns(self) -> int | None:
        """The venue time of the last message applied."""
        return self._as_of_ns

    def apply_snapshot(
        self, bids: Iterable[Level], asks: Iterable[Level], sequence: int, ts_ns: int
    ) -> None:
        """Replace every level; the book is live again unless the snapshot is crossed.

        Raises:
            BookError: a price repeats within a side, or a price or size is invalid
                (the book is left stale).
        """
        self._stale_reason = "snapshot being applied"  # an invalid level leaves it stale
        self._bids.clear()
        self._asks.clear()
        for side, levels in ((self._bids, bids), (self._asks, asks)):
            for price, size in levels:
                self._check_level(price, size)
                if price in side.levels:
                    raise BookError(f"{self.product_id} snapshot: price {price} appears twice")
                side.set(price, size)
        self._sequence = sequence
        self._as_of_ns = ts_ns
        self._stale_reason = self._crossed_reason(f"snapshot {sequence}")

    def apply_update(
        self, changes: Iterable[LevelChange], sequence: int, ts_ns: int
    ) -> UpdateResult:
        """Apply one numbered update; see the module docstring for what each result means.

        Raises:
            BookError: a price or size is invalid (the book is left stale).
        """
        if self._sequence is None:
            self._stale_reason = f"update {sequence} before any snapshot"
            return UpdateResult.NO_SNAPSHOT
        if self.stale:
            return UpdateResult.IGNORED_STALE
        if sequence <= self._sequence:
            return UpdateResult.REPEAT
        if sequence != self._sequence + 1:
            self._stale_reason = f"sequence gap: expected {self._sequence + 1}, got {sequence}"
            return UpdateResult.GAP
        self._stale_reason = "update being applied"  # an invalid level leaves it stale
        for change in changes:
            self._check_level(change.price, change.size)
            side = self._bids if change.side is BookSide.BID else self._asks
            side.set(change.price, change.size)
        self._sequence = sequence
        self._as_of_ns = ts_ns
        self._stale_reason = self._crossed_reason(f"update {sequence}")
        return UpdateResult.CROSSED if self.stale else UpdateResult.APPLIED

    def _check_level(self, price: Decimal, size: Decimal) -> None:
        if not (price.is_finite() and price > 0):
            raise BookError(f"{self.product_id}: price must be positive, got {price}")
        if not (size.is_finite() and size >= 0):
            raise BookError(f"{self.product_id}: size at {price} must be >= 0, got {size}")

    def _crossed_reason(self, what: str) -> str | None:
        bid, ask = self._bids.best(), self._asks.best()
        if bid is not None and ask is not None and bid >= ask:
            return f"{what} left the book crossed: bid {bid} >= ask {ask}"
        return None

    @property
    def best_bid(self) -> Decimal | None:
        return None if self.stale else self._bids.best()

    @property
    def best_ask(self) -> Decimal | None:
        return None if self.stale else self._asks.best()

    @property
    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else (bid + ask) / 2

    def top_of_book(self) -> TopOfBook | None:
        """Best bid and ask stamped with the venue time of the last message applied
        (so `age_ns(now)` is how old the data is); None if stale or a side is empty.
        """
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None or self._as_of_ns is None:
            return None
        return TopOfBook(product_id=self.product_id, bid=bid, ask=ask, as_of_ns=self._as_of_ns)

    def bids(self, depth: int | None = None) -> list[Level]:
        """Bid levels, best first; empty while stale."""
        return self._depth(self._bids, depth)

    def asks(self, depth: int | None = None) -> list[Level]:
        """Ask levels, best first; empty while stale."""
        return self._depth(self._asks, depth)

    def _depth(self, side: _Side, depth: int | None) -> list[Level]:
        if self.stale:
            return []
        return side.depth(len(side.levels) if depth is None else depth)
