"""The adapter's fills: every one it has read, once each by trade id, in time order.

Coinbase gives per-fill trade ids only over REST (`GET /orders/historical/fills`); the
user channel reports each order's cumulative filled size. So the book reads REST in
one of two ways (the adapter chooses, by whether the stream is trusted):

- `catch_up()`: only the orders the stream shows filled beyond the fills held, and the
  orders just placed that the stream has not reported yet (an immediate fill may
  already exist). With the stream quiet, this sends nothing.
- `sweep(since_ns)`: the whole fill list, newest first, back to `since_ns`: what a
  reconciliation reads, since a lost report leaves nothing to catch up on.

Either way a trade id already held is skipped, so REST and the stream never count one
fill twice, whatever order they arrive in.
"""

import bisect
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Final

from trading_coinbase import schemas as w
from trading_coinbase.rest import RestClient
from trading_contract import ClientOrderId, VenueOrderId
from trading_gate.exchange.coinbase_translate import venue_fill
from trading_gate.ports import VenueFill

__all__ = ["FillBook"]

_PAGE: Final = 100

ClientOrderIdOf = Callable[[VenueOrderId], Awaitable[ClientOrderId]]


class FillBook:
    """The fills read so far, and which orders are known to have more.

    `client_order_id` names an order's client order id (REST fills leave it out).
    """

    def __init__(self, rest: RestClient, client_order_id: ClientOrderIdOf, max_pages: int) -> None:
        self._rest = rest
        self._client_order_id = client_order_id
        self._max_pages = max_pages
        self._fills: list[VenueFill] = []
        self._times: dict[str, int] = {}
        self._held: dict[VenueOrderId, Decimal] = {}
        self._streamed: dict[VenueOrderId, Decimal] = {}
        self._unreported: set[VenueOrderId] = set()

    def since(self, since_ns: int) -> tuple[VenueFill, ...]:
        """The fills held with ts_ns >= since_ns, oldest first (ties as read)."""
        start = bisect.bisect_left(self._fills, since_ns, key=_fill_time)
        return tuple(self._fills[start:])

    def placed(self, venue_id: VenueOrderId) -> None:
        """An order was just accepted: look for its fills until the stream reports it."""
        self._unreported.add(venue_id)

    def reported(self, venue_id: VenueOrderId, filled_size: Decimal) -> None:
        """The stream says the order has filled `filled_size` in all (cumulative)."""
        self._unreported.discard(venue_id)
        self._streamed[venue_id] = max(self._streamed.get(venue_id, Decimal(0)), filled_size)

    def behind(self) -> list[VenueOrderId]:
        """The orders whose fills are not all held, as far as the stream knows."""
        more = {v for v, size in self._streamed.items() if size > self._held.get(v, Decimal(0))}
        return sorted(more | self._unreported)

    async def catch_up(self) -> None:
        """Read the fills of the orders `behind()` names (nothing if none).

        Raises:
            trading_coinbase.CoinbaseError: a REST call failed (the caller maps it).
        """
        venue_ids = self.behind()
        cursor: str | None = None
        for _ in range(self._max_pages if venue_ids else 0):
            page = await self._rest.list_fills(order_ids=venue_ids, limit=_PAGE, cursor=cursor)
            await self._keep(page.fills)
            if not page.cursor:
                return
            cursor = page.cursor

    async def sweep(self, since_ns: int) -> None:
        """Read the fill list newest first until a page reaches back before `since_ns`.

        Raises:
            trading_coinbase.CoinbaseError: a REST call failed (the caller maps it).
        """
        cursor: str | None = None
        for _ in range(self._max_pages):
            page = await self._rest.list_fills(limit=_PAGE, cursor=cursor)
            oldest = await self._keep(page.fills)
            if not page.cursor or (oldest is not None and oldest < since_ns):
                return
            cursor = page.cursor

    async def _keep(self, fills: Iterable[w.Fill]) -> int | None:
        """Hold the fills not held yet; the oldest time among all of them."""
        oldest: int | None = None
        for raw in fills:
            ts_ns = self._times.get(raw.trade_id)
            if ts_ns is None:
                fill = venue_fill(raw, await self._client_order_id(VenueOrderId(raw.order_id)))
                ts_ns = self._times[fill.trade_id] = fill.ts_ns
                bisect.insort_right(self._fills, fill, key=_fill_time)
                order = fill.venue_order_id
                self._held[order] = self._held.get(order, Decimal(0)) + fill.size
            oldest = ts_ns if oldest is None else min(oldest, ts_ns)
        return oldest


def _fill_time(fill: VenueFill) -> int:
    return fill.ts_ns
