"""The exchange port over trading_sim's matching engine, in process.

For backtests and fast tests: no sockets and no sleeping. Time is the injected
clock's; the engine is called synchronously inside the async port methods. Port
types and sim types are translated here and nowhere else.

Latency: `place` queues the order; it reaches the engine at `placed_ns +
latency_ns`, once the clock has passed that time, on the next call of any method
(also `on_bar`). Until then the order is PENDING. With zero latency it arrives
within `place`, so a venue refusal comes back as `PlaceRejected` and leaves no
order behind; with latency, a refusal on arrival shows as the order's REJECTED
status, as a venue's asynchronous reject would.

Fault knobs for gate tests: `fail_next_place_with_unknown`, `fail_next_cancels`,
`reject_next_place`. Each acts on the next call(s) of its method only.
"""

import bisect
import heapq
import random
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Final

import msgspec

import trading_sim as sim
from trading_contract import (
    ClientOrderId,
    Liquidity,
    OrderStatus,
    OrderType,
    ProductId,
    Side,
    SizeUnit,
    StopDirection,
    TimeInForce,
    TradeId,
    VenueOrderId,
)
from trading_gate.core.clock import Clock
from trading_gate.core.context import ProductRules, ReferenceMid
from trading_gate.ports import (
    CancelResult,
    OrderRequest,
    OutcomeUnknown,
    PlaceAccepted,
    PlaceRejected,
    PlaceResult,
    TemporaryExchangeError,
    VenueBalance,
    VenueFill,
    VenueOrder,
)

# Coinbase's batch_cancel takes at most 100 ids per call.
CANCEL_BATCH: Final = 100

# ---------------------------------------------------------------- translation

_SIDES: Final = {Side.BUY: sim.Side.BUY, Side.SELL: sim.Side.SELL}
_KINDS: Final = {
    OrderType.MARKET: sim.OrderKind.MARKET,
    OrderType.LIMIT: sim.OrderKind.LIMIT,
    OrderType.STOP_LIMIT: sim.OrderKind.STOP_LIMIT,
}
_UNITS: Final = {SizeUnit.BASE: sim.SizeUnit.BASE, SizeUnit.QUOTE: sim.SizeUnit.QUOTE}
_TIFS: Final = {
    TimeInForce.GTC: sim.TimeInForce.GTC,
    TimeInForce.GTD: sim.TimeInForce.GTD,
    TimeInForce.IOC: sim.TimeInForce.IOC,
    TimeInForce.FOK: sim.TimeInForce.FOK,
}
_DIRECTIONS: Final = {
    StopDirection.UP: sim.StopDirection.UP,
    StopDirection.DOWN: sim.StopDirection.DOWN,
}
_STATUSES: Final = {
    # NEW is an order still in the latency queue: sent, not yet on the book.
    sim.OrderStatus.NEW: OrderStatus.PENDING,
    sim.OrderStatus.OPEN: OrderStatus.OPEN,
    sim.OrderStatus.PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
    sim.OrderStatus.FILLED: OrderStatus.FILLED,
    sim.OrderStatus.CANCELLED: OrderStatus.CANCELLED,
    sim.OrderStatus.REJECTED: OrderStatus.REJECTED,
    sim.OrderStatus.EXPIRED: OrderStatus.EXPIRED,
}
_LIQUIDITY: Final = {sim.Liquidity.MAKER: Liquidity.MAKER, sim.Liquidity.TAKER: Liquidity.TAKER}
_SIDES_BACK: Final = {v: k for k, v in _SIDES.items()}
_KINDS_BACK: Final = {v: k for k, v in _KINDS.items()}
_UNITS_BACK: Final = {v: k for k, v in _UNITS.items()}
_WORKING: Final = frozenset(
    {sim.OrderStatus.NEW, sim.OrderStatus.OPEN, sim.OrderStatus.PARTIALLY_FILLED}
)
# Coinbase's batch_cancel failure reasons for an order that is already done.
_DONE_REASONS: Final = {
    sim.OrderStatus.FILLED: "ORDER_IS_FULLY_FILLED",
    sim.OrderStatus.CANCELLED: "DUPLICATE_CANCEL_REQUEST",
    sim.OrderStatus.EXPIRED: "NOT_ALLOWED_TO_CANCEL",
    sim.OrderStatus.REJECTED: "NOT_ALLOWED_TO_CANCEL",
}


