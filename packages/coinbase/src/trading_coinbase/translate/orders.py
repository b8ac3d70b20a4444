"""Order specs <-> `order_configuration` (§2.1), and what a failed create means (§2.3).

An `OrderSpec` maps to exactly one configuration key through the `_SHAPES` table and
back: `spec -> wire -> spec` is the identity.
"""

from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase.errors import InvalidOrderSpec, SchemaError
from trading_coinbase.translate.enums import OrderKind, Side, StopDirection, TimeInForce, parse_side
from trading_coinbase.translate.scalars import (
    format_decimal,
    format_rfc3339,
    parse_optional_decimal,
    parse_rfc3339_ns,
)

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "CreateFailure",
    "OrderSpec",
    "create_failure",
    "order_configuration",
    "order_request",
    "preview_request",
    "spec_from_configuration",
    "spec_from_request",
]


MAX_CLIENT_ORDER_ID: Final = 128


class OrderSpec(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the system means it; construction checks it fits one configuration.

    Sizes and prices are positive Decimals; `end_time_ns` is epoch nanoseconds. Market
    orders take exactly one of `base_size` or `quote_size`; every other kind takes
    `base_size`. `post_only` applies to GTC and GTD limits only.

    Raises:
        InvalidOrderSpec: on construction, naming the offending field.
    """

    client_order_id: str
    product_id: str
    side: Side
    kind: OrderKind
    tif: TimeInForce
    base_size: Decimal | None = None
    quote_size: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_direction: StopDirection | None = None
    end_time_ns: int | None = None
    post_only: bool = False

    def __post_init__(self) -> None:
        _check_spec(self)


class _Shape(msgspec.Struct, frozen=True):
    key: str
    required: frozenset[str]
    post_only: bool = False


_PRICED: Final = frozenset({"base_size", "limit_price"})

_STOP: Final = _PRICED | {"stop_price", "stop_direction"}

_SHAPES: Final = {
    (OrderKind.MARKET, TimeInForce.IMMEDIATE_OR_CANCEL): _Shape("market_market_ioc", frozenset()),
    (OrderKind.LIMIT, TimeInForce.IMMEDIATE_OR_CANCEL): _Shape("sor_limit_ioc", _PRICED),
    (OrderKind.LIMIT, TimeInForce.GOOD_UNTIL_CANCELLED): _Shape("limit_limit_gtc", _PRICED, True),
    (OrderKind.LIMIT, TimeInForce.GOOD_UNTIL_DATE_TIME): _Shape(
        "limit_limit_gtd", _PRICED | {"end_time_ns"}, True
    ),
    (OrderKind.LIMIT, TimeInForce.FILL_OR_KILL): _Shape("limit_limit_fok", _PRICED),
    (OrderKind.STOP_LIMIT, TimeInForce.GOOD_UNTIL_CANCELLED): _Shape(
        "stop_limit_stop_limit_gtc", _STOP
    ),
    (OrderKind.STOP_LIMIT, TimeInForce.GOOD_UNTIL_DATE_TIME): _Shape(
        "stop_limit_stop_limit_gtd", _STOP | {"end_time_ns"}
    ),
}

_KIND_BY_KEY: Final = {shape.key: kind_tif for kind_tif, shape in _SHAPES.items()}

_OPTIONAL_TERMS: Final = (
    "base_size",
    "quote_size",
    "limit_price",
    "stop_price",
    "stop_direction",
    "end_time_ns",
)

_POSITIVE: Final = ("base_size", "quote_size", "limit_price", "stop_price")


def _check_spec(spec: OrderSpec) -> None:
    if not spec.client_order_id or len(spec.client_order_id) > MAX_CLIENT_ORDER_ID:
        raise InvalidOrderSpec(
            f"client_order_id must be 1..{MAX_CLIENT_ORDER_ID} characters, "
            f"got {len(spec.client_order_id)}"
        )
    if not spec.product_id:
        raise InvalidOrderSpec("product_id must not be empty")
    shape = _shape(spec)
    given = frozenset(f for f in _OPTIONAL_TERMS if getattr(spec, f) is not None)
    expected = shape.required
    if shape.key == "market_market_ioc":
        sizes = given & {"base_size", "quote_size"}
        expected = sizes if len(sizes) == 1 else frozenset({"base_size | quote_size"})
    if given != expected:
        raise InvalidOrderSpec(f"{shape.key} takes exactly {sorted(expected)}, got {sorted(given)}")
    if spec.post_only and not shape.post_only:
        raise InvalidOrderSpec(f"post_only is not allowed on {shape.key}")
    for name in _POSITIVE:
        value = getattr(spec, name)
        if value is not None and not (value.is_finite() and value > 0):
            raise InvalidOrderSpec(f"{name} must be a positive finite decimal, got {value}")


def _shape(spec: OrderSpec) -> _Shape:
    shape = _SHAPES.get((spec.kind, spec.tif))
    if shape is None:
        raise InvalidOrderSpec(f"no order configuration for {spec.kind.value} {spec.tif.value}")
    return shape


def _text(value: Decimal | None) -> str:
    # Only called for fields `_check_spec` guarantees are set for this shape.
    if value is None:  # pragma: no cover - guarded by _check_spec
        raise InvalidOrderSpec("a required size or price is missing")
    return format_decimal(value)


def _end_time(spec: OrderSpec) -> str:
    if spec.end_time_ns is None:  # pragma: no cover - guarded by _check_spec
        raise InvalidOrderSpec("end_time_ns is required for a GTD order")
    return format_rfc3339(spec.end_time_ns)


def _stop_direction(spec: OrderSpec) -> w.StopDirectionWire:
    if spec.stop_direction is StopDirection.STOP_UP:
        return "STOP_DIRECTION_STOP_UP"
    if spec.stop_direction is StopDirection.STOP_DOWN:
        return "STOP_DIRECTION_STOP_DOWN"
    raise InvalidOrderSpec("stop_direction is required for a stop-limit order")  # pragma: no cover


def order_configuration(spec: OrderSpec) -> w.OrderConfiguration:
    """The one `order_configuration` key that expresses `spec`."""
    key = _shape(spec).key
    size, price = spec.base_size, spec.limit_price
    if key == "market_market_ioc":
        quote = None if spec.quote_size is None else _text(spec.quote_size)
        base = None if size is None else _text(size)
        return w.OrderConfiguration(
            market_market_ioc=w.MarketMarketIoc(quote_size=quote, base_size=base)
        )
    if key == "sor_limit_ioc":
        return w.OrderConfiguration(
            sor_limit_ioc=w.SorLimitIoc(base_size=_text(size), limit_price=_text(price))
        )
    if key == "limit_limit_fok":
        return w.OrderConfiguration(
            limit_limit_fok=w.LimitLimitFok(base_size=_text(size), limit_price=_text(price))
        )
    return _resting_configuration(spec, key)


def _resting_configuration(spec: OrderSpec, key: str) -> w.OrderConfiguration:
    size, price = _text(spec.base_size), _text(spec.limit_price)
    if key == "limit_limit_gtc":
        leaf = w.LimitLimitGtc(base_size=size, limit_price=price, post_only=spec.post_only)
        return w.OrderConfiguration(limit_limit_gtc=leaf)
    if key == "limit_limit_gtd":
        gtd = w.LimitLimitGtd(
            base_size=size, limit_price=price, end_time=_end_time(spec), post_only=spec.post_only
        )
        return w.OrderConfiguration(limit_limit_gtd=gtd)
    stop, direction = _text(spec.stop_price), _stop_direction(spec)
    if key == "stop_limit_stop_limit_gtc":
        sgtc = w.StopLimitStopLimitGtc(
            base_size=size, limit_price=price, stop_price=stop, stop_direction=direction
        )
        return w.OrderConfiguration(stop_limit_stop_limit_gtc=sgtc)
    sgtd = w.StopLimitStopLimitGtd(
        base_size=size,
        limit_price=price,
        stop_price=stop,
        stop_direction=direction,
        end_time=_end_time(spec),
    )
    return w.OrderConfiguration(stop_limit_stop_limit_gtd=sgtd)


def order_request(spec: OrderSpec) -> w.CreateOrderRequest:
    """The POST /orders body for `spec`."""
    return w.CreateOrderRequest(
        client_order_id=spec.client_order_id,
        product_id=spec.product_id,
        side="BUY" if spec.side is Side.BUY else "SELL",
        order_configuration=order_configuration(spec),
    )


def preview_request(spec: OrderSpec) -> w.PreviewOrderRequest:
    """The POST /orders/preview body for `spec` (no client order id)."""
    return w.PreviewOrderRequest(
        product_id=spec.product_id,
        side="BUY" if spec.side is Side.BUY else "SELL",
        order_configuration=order_configuration(spec),
    )


def spec_from_request(request: w.CreateOrderRequest) -> OrderSpec:
    """The spec a create body expresses (the loopback venue's view of our request).

    Raises:
        SchemaError: a field does not parse.
        InvalidOrderSpec: the fields do not make an allowed order.
    """
    config = request.order_configuration
    terms = {
        key: w.ConfigurationTerms(**msgspec.structs.asdict(leaf))
        for key in config.__struct_fields__
        if (leaf := getattr(config, key)) is not None
    }
    return spec_from_configuration(
        terms,
        side=request.side,
        product_id=request.product_id,
        client_order_id=request.client_order_id,
    )


def spec_from_configuration(
    configuration: dict[str, w.ConfigurationTerms],
    *,
    side: str,
    product_id: str,
    client_order_id: str,
) -> OrderSpec:
    """The spec an `order_configuration` (as echoed in orders and replies) expresses.

    Raises:
        SchemaError: not exactly one key, a key this system does not place, or a bad field.
        InvalidOrderSpec: the fields do not make an allowed order.
    """
    if len(configuration) != 1:
        raise SchemaError("$.order_configuration", f"expected one key, got {sorted(configuration)}")
    ((key, terms),) = configuration.items()
    kind_tif = _KIND_BY_KEY.get(key)
    if kind_tif is None:
        raise SchemaError(f"$.order_configuration.{key}", "not an order kind this system places")
    at = f"$.order_configuration.{key}"
    return OrderSpec(
        client_order_id=client_order_id,
        product_id=product_id,
        side=parse_side(side, "$.side"),
        kind=kind_tif[0],
        tif=kind_tif[1],
        base_size=parse_optional_decimal(terms.base_size, f"{at}.base_size"),
        quote_size=parse_optional_decimal(terms.quote_size, f"{at}.quote_size"),
        limit_price=parse_optional_decimal(terms.limit_price, f"{at}.limit_price"),
        stop_price=parse_optional_decimal(terms.stop_price, f"{at}.stop_price"),
        stop_direction=_optional_stop_direction(terms.stop_direction, f"{at}.stop_direction"),
        end_time_ns=None
        if terms.end_time is None
        else parse_rfc3339_ns(terms.end_time, f"{at}.end_time"),
        post_only=bool(terms.post_only),
    )


def _optional_stop_direction(text: str | None, field: str) -> StopDirection | None:
    if text is None:
        return None
    try:
        return StopDirection(text)
    except ValueError as exc:
        raise SchemaError(field, f"unknown stop direction {text!r}") from exc


class CreateFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a create said success=false, and whether that is definitive (no order)."""

    reason: str
    message: str
    definitive: bool


# These say nothing definite about whether an order exists (§2.2, §2.3).

_INDEFINITE_REASONS: Final = frozenset(
    {"COMMANDER_REJECTED_NEW_ORDER", "DUPLICATE_CLIENT_ORDER_ID"}
)


def create_failure(response: w.CreateOrderResponse) -> CreateFailure:
    """The first set reason (new order, preview, error, legacy) and its definiteness.

    `UNKNOWN_*` values mean "not set"; with only those, the outcome is not definite.
    """
    err = response.error_response or w.CreateOrderError()
    candidates = (
        err.new_order_failure_reason,
        err.preview_failure_reason,
        err.error,
        response.failure_reason,
    )
    reason = next((c for c in candidates if c and not c.startswith("UNKNOWN_")), "")
    message = err.message or err.error_details
    if not reason:
        return CreateFailure(reason="UNKNOWN_FAILURE_REASON", message=message, definitive=False)
    return CreateFailure(
        reason=reason, message=message, definitive=reason not in _INDEFINITE_REASONS
    )
