"""The venue's book-keeping over the pure matching engine.

The engine (`trading_sim.matching`) holds only what is alive and forgets finished
orders; a venue must answer for every order it ever took. This keeps, beside the
engine state: every order by order id and by client order id (the idempotency key,
§2.2), every fill with its trade id, creation sequence numbers for paging, and edits.

Edits. The engine has no edit, so an edit is a cancel of the working engine order (a
"leg") and the submit of a new leg for the rest, under the same public order id; the
public order sums its legs' fills. Both happen on a copy of the immutable engine
state, so an edit the engine refuses leaves everything as it was.

Ids are UUIDs drawn from a seeded rng, and every time arrives as an argument, so the
same requests at the same times give the same ids and fills. No I/O, no clock.
"""

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Final, NamedTuple

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_sim.matching import accounts
from trading_sim.matching.book import EngineState
from trading_sim.matching.config import EngineConfig
from trading_sim.matching.engine import (
    account_balances,
    cancel,
    expire,
    new_state,
    on_bar,
    submit,
)
from trading_sim.matching.fees import FeeTier, tier_for
from trading_sim.matching.model import (
    TERMINAL,
    ZERO,
    Balance,
    Bar,
    Liquidity,
    OrderAccepted,
    OrderFilled,
    OrderKind,
    OrderRejected,
    OrderStatus,
    Side,
    SimEvent,
    SimOrder,
    SizeUnit,
    StopDirection,
    TimeInForce,
)
from trading_sim.matching.rounding import ceil_to

__all__ = [
    "CancelOutcome",
    "CreateOutcome",
    "FeeStatus",
    "PreviewOutcome",
    "VenueFill",
    "VenueOrder",
    "VenueState",
    "echo_configuration",
]

_replace = msgspec.structs.replace

_KINDS: Final = {
    t.OrderKind.MARKET: OrderKind.MARKET,
    t.OrderKind.LIMIT: OrderKind.LIMIT,
    t.OrderKind.STOP_LIMIT: OrderKind.STOP_LIMIT,
}
_TIFS: Final = {
    t.TimeInForce.GOOD_UNTIL_CANCELLED: TimeInForce.GTC,
    t.TimeInForce.GOOD_UNTIL_DATE_TIME: TimeInForce.GTD,
    t.TimeInForce.IMMEDIATE_OR_CANCEL: TimeInForce.IOC,
    t.TimeInForce.FILL_OR_KILL: TimeInForce.FOK,
}
_DIRECTIONS: Final = {
    t.StopDirection.STOP_UP: StopDirection.UP,
    t.StopDirection.STOP_DOWN: StopDirection.DOWN,
}
# Why a cancel of a finished order fails, in Coinbase's cancel vocabulary (§2.4).
_CANCEL_REFUSALS: Final = {
    OrderStatus.FILLED: "ORDER_IS_FULLY_FILLED",
    OrderStatus.CANCELLED: "DUPLICATE_CANCEL_REQUEST",
}
CANCEL_OK: Final = "UNKNOWN_CANCEL_FAILURE_REASON"


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the venue reports it; `seq` is its place in creation order."""

    seq: int
    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    kind: OrderKind
    tif: TimeInForce
    size_in: SizeUnit
    size: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    stop_direction: StopDirection | None
    end_ns: int | None
    post_only: bool
    # The `order_configuration` echoed in every report, as the client sent it.
    configuration: dict[str, w.ConfigurationTerms]
    created_ns: int
    leg_id: str
    status: OrderStatus = OrderStatus.NEW
    reason: str = ""
    triggered: bool = False
    filled_size: Decimal = ZERO
    filled_value: Decimal = ZERO
    fees: Decimal = ZERO
    fill_count: int = 0
    last_fill_ns: int | None = None
    edits: int = 0

    @property
    def working(self) -> bool:
        return self.status not in TERMINAL


class VenueFill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution with the venue's trade id; `seq` is its place in time order."""

    seq: int
    entry_id: str
    trade_id: str
    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    commission: Decimal
    liquidity: Liquidity
    ts_ns: int
    size_in_quote: bool


class CreateOutcome(NamedTuple):
    """A create's result: the order (None if refused), why not, and what changed."""

    order: VenueOrder | None
    reason: str
    duplicate: bool
    updates: tuple[VenueOrder, ...]


class PreviewOutcome(NamedTuple):
    """What an order would do now, computed on a copy of the engine state."""

    reason: str
    base_size: Decimal
    notional: Decimal
    commission: Decimal


class CancelOutcome(NamedTuple):
    order_id: str
    success: bool
    failure_reason: str


