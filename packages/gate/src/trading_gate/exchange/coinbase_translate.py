"""Coinbase wire values <-> the port's values, and Coinbase errors -> the port's tree.

Both mappings live here and nowhere else (STYLE 7), so the adapter reads as a story.

Errors, for the idempotent calls (`port_errors`):

    trading_coinbase.AuthError (401/403)              -> ExchangeAuthError
    RateLimited (429), ServerError (5xx), TransportError
        (after the client's own retries)              -> TemporaryExchangeError
    BadRequest, NotFound, SchemaError, anything else  -> ExchangeError (a bug or a
                                                         venue change: not retried)

and for create order (`place_outcome`), which is never retried:

    OrderRejected (success=false, definitive)         -> PlaceRejected(reason), a value
    BadRequest / NotFound (400/404: refused unread)   -> PlaceRejected(reason)
    AuthError                                         -> ExchangeAuthError
    OrderOutcomeUnknown (timeout, 5xx, transport,
        unreadable reply), RateLimited, anything else -> OutcomeUnknown

A 429 on create is UNKNOWN, not a refusal: Coinbase does not promise that a throttled
create was not placed (RELIABILITY §3), and the lookup by client order id settles it.
No message built here carries a key or a token: the library's never do.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.errors import (
    AuthError,
    BadRequest,
    CoinbaseError,
    NotFound,
    OrderRejected,
    RateLimited,
    SchemaError,
    ServerError,
    TransportError,
)
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
from trading_gate.core.context import ProductRules
from trading_gate.ports import (
    ExchangeAuthError,
    ExchangeError,
    OrderRequest,
    OutcomeUnknown,
    PlaceRejected,
    TemporaryExchangeError,
    VenueBalance,
    VenueFill,
    VenueOrder,
)

__all__ = [
    "StreamOrder",
    "advanced",
    "order_spec",
    "order_status",
    "place_outcome",
    "port_errors",
    "port_product_rules",
    "stream_order",
    "venue_balance",
    "venue_fill",
    "venue_order",
]

_SIDES: Final = {Side.BUY: t.Side.BUY, Side.SELL: t.Side.SELL}
_SIDES_BACK: Final = {v: k for k, v in _SIDES.items()}
_KINDS: Final = {
    OrderType.MARKET: t.OrderKind.MARKET,
    OrderType.LIMIT: t.OrderKind.LIMIT,
    OrderType.STOP_LIMIT: t.OrderKind.STOP_LIMIT,
}
_TIFS: Final = {
    TimeInForce.GTC: t.TimeInForce.GOOD_UNTIL_CANCELLED,
    TimeInForce.GTD: t.TimeInForce.GOOD_UNTIL_DATE_TIME,
    TimeInForce.IOC: t.TimeInForce.IMMEDIATE_OR_CANCEL,
    TimeInForce.FOK: t.TimeInForce.FILL_OR_KILL,
}
_DIRECTIONS: Final = {
    StopDirection.UP: t.StopDirection.STOP_UP,
    StopDirection.DOWN: t.StopDirection.STOP_DOWN,
}
_V = t.VenueOrderStatus
# Partially filled orders are OPEN on Coinbase; the filled size tells them apart.
_STATUSES: Final = {
    _V.PENDING: OrderStatus.PENDING,
    _V.QUEUED: OrderStatus.PENDING,
    _V.OPEN: OrderStatus.OPEN,
    _V.EDIT_QUEUED: OrderStatus.OPEN,
    _V.CANCEL_QUEUED: OrderStatus.PENDING_CANCEL,
    _V.FILLED: OrderStatus.FILLED,
    _V.CANCELLED: OrderStatus.CANCELLED,
    _V.EXPIRED: OrderStatus.EXPIRED,
    _V.FAILED: OrderStatus.REJECTED,
    # Indeterminate, never taken as cancelled (§2.4).
    _V.UNKNOWN: OrderStatus.UNKNOWN,
}
_TERMINAL: Final = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
# The order type a configuration key stands for when the venue's `order_type` is unset
# or one the gate does not place (brackets and TWAPs rest like limits).
_KEY_TYPES: Final = (
    ("market_", OrderType.MARKET),
    ("stop_limit_", OrderType.STOP_LIMIT),
)
_WIRE_TYPES: Final = {t.value: port for port, t in _KINDS.items()}
# Product statuses that still trade; anything else is treated as disabled.
_TRADING: Final = frozenset({"online", ""})


# ---------------------------------------------------------------- orders out


def order_spec(request: OrderRequest) -> t.OrderSpec:
    """The Coinbase order spec for an approved order.

    Raises:
        trading_coinbase.InvalidOrderSpec: no configuration the venue offers expresses it.
    """
    in_quote = request.size_in is SizeUnit.QUOTE
    direction = request.stop_direction
    return t.OrderSpec(
        client_order_id=request.client_order_id,
        product_id=request.product_id,
        side=_SIDES[request.side],
        kind=_KINDS[request.order_type],
        tif=_TIFS[request.time_in_force],
        base_size=None if in_quote else request.size,
        quote_size=request.size if in_quote else None,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        stop_direction=None if direction is None else _DIRECTIONS[direction],
        end_time_ns=request.end_time_ns,
        post_only=request.post_only,
    )


# ---------------------------------------------------------------- orders back


def order_status(status: t.VenueOrderStatus, filled_size: Decimal) -> OrderStatus:
    """The port's status for a venue status; OPEN with fills is PARTIALLY_FILLED."""
    port = _STATUSES[status]
    if port is OrderStatus.OPEN and filled_size > 0:
        return OrderStatus.PARTIALLY_FILLED
    return port


