"""The gate's exchange port: what every exchange adapter (paper, Coinbase) implements.

Values crossing the port are frozen, Decimal-exact, and venue-neutral. Adapters map
their own errors into the tree below in one place:

    ExchangeError
    ├── TemporaryExchangeError   retry with backoff, but only for idempotent calls
    ├── OutcomeUnknown           a submit whose result is unknown: the order is UNKNOWN
    │                            until a lookup by client order id settles it
    └── ExchangeAuthError        401/403: halt and tell a human (OperatorActionRequired)

A definitive refusal of an order is not an exception: `place` returns `PlaceRejected`.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

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
from trading_gate.core.context import ProductRules, ReferenceMid


class ExchangeError(Exception):
    """A failure talking to the exchange."""


class TemporaryExchangeError(ExchangeError):
    """Rate limit, 5xx or transport failure on an idempotent call: safe to retry."""


class OutcomeUnknown(ExchangeError):
    """A submit that may or may not have reached the book; never resubmit blindly."""


class ExchangeAuthError(ExchangeError):
    """The key was refused or lacks a permission: a human must act."""


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An order the gate has approved and journaled, ready to send."""

    client_order_id: ClientOrderId
    product_id: ProductId
    side: Side
    order_type: OrderType
    size: Decimal
    size_in: SizeUnit
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_direction: StopDirection | None = None
    time_in_force: TimeInForce
    end_time_ns: int | None = None
    post_only: bool = False


class PlaceAccepted(msgspec.Struct, frozen=True, kw_only=True):
    venue_order_id: VenueOrderId


class PlaceRejected(msgspec.Struct, frozen=True, kw_only=True):
    """The venue refused the order definitively: it is not on the book."""

    reason: str


PlaceResult = PlaceAccepted | PlaceRejected


class VenueOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the venue reports it."""

    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId
    product_id: ProductId
    side: Side
    order_type: OrderType
    status: OrderStatus
    size: Decimal
    size_in: SizeUnit
    limit_price: Decimal | None = None
    filled_size: Decimal
    average_fill_price: Decimal | None = None
    created_ns: int


class VenueFill(msgspec.Struct, frozen=True, kw_only=True):
    trade_id: TradeId
    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId
    product_id: ProductId
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts_ns: int


class CancelResult(msgspec.Struct, frozen=True, kw_only=True):
    venue_order_id: VenueOrderId
    success: bool
    failure_reason: str = ""


class VenueBalance(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    available: Decimal
    hold: Decimal


class MarketView(Protocol):
    """What the gate knows of the market right now, from its own feed (in memory)."""

    def reference_mid(self, product_id: ProductId) -> ReferenceMid | None:
        """The latest mid and when the gate observed it (wall ns); None if never seen."""
        ...

    def product_rules(self, product_id: ProductId) -> ProductRules | None:
        """The venue's increments, size bounds and flags; None if the venue lacks it."""
        ...


class ExchangePort(Protocol):
    """What the gate needs from an exchange. Implementations never retry `place`."""

    async def place(self, order: OrderRequest) -> PlaceResult:
        """Submit one order.

        Raises:
            OutcomeUnknown: timeout, 5xx or transport failure after sending.
            ExchangeAuthError: the key was refused.
        """
        ...

    async def cancel(self, venue_order_ids: Sequence[VenueOrderId]) -> tuple[CancelResult, ...]:
        """Cancel orders by venue id (a batch; one result per id).

        Raises:
            TemporaryExchangeError: the call failed as a whole; safe to retry.
        """
        ...

    async def cancel_all(self, product_id: ProductId | None = None) -> tuple[CancelResult, ...]:
        """List the open orders (of one product, or all) and cancel them in batches.

        Verifying that the book is empty afterwards is the caller's job (kill switch).

        Raises:
            TemporaryExchangeError: listing or a batch failed; safe to retry.
        """
        ...

    async def list_open_orders(self, product_id: ProductId | None = None) -> tuple[VenueOrder, ...]:
        """Every order still working at the venue (open, partially filled, pending cancel)."""
        ...

    async def get_order(self, client_order_id: ClientOrderId) -> VenueOrder | None:
        """Look an order up by client order id; None when the venue has no such order."""
        ...

    async def fills_since(self, since_ns: int) -> tuple[VenueFill, ...]:
        """Fills with ts_ns >= since_ns, oldest first."""
        ...

    async def balances(self) -> tuple[VenueBalance, ...]: ...