class FeeStatus(NamedTuple):
    """The account's fee tier now, from its trailing volume (see `fees.py`)."""

    tier: FeeTier
    next_min_volume: Decimal | None
    volume: Decimal
    total_fees: Decimal


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class VenueState:
    """Every order and fill the venue has seen, over the live engine state."""

    def __init__(self, config: EngineConfig, balances: Mapping[str, Decimal], *, seed: int) -> None:
        self._engine = new_state(config, balances)
        self._engine_rng = random.Random(seed)  # noqa: S311 - simulated slippage, not secrets
        self._id_rng = random.Random(f"venue-ids/{seed}")  # noqa: S311 - ids for a simulator
        self._orders: dict[str, VenueOrder] = {}
        self._by_client: dict[str, str] = {}
        self._by_leg: dict[str, str] = {}
        self._fills: list[VenueFill] = []
        self._total_fees = ZERO

    @property
    def engine(self) -> EngineState:
        return self._engine

    @property
    def config(self) -> EngineConfig:
        return self._engine.config

    def new_id(self) -> str:
        """A fresh id from the venue's seeded id stream (orders, trades, previews)."""
        return _uuid(self._id_rng)

    # ------------------------------------------------------------ queries

    def order(self, order_id: str) -> VenueOrder | None:
        return self._orders.get(order_id)

    def order_by_client_id(self, client_order_id: str) -> VenueOrder | None:
        order_id = self._by_client.get(client_order_id)
        return None if order_id is None else self._orders[order_id]

    def orders_newest_first(self) -> list[VenueOrder]:
        return sorted(self._orders.values(), key=lambda o: o.seq, reverse=True)

    def fills_newest_first(self) -> list[VenueFill]:
        return self._fills[::-1]

    def balances(self) -> tuple[Balance, ...]:
        return account_balances(self._engine)

    def hold(self, order: VenueOrder) -> Decimal:
        """What the order's working leg reserves now (zero once it is done)."""
        leg = next((o for o in self._engine.working if o.order_id == order.leg_id), None)
        spec = self.config.product(order.product_id)
        if leg is None or spec is None:
            return ZERO
        return accounts.hold_of(leg, spec, self.config.fee_increment)[1]

    def fee_status(self, now_ns: int) -> FeeStatus:
        schedule = self.config.fees
        start = now_ns - schedule.window_ns
        traded = sum((x.notional for x in self._engine.traded if x.ts_ns > start), ZERO)
        volume = self.config.prior_volume_quote + traded
        tier = tier_for(schedule, volume)
        higher = [x.min_volume_quote for x in schedule.tiers if x.min_volume_quote > volume]
        return FeeStatus(
            tier=tier,
            next_min_volume=min(higher) if higher else None,
            volume=volume,
            total_fees=self._total_fees,
        )

    # ------------------------------------------------------------ commands

    def create(
        self, request: w.CreateOrderRequest, now_ns: int, *, duplicate_is_error: bool = False
    ) -> CreateOutcome:
        """Place the order in `request`, or return the one its client order id placed.

        Raises:
            trading_coinbase.SchemaError, trading_coinbase.InvalidOrderSpec: the body
                parses but no order can be built from it (a 400 for the caller).
        """
        existing = self.order_by_client_id(request.client_order_id)
        if existing is not None:
            reason = "DUPLICATE_CLIENT_ORDER_ID" if duplicate_is_error else ""
            return CreateOutcome(existing, reason, duplicate=True, updates=())
        spec = t.spec_from_request(request)
        order_id = self.new_id()
        leg = _sim_order(spec, order_id, now_ns)
        engine, events = submit(self._engine, leg, now_ns, self._engine_rng)
        first = events[0]
        if isinstance(first, OrderRejected):
            return CreateOutcome(None, first.order.reason, duplicate=False, updates=())
        self._engine = engine
        self._orders[order_id] = _venue_order(
            leg,
            request,
            seq=len(self._orders),
            configuration=echo_configuration(request.order_configuration),
        )
        self._by_client[request.client_order_id] = order_id
        self._by_leg[order_id] = order_id
        updates = self._apply(events)
        return CreateOutcome(self._orders[order_id], "", duplicate=False, updates=updates)

    def preview(self, request: w.PreviewOrderRequest, now_ns: int) -> PreviewOutcome:
        """What the order would do if placed now; changes nothing (not even the rng).

        Raises:
            trading_coinbase.SchemaError, trading_coinbase.InvalidOrderSpec: as `create`.
        """
        spec = t.spec_from_configuration(
            echo_configuration(request.order_configuration),
            side=request.side,
            product_id=request.product_id,
            client_order_id="preview",
        )
        leg = _sim_order(spec, "preview", now_ns)
        rng = random.Random()  # noqa: S311 - a copy of the engine's stream, restored below
        rng.setstate(self._engine_rng.getstate())
        _, events = submit(self._engine, leg, now_ns, rng)
        if isinstance(events[0], OrderRejected):
            return PreviewOutcome(events[0].order.reason, ZERO, ZERO, ZERO)
        fills = [e.fill for e in events if isinstance(e, OrderFilled)]
        if fills:
            size = sum((f.size for f in fills), ZERO)
            notional = sum((f.size * f.price for f in fills), ZERO)
            return PreviewOutcome("", size, notional, sum((f.fee for f in fills), ZERO))
        accepted = events[0]
        rate = accepted.order.taker_rate if isinstance(accepted, OrderAccepted) else ZERO
        notional = leg.size * (leg.limit_price or ZERO)
        commission = ceil_to(notional * rate, self.config.fee_increment)
        return PreviewOutcome("", leg.size, notional, commission)

    def cancel(
        self, order_ids: Sequence[str], now_ns: int
    ) -> tuple[list[CancelOutcome], tuple[VenueOrder, ...]]:
        """Cancel each id; every id gets a result, in order."""
        results: list[CancelOutcome] = []
        updates: list[VenueOrder] = []
        for order_id in order_ids:
            order = self._orders.get(order_id)
            if order is None:
                results.append(CancelOutcome(order_id, False, "UNKNOWN_CANCEL_ORDER"))
                continue
            if not order.working:
                refusal = _CANCEL_REFUSALS.get(order.status, "NOT_ALLOWED_TO_CANCEL")
                results.append(CancelOutcome(order_id, False, refusal))
                continue
            self._engine, events = cancel(self._engine, order.leg_id, now_ns)
            updates.extend(self._apply(events))
            results.append(CancelOutcome(order_id, True, CANCEL_OK))
        return results, tuple(updates)

    def edit(
        self, order_id: str, price: Decimal, size: Decimal, now_ns: int
    ) -> tuple[str, tuple[VenueOrder, ...]]:
        """Change a GTC order's limit price and total size: ("", updates) or (reason, ())."""
        order = self._orders.get(order_id)
        problem = _edit_problem(order, price, size)
        if problem or order is None:
            return problem or "ORDER_NOT_FOUND", ()
        leg_id = f"{order_id}.{order.edits + 1}"
        leg = _replace(
            _leg_of(order, leg_id, now_ns),
            size=size - order.filled_size,
            limit_price=price,
        )
        cancelled, _ = cancel(self._engine, order.leg_id, now_ns)
        engine, events = submit(cancelled, leg, now_ns, self._engine_rng)
        if isinstance(events[0], OrderRejected):
            return events[0].order.reason, ()
        self._engine = engine
        self._by_leg[leg_id] = order_id
        self._orders[order_id] = _replace(
            order,
            size=size,
            limit_price=price,
            leg_id=leg_id,
            edits=order.edits + 1,
            configuration=_edited(order.configuration, price, size),
        )
        return "", self._apply(events)

    def on_bar(self, bar: Bar) -> tuple[VenueOrder, ...]:
        """A bar closes in the engine (on the venue clock): resting orders may fill."""
        self._engine, events = on_bar(self._engine, bar, self._engine_rng)
        return self._apply(events)

    def expire(self, now_ns: int) -> tuple[VenueOrder, ...]:
        """GTD orders whose end has come expire."""
        self._engine, events = expire(self._engine, now_ns)
        return self._apply(events)

    # ------------------------------------------------------------ events

    def _apply(self, events: Iterable[SimEvent]) -> tuple[VenueOrder, ...]:
        updates: list[VenueOrder] = []
        for event in events:
            if isinstance(event, OrderRejected) or not hasattr(event, "order"):
                continue
            leg: SimOrder = event.order
            order_id = self._by_leg.get(leg.order_id)
            order = None if order_id is None else self._orders[order_id]
            # A replaced leg's own cancel (an edit) is not news about the public order.
            if order is None or leg.order_id != order.leg_id:
                continue
            changed = _replace(order, status=leg.status, reason=leg.reason, triggered=leg.triggered)
            if isinstance(event, OrderFilled):
                changed = self._record_fill(changed, event)
            self._orders[changed.order_id] = changed
            updates.append(changed)
        return tuple(updates)

    def _record_fill(self, order: VenueOrder, event: OrderFilled) -> VenueOrder:
        fill = event.fill
        self._fills.append(
            VenueFill(
                seq=len(self._fills),
                entry_id=self.new_id(),
                trade_id=self.new_id(),
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                product_id=order.product_id,
                side=order.side,
                price=fill.price,
                size=fill.size,
                commission=fill.fee,
                liquidity=fill.liquidity,
                ts_ns=fill.ts_ns,
                size_in_quote=order.size_in is SizeUnit.QUOTE,
            )
        )
        self._total_fees += fill.fee
        return _replace(
            order,
            filled_size=order.filled_size + fill.size,
            filled_value=order.filled_value + fill.size * fill.price,
            fees=order.fees + fill.fee,
            fill_count=order.fill_count + 1,
            last_fill_ns=fill.ts_ns,
        )