def _order_type(order: w.Order, key: str) -> OrderType:
    wire = _WIRE_TYPES.get(order.order_type.upper())
    if wire is not None:
        return wire
    return next((kind for prefix, kind in _KEY_TYPES if key.startswith(prefix)), OrderType.LIMIT)


def venue_order(order: w.Order) -> VenueOrder:
    """A REST order as the port's `VenueOrder` (any configuration, ours or not).

    Raises:
        trading_coinbase.SchemaError: a field does not parse; names it.
    """
    state = t.order_state(order)
    key, terms = next(iter(order.order_configuration.items()), ("", w.ConfigurationTerms()))
    at = f"$.order.order_configuration.{key}"
    base = t.parse_optional_decimal(terms.base_size, f"{at}.base_size")
    quote = t.parse_optional_decimal(terms.quote_size, f"{at}.quote_size")
    size_in = SizeUnit.QUOTE if base is None and quote is not None else SizeUnit.BASE
    filled = state.filled_size
    return VenueOrder(
        venue_order_id=VenueOrderId(state.order_id),
        client_order_id=ClientOrderId(state.client_order_id),
        product_id=ProductId(state.product_id),
        side=_SIDES_BACK[state.side],
        order_type=_order_type(order, key),
        status=order_status(state.status, filled),
        size=(quote if size_in is SizeUnit.QUOTE else base) or Decimal(0),
        size_in=size_in,
        limit_price=t.parse_optional_decimal(terms.limit_price, f"{at}.limit_price"),
        filled_size=filled,
        average_fill_price=state.average_filled_price if filled > 0 else None,
        created_ns=state.created_ns or 0,
    )


class StreamOrder(msgspec.Struct, frozen=True, kw_only=True):
    """What one user-channel report says of an order: cumulative, so restatable."""

    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId
    status: OrderStatus
    filled_size: Decimal
    average_fill_price: Decimal | None


def stream_order(order: w.WsUserOrder) -> StreamOrder:
    """A user-channel order report, parsed.

    Raises:
        trading_coinbase.SchemaError: a field does not parse; names it.
    """
    state = t.user_order_state(order)
    filled = state.cumulative_quantity
    return StreamOrder(
        venue_order_id=VenueOrderId(state.order_id),
        client_order_id=ClientOrderId(state.client_order_id),
        status=order_status(state.status, filled),
        filled_size=filled,
        average_fill_price=state.avg_price if filled > 0 else None,
    )