# The paper venue has no upper size bound of its own; the gate's limits bind long before.
_BASE_MAX_SIZE: Final = Decimal(10) ** 9


def _to_sim(request: OrderRequest, venue_order_id: VenueOrderId, now_ns: int) -> sim.SimOrder:
    direction = request.stop_direction
    return sim.SimOrder(
        order_id=venue_order_id,
        client_order_id=request.client_order_id,
        product_id=request.product_id,
        side=_SIDES[request.side],
        kind=_KINDS[request.order_type],
        size=request.size,
        size_in=_UNITS[request.size_in],
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        stop_direction=None if direction is None else _DIRECTIONS[direction],
        tif=_TIFS[request.time_in_force],
        end_ns=request.end_time_ns,
        post_only=request.post_only,
        created_ns=now_ns,
    )


def _to_venue_order(order: sim.SimOrder) -> VenueOrder:
    return VenueOrder(
        venue_order_id=VenueOrderId(order.order_id),
        client_order_id=ClientOrderId(order.client_order_id),
        product_id=ProductId(order.product_id),
        side=_SIDES_BACK[order.side],
        order_type=_KINDS_BACK[order.kind],
        status=_STATUSES[order.status],
        size=order.size,
        size_in=_UNITS_BACK[order.size_in],
        limit_price=order.limit_price,
        filled_size=order.filled_size,
        average_fill_price=order.average_price,
        created_ns=order.created_ns,
    )


def _to_venue_fill(fill: sim.SimFill) -> VenueFill:
    return VenueFill(
        trade_id=TradeId(fill.trade_id),
        venue_order_id=VenueOrderId(fill.order_id),
        client_order_id=ClientOrderId(fill.client_order_id),
        product_id=ProductId(fill.product_id),
        side=_SIDES_BACK[fill.side],
        price=fill.price,
        size=fill.size,
        fee=fill.fee,
        liquidity=_LIQUIDITY[fill.liquidity],
        ts_ns=fill.ts_ns,
    )


def _failed(venue_order_id: VenueOrderId, reason: str) -> CancelResult:
    return CancelResult(venue_order_id=venue_order_id, success=False, failure_reason=reason)


# ---------------------------------------------------------------- the adapter


def _default_balances() -> dict[str, Decimal]:
    return {"USD": Decimal(10_000)}


class PaperConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the paper venue fills (`engine`), what the account starts with, and its latency.

    Raises:
        ValueError: a negative latency or an empty venue id prefix.
    """

    engine: sim.EngineConfig = msgspec.field(default_factory=sim.EngineConfig)
    starting_balances: dict[str, Decimal] = msgspec.field(default_factory=_default_balances)
    latency_ns: int = 0
    seed: int = 0
    venue_id_prefix: str = "paper"

    def __post_init__(self) -> None:
        if self.latency_ns < 0 or not self.venue_id_prefix:
            raise ValueError("latency_ns must be >= 0 and venue_id_prefix non-empty")


class PaperExchange:
    """An in-process `ExchangePort` over the sim's engine, deterministic given the
    clock, the bars fed and `config.seed`."""

    def __init__(self, clock: Clock, config: PaperConfig | None = None) -> None:
        self._clock = clock
        self._config = config or PaperConfig()
        self._state = sim.new_state(self._config.engine, self._config.starting_balances)
        self._mids: dict[ProductId, ReferenceMid] = {}
        # Seeded so fills replay exactly; nothing here is a secret.
        self._rng = random.Random(self._config.seed)  # noqa: S311
        self._orders: dict[VenueOrderId, sim.SimOrder] = {}
        self._by_client: dict[ClientOrderId, VenueOrderId] = {}
        self._pending: list[tuple[int, int, VenueOrderId]] = []
        self._quotes: dict[str, sim.Quote] = {}
        # Kept in time order (ties in execution order), so `fills_since` is a bisect.
        self._fills: list[VenueFill] = []
        self._placed = 0
        self._unknown_next_place = False
        self._reject_next_place: str | None = None
        self._failing_cancels = 0
        # The listing never changes (the config is frozen): each product's rules are
        # built once, not on every decision.
        self._rules = {
            ProductId(spec.product_id): _rules_of(spec) for spec in self._config.engine.products
        }

    # ------------------------------------------------------------ market data

    def on_bar(self, bar: sim.Bar) -> None:
        """Feed one closed bar (bars of a product in time order).

        Raises:
            ValueError: the product is not listed, or the bar does not follow its last one.
        """
        self._pump()
        self._quotes.pop(bar.product_id, None)
        self._state, events = sim.on_bar(self._state, bar, self._rng)
        self._record(events)
        product_id = ProductId(bar.product_id)
        self._mids[product_id] = ReferenceMid(mid=bar.close, observed_ns=self._clock.now_ns())

    def on_open(self, product_id: ProductId, price: Decimal) -> None:
        """The first trade of a new bar, before the bar is complete.

        Until the bar itself is fed, orders that arrive take at `price` plus or minus
        half the engine's spread instead of the last close, and `price` is the
        reference mid. A backtest calls this so that an order decided at one bar's close
        fills at the next bar's open, the convention of the reference strategies.

        Raises:
            ValueError: the product is not listed.
        """
        spec = self._config.engine.product(product_id)
        if spec is None:
            raise ValueError(f"paper: product {product_id} is not listed")
        self._pump()
        bid, ask = sim.touch(price, self._config.engine.spread_bps, spec)
        self._quotes[product_id] = sim.Quote(product_id=product_id, bid=bid, ask=ask)
        self._mids[product_id] = ReferenceMid(mid=price, observed_ns=self._clock.now_ns())

    @property
    def fill_count(self) -> int:
        """How many fills the venue has made so far (a cheap "anything new?" test)."""
        return len(self._fills)

    def reference_mid(self, product_id: ProductId) -> ReferenceMid | None:
        """The last bar's close as the mid, observed when the bar was fed (MarketView)."""
        return self._mids.get(product_id)

    def product_rules(self, product_id: ProductId) -> ProductRules | None:
        """The engine's listing of the product as venue rules (MarketView)."""
        return self._rules.get(product_id)

    def feed(self, bars: Iterable[sim.Bar]) -> None:
        """Feed bars in order; advancing the clock between them is the caller's job.

        Raises:
            ValueError: as `on_bar`.
        """
        for bar in bars:
            self.on_bar(bar)

    # ------------------------------------------------------------ fault knobs

    def fail_next_place_with_unknown(self) -> None:
        """The next `place` does its work, then raises OutcomeUnknown (a timed-out venue)."""
        self._unknown_next_place = True

    def fail_next_cancels(self, n: int) -> None:
        """The next `n` `cancel` calls (also inside `cancel_all`) raise TemporaryExchangeError."""
        self._failing_cancels = n

    def reject_next_place(self, reason: str) -> None:
        """The next `place` of a new client order id is refused with `reason`; no order."""
        self._reject_next_place = reason

    # ------------------------------------------------------------ the port

    async def place(self, order: OrderRequest) -> PlaceResult:
        """Submit one order; a reused client order id returns the existing order's id.

        Raises:
            OutcomeUnknown: armed by `fail_next_place_with_unknown`, after placing.
        """
        self._pump()
        result = self._place(order)
        if self._unknown_next_place:
            self._unknown_next_place = False
            raise OutcomeUnknown(f"paper: simulated timeout placing {order.client_order_id}")
        return result

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        """Cancel orders by venue id, one result per id, in order.

        Raises:
            TemporaryExchangeError: armed by `fail_next_cancels`; nothing was cancelled.
        """
        self._pump()
        if self._failing_cancels > 0:
            self._failing_cancels -= 1
            raise TemporaryExchangeError("paper: simulated cancel failure")
        return tuple(self._cancel_one(v) for v in venue_order_ids)

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        """Cancel every working order (of one product, or all) in batches.

        Raises:
            TemporaryExchangeError: a batch failed (see `fail_next_cancels`).
        """
        working = await self.list_open_orders(product_id)
        ids = [o.venue_order_id for o in working]
        results: list[CancelResult] = []
        for start in range(0, len(ids), CANCEL_BATCH):
            results.extend(await self.cancel(ids[start : start + CANCEL_BATCH]))
        return tuple(results)

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        """Pending, open and partially filled orders, oldest first."""
        self._pump()
        return tuple(
            _to_venue_order(o)
            for o in self._orders.values()
            if o.status in _WORKING and product_id in (None, o.product_id)
        )

    async def get_order(self, client_order_id: ClientOrderId) -> VenueOrder | None:
        """The order placed with `client_order_id`, or None."""
        self._pump()
        venue_order_id = self._by_client.get(client_order_id)
        return None if venue_order_id is None else _to_venue_order(self._orders[venue_order_id])

    async def fills_since(self, since_ns: int) -> tuple[VenueFill, ...]:
        """Fills with ts_ns >= since_ns, oldest first (ties in execution order)."""
        self._pump()
        start = bisect.bisect_left(self._fills, since_ns, key=_fill_time)
        return tuple(self._fills[start:])

    async def balances(self) -> tuple[VenueBalance, ...]:
        """Every currency the account has held, with what working orders hold."""
        self._pump()
        return tuple(
            VenueBalance(currency=b.currency, available=b.available, hold=b.hold)
            for b in sim.account_balances(self._state)
        )

    # ------------------------------------------------------------ internals

    def _place(self, request: OrderRequest) -> PlaceResult:
        existing = self._by_client.get(request.client_order_id)
        if existing is not None:
            return PlaceAccepted(venue_order_id=existing)
        if self._reject_next_place is not None:
            reason, self._reject_next_place = self._reject_next_place, None
            return PlaceRejected(reason=reason)
        self._placed += 1
        venue_order_id = VenueOrderId(f"{self._config.venue_id_prefix}-{self._placed:06d}")
        now_ns = self._clock.now_ns()
        self._orders[venue_order_id] = _to_sim(request, venue_order_id, now_ns)
        self._by_client[request.client_order_id] = venue_order_id
        arrival = (now_ns + self._config.latency_ns, self._placed, venue_order_id)
        heapq.heappush(self._pending, arrival)
        self._pump()
        placed = self._orders[venue_order_id]
        if placed.status is sim.OrderStatus.REJECTED:
            # Refused on arrival within this call: like Coinbase, no order exists.
            del self._orders[venue_order_id], self._by_client[request.client_order_id]
            return PlaceRejected(reason=placed.reason)
        return PlaceAccepted(venue_order_id=venue_order_id)

    def _pump(self) -> None:
        """Deliver queued orders whose arrival time the clock has reached, then expire GTDs."""
        now_ns = self._clock.now_ns()
        while self._pending and self._pending[0][0] <= now_ns:
            arrival_ns, _, venue_order_id = heapq.heappop(self._pending)
            order = self._orders.get(venue_order_id)
            # Cancelled while queued: it never reaches the book.
            if order is not None and order.status is sim.OrderStatus.NEW:
                quote = self._quotes.get(order.product_id)
                self._state, events = sim.submit(self._state, order, arrival_ns, self._rng, quote)
                self._record(events)
        self._state, events = sim.expire(self._state, now_ns)
        self._record(events)

    def _record(self, events: sim.Events) -> None:
        for event in events:
            if isinstance(event, sim.CancelRejected):
                continue
            self._orders[VenueOrderId(event.order.order_id)] = event.order
            if isinstance(event, sim.OrderFilled):
                fill = _to_venue_fill(event.fill)
                bisect.insort_right(self._fills, fill, key=_fill_time)

    def _cancel_one(self, venue_order_id: VenueOrderId) -> CancelResult:
        order = self._orders.get(venue_order_id)
        if order is None:
            return _failed(venue_order_id, "UNKNOWN_CANCEL_ORDER")
        if order.status in _DONE_REASONS:
            return _failed(venue_order_id, _DONE_REASONS[order.status])
        if order.status is sim.OrderStatus.NEW:
            reason = sim.Reason.USER_CANCELLED.value
            self._orders[venue_order_id] = sim.apply(order, sim.Trigger.CANCEL, reason=reason)
            return CancelResult(venue_order_id=venue_order_id, success=True)
        self._state, events = sim.cancel(self._state, venue_order_id, self._clock.now_ns())
        self._record(events)
        refused = [e.reason for e in events if isinstance(e, sim.CancelRejected)]
        if refused:
            return _failed(venue_order_id, refused[0])
        return CancelResult(venue_order_id=venue_order_id, success=True)


def _rules_of(spec: sim.ProductSpec) -> ProductRules:
    return ProductRules(
        base_increment=spec.base_increment,
        quote_increment=spec.quote_increment,
        price_increment=spec.price_increment,
        base_min_size=spec.base_increment,
        base_max_size=_BASE_MAX_SIZE,
    )


def _fill_time(fill: VenueFill) -> int:
    return fill.ts_ns