def _sim_order(spec: t.OrderSpec, order_id: str, now_ns: int) -> SimOrder:
    quote = spec.quote_size is not None
    size = spec.quote_size if spec.quote_size is not None else spec.base_size
    if size is None:  # pragma: no cover - OrderSpec guarantees a size
        raise ValueError(f"{spec.client_order_id}: no size")
    direction = spec.stop_direction
    return SimOrder(
        order_id=order_id,
        client_order_id=spec.client_order_id,
        product_id=spec.product_id,
        side=Side.BUY if spec.side is t.Side.BUY else Side.SELL,
        kind=_KINDS[spec.kind],
        size=size,
        size_in=SizeUnit.QUOTE if quote else SizeUnit.BASE,
        limit_price=spec.limit_price,
        stop_price=spec.stop_price,
        stop_direction=None if direction is None else _DIRECTIONS[direction],
        tif=_TIFS[spec.tif],
        end_ns=spec.end_time_ns,
        post_only=spec.post_only,
        created_ns=now_ns,
    )


def _venue_order(
    leg: SimOrder,
    request: w.CreateOrderRequest,
    *,
    seq: int,
    configuration: dict[str, w.ConfigurationTerms],
) -> VenueOrder:
    return VenueOrder(
        seq=seq,
        order_id=leg.order_id,
        client_order_id=request.client_order_id,
        product_id=leg.product_id,
        side=leg.side,
        kind=leg.kind,
        tif=leg.tif,
        size_in=leg.size_in,
        size=leg.size,
        limit_price=leg.limit_price,
        stop_price=leg.stop_price,
        stop_direction=leg.stop_direction,
        end_ns=leg.end_ns,
        post_only=leg.post_only,
        configuration=configuration,
        created_ns=leg.created_ns,
        leg_id=leg.order_id,
    )


