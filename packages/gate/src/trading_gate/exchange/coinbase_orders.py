"""What the adapter knows of each order, and how it looks one up when that is not enough.

A *view* is an order as last read over REST, moved forward by the user channel's
reports. It answers a lookup without a REST call only while it is *confirmed*: the
stream is trusted, and the view was read or reported during the subscription now in
force, so any later change is sure to come on that stream. A finished order is final
and always answers from memory. Otherwise a lookup goes to REST: by venue order id when
known, else among the working orders, else through recent history (the venue has no
filter by client order id, §2.2).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from trading_coinbase import schemas as w
from trading_coinbase.errors import NotFound
from trading_coinbase.rest import RestClient
from trading_contract import ClientOrderId, OrderStatus, ProductId, VenueOrderId
from trading_gate.exchange.coinbase_stream import UserStream
from trading_gate.exchange.coinbase_translate import StreamOrder, advanced, venue_order
from trading_gate.ports import VenueOrder

__all__ = ["WORKING_STATUSES", "OrderViews"]

_PAGE: Final = 100
# Statuses of orders that may still trade; an OPEN-only filter misses PENDING/QUEUED (§2.4).
WORKING_STATUSES: Final = ("OPEN", "PENDING", "QUEUED", "CANCEL_QUEUED", "EDIT_QUEUED")
_FINISHED: Final = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class OrderViews:
    """Views of orders by client order id, and the ids' pairing with venue order ids.

    Every method that reads REST raises `trading_coinbase.CoinbaseError` (the adapter
    maps it) and `trading_coinbase.SchemaError` on a reply that does not parse.
    """

    def __init__(self, rest: RestClient, stream: UserStream, max_pages: int) -> None:
        self._rest = rest
        self._stream = stream
        self._max_pages = max_pages
        self._views: dict[ClientOrderId, VenueOrder] = {}
        self._confirmed: dict[ClientOrderId, int] = {}
        self._coids: dict[VenueOrderId, ClientOrderId] = {}
        self._venue_ids: dict[ClientOrderId, VenueOrderId] = {}

    def remember(self, coid: ClientOrderId, venue_id: VenueOrderId) -> None:
        """Pair a client order id with its venue order id (from a create's reply)."""
        if coid:
            self._coids[venue_id] = coid
            self._venue_ids[coid] = venue_id

    def reported(self, report: StreamOrder) -> None:
        """A user-channel report: it moves the view on, and confirms it."""
        coid = report.client_order_id
        self.remember(coid, report.venue_order_id)
        view = self._views.get(coid)
        session = self._stream.session
        if view is not None:
            self._views[coid] = advanced(view, report)
            if session is not None:
                self._confirmed[coid] = session

    async def get(self, coid: ClientOrderId) -> VenueOrder | None:
        """The order placed with `coid`: from memory if confirmed, else over REST."""
        view = self._views.get(coid)
        if view is not None and self._answers(coid, view):
            return view
        session = self._stream.session
        found = await self._lookup(coid)
        return None if found is None else self._store(found, session)

    async def working(self, product_ids: Sequence[ProductId]) -> list[VenueOrder]:
        """Every order still working at the venue (of these products, or all), over REST."""
        session = self._stream.session
        orders = await self._working(product_ids)
        return [self._store(venue_order(o), session) for o in orders]

    async def client_order_id(self, venue_id: VenueOrderId) -> ClientOrderId:
        """The client order id of a venue order (read over REST once, then remembered)."""
        known = self._coids.get(venue_id)
        if known is not None:
            return known
        found = venue_order(await self._rest.get_order(venue_id))
        self.remember(found.client_order_id, venue_id)
        return found.client_order_id

    def _answers(self, coid: ClientOrderId, view: VenueOrder) -> bool:
        if view.status in _FINISHED:
            return True
        session = self._stream.session
        return self._stream.suspect is None and self._confirmed.get(coid) == session

    def _store(self, found: VenueOrder, session: int | None) -> VenueOrder:
        coid = found.client_order_id
        self.remember(coid, found.venue_order_id)
        known = self._views.get(coid)
        view = found if known is None else advanced(known, found)
        self._views[coid] = view
        # Confirmed only if one subscription lasted across the whole read: changes after
        # it are then sure to arrive on the stream.
        if session is not None and session == self._stream.session:
            self._confirmed[coid] = session
        return view

    async def _lookup(self, coid: ClientOrderId) -> VenueOrder | None:
        venue_id = self._venue_ids.get(coid)
        if venue_id is not None:
            try:
                return venue_order(await self._rest.get_order(venue_id))
            except NotFound:
                return None
        working = await self._working(())
        match = next((o for o in working if o.client_order_id == coid), None)
        if match is None:
            match = await self._rest.find_order_by_client_id(coid, max_pages=self._max_pages)
        return None if match is None else venue_order(match)

    async def _working(self, product_ids: Sequence[ProductId]) -> list[w.Order]:
        return await _pages(
            lambda cursor: self._rest.list_orders(
                product_ids=product_ids, order_status=WORKING_STATUSES, limit=_PAGE, cursor=cursor
            ),
            self._max_pages,
        )


async def _pages(
    fetch: Callable[[str | None], Awaitable[w.ListOrdersResponse]], max_pages: int
) -> list[w.Order]:
    orders: list[w.Order] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await fetch(cursor)
        orders.extend(page.orders)
        if not page.has_next or not page.cursor:
            break
        cursor = page.cursor
    return orders