def advanced(view: VenueOrder, report: VenueOrder | StreamOrder) -> VenueOrder:
    """`view` moved to what `report` says, unless the report is older.

    Reports race (REST against the websocket), so one that shows less filled, or a live
    status after a terminal one, is stale and changes nothing: states only move forward.
    """
    if report.filled_size < view.filled_size:
        return view
    if view.status in _TERMINAL and report.status not in _TERMINAL:
        return view
    return msgspec.structs.replace(
        view,
        status=report.status,
        filled_size=report.filled_size,
        average_fill_price=report.average_fill_price,
    )


def venue_fill(fill: w.Fill, client_order_id: ClientOrderId) -> VenueFill:
    """A REST fill as the port's `VenueFill`; the venue leaves out the client order id.

    Raises:
        trading_coinbase.SchemaError: a field does not parse, or the fill has no time.
    """
    record = t.fill_record(fill)
    ts_ns = record.trade_time_ns or t.parse_optional_rfc3339_ns(
        fill.sequence_timestamp, "$.fills[0].sequence_timestamp"
    )
    if ts_ns is None:
        raise SchemaError("$.fills[0].trade_time", "a fill without a time")
    maker = record.liquidity.upper() == "MAKER"
    return VenueFill(
        trade_id=TradeId(record.trade_id),
        venue_order_id=VenueOrderId(record.order_id),
        client_order_id=client_order_id,
        product_id=ProductId(record.product_id),
        side=_SIDES_BACK[record.side],
        price=record.price,
        size=record.size,
        fee=record.commission,
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        ts_ns=ts_ns,
    )


def venue_balance(account: w.Account) -> VenueBalance:
    """One account (currency wallet) as the port's `VenueBalance`."""
    parsed = t.balance(account)
    return VenueBalance(currency=parsed.currency, available=parsed.available, hold=parsed.hold)


def port_product_rules(product: w.Product) -> ProductRules:
    """What the gate's checks enforce of a product; a status that does not trade disables it.

    Raises:
        trading_coinbase.SchemaError: an increment or size does not parse.
    """
    rules = t.product_rules(product)
    disabled = rules.trading_disabled or rules.status.lower() not in _TRADING
    return ProductRules(
        base_increment=rules.base_increment,
        quote_increment=rules.quote_increment,
        price_increment=rules.price_increment,
        base_min_size=rules.base_min_size,
        base_max_size=rules.base_max_size,
        trading_disabled=disabled or product.is_disabled,
        cancel_only=rules.cancel_only,
        limit_only=rules.limit_only,
        post_only=rules.post_only,
    )


# ---------------------------------------------------------------- errors


@contextmanager
def port_errors(what: str) -> Iterator[None]:
    """Coinbase errors of an idempotent call (`what`) as the port's tree (module table)."""
    try:
        yield
    except AuthError as exc:
        raise ExchangeAuthError(f"{what}: the venue refused the key: {exc}") from exc
    except (RateLimited, ServerError, TransportError) as exc:
        raise TemporaryExchangeError(f"{what}: {exc}") from exc
    except CoinbaseError as exc:
        raise ExchangeError(f"{what}: {type(exc).__name__}: {exc}") from exc


def place_outcome(exc: CoinbaseError) -> PlaceRejected | ExchangeError:
    """What a failed create means for the port: a refusal to return, or an error to raise."""
    if isinstance(exc, OrderRejected):
        return PlaceRejected(reason=exc.reason)
    if isinstance(exc, BadRequest | NotFound):
        return PlaceRejected(reason=exc.error or f"HTTP {exc.status}: {exc.message}"[:200])
    if isinstance(exc, AuthError):
        return ExchangeAuthError(f"create order: the venue refused the key: {exc}")
    return OutcomeUnknown(f"create order: outcome unknown ({type(exc).__name__}): {exc}")