def _leg_of(order: VenueOrder, leg_id: str, now_ns: int) -> SimOrder:
    return SimOrder(
        order_id=leg_id,
        client_order_id=order.client_order_id,
        product_id=order.product_id,
        side=order.side,
        kind=order.kind,
        size=order.size,
        size_in=order.size_in,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        stop_direction=order.stop_direction,
        tif=order.tif,
        end_ns=order.end_ns,
        post_only=order.post_only,
        created_ns=now_ns,
    )


def _edit_problem(order: VenueOrder | None, price: Decimal, size: Decimal) -> str:
    # Coinbase's EditOrderFailureReason vocabulary (official SDK enums).
    if order is None:
        return "ORDER_NOT_FOUND"
    if not order.working:
        return "ONLY_OPEN_ORDERS_CAN_BE_EDITED"
    if order.tif is not TimeInForce.GTC or order.kind is OrderKind.MARKET:
        return "ONLY_LIMIT_ORDER_EDITS_SUPPORTED"
    if not (price.is_finite() and price > 0):
        return "INVALID_EDITED_PRICE"
    if not (size.is_finite() and size > 0):
        return "INVALID_EDITED_SIZE"
    if size <= order.filled_size:
        return "CANNOT_EDIT_TO_BELOW_FILLED_SIZE"
    if price == order.limit_price and size == order.size:
        return "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST"
    return ""


def echo_configuration(configuration: w.OrderConfiguration) -> dict[str, w.ConfigurationTerms]:
    """A request's `order_configuration` in the response shape the venue echoes back."""
    return {
        key: w.ConfigurationTerms(**msgspec.structs.asdict(leaf))
        for key in configuration.__struct_fields__
        if (leaf := getattr(configuration, key)) is not None
    }


def _edited(
    configuration: dict[str, w.ConfigurationTerms], price: Decimal, size: Decimal
) -> dict[str, w.ConfigurationTerms]:
    return {
        key: _replace(terms, limit_price=t.format_decimal(price), base_size=t.format_decimal(size))
        for key, terms in configuration.items()
    }
