"""Cross-field rules of PlaceOrder, and encoding refusing what decoding would refuse."""

from decimal import Decimal
from typing import Any

import msgspec
import pytest

import trading_contract as c
from contract_stubs import EXAMPLES, market_order, place_order, stop_limit_order


@pytest.mark.parametrize(
    ("build", "overrides", "field"),
    [
        (market_order, {"limit_price": Decimal("1")}, "limit_price"),
        (market_order, {"time_in_force": c.TimeInForce.GTC}, "time_in_force"),
        (market_order, {"post_only": True}, "post_only"),
        (place_order, {"limit_price": None}, "limit_price"),
        (place_order, {"stop_price": Decimal("1")}, "stop_price"),
        (place_order, {"end_time_ns": None}, "end_time_ns"),
        (place_order, {"time_in_force": c.TimeInForce.IOC, "end_time_ns": None}, "post_only"),
        (place_order, {"time_in_force": c.TimeInForce.GTC}, "end_time_ns"),
        (stop_limit_order, {"stop_price": None}, "stop_price"),
        (stop_limit_order, {"stop_direction": None}, "stop_direction"),
        (stop_limit_order, {"time_in_force": c.TimeInForce.IOC}, "time_in_force"),
        (stop_limit_order, {"size_in": c.SizeUnit.QUOTE}, "size_in"),
        (stop_limit_order, {"post_only": True}, "post_only"),
        (place_order, {"size": Decimal("0")}, "size"),
        (place_order, {"size": Decimal("-0")}, "size"),
        (place_order, {"limit_price": Decimal("-1")}, "limit_price"),
    ],
)
def test_place_order_when_shape_invalid_then_refused_naming_field(
    build: Any, overrides: dict[str, Any], field: str
) -> None:
    """Each invalid order shape is refused on construction and on decode, naming the field."""
    with pytest.raises(ValueError, match=f"`{field}`"):
        build(**overrides)
    valid = msgspec.json.decode(c.encode(build()))
    body = msgspec.json.encode(valid | {k: _wire(v) for k, v in overrides.items()})
    with pytest.raises(c.SchemaViolation) as raised:
        c.decode_agent_message(body)
    assert raised.value.field is not None
    assert raised.value.field.startswith("$.")


def _wire(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize("build", [place_order, market_order, stop_limit_order])
def test_place_order_when_shape_valid_then_encodes(build: Any) -> None:
    """The three order shapes of the mothers are valid."""
    assert c.decode_agent_message(c.encode(build())) == build()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Decimal("NaN"), c.NumberOutOfBounds),
        (Decimal("Infinity"), c.NumberOutOfBounds),
        (Decimal("1e100"), c.NumberOutOfBounds),
        (Decimal("1e-100"), c.NumberOutOfBounds),
        (Decimal("1" * 31), c.NumberOutOfBounds),
    ],
)
def test_encode_when_decimal_out_of_bounds_then_refused(
    value: Decimal, error: type[c.ProtocolError]
) -> None:
    """The sender refuses a decimal the receiver would refuse, naming the field."""
    with pytest.raises(error) as raised:
        c.encode(place_order(size=value))
    assert raised.value.field == "$.size"


def test_encode_when_id_breaks_pattern_then_refused() -> None:
    """Struct construction does not validate types; encode does."""
    with pytest.raises(c.SchemaViolation) as raised:
        c.encode(c.Heartbeat(seq=-1, sent_ns=0))
    assert raised.value.field == "$.seq"


def test_encode_when_text_has_lone_surrogate_then_schema_violation() -> None:
    """A string that cannot be UTF-8 encoded is a typed error, not a UnicodeError."""
    with pytest.raises(c.SchemaViolation):
        c.encode(c.Error(code=c.ErrorCode.TIMEOUT, message="\ud800", fatal=False))


def test_encode_when_zero_decimal_with_exponent_then_round_trips() -> None:
    """Quantized zeros print as 0E-8; they are within bounds and survive a round trip."""
    message = c.OrderUpdate(
        client_order_id="c1",
        intent_id="i1",
        product_id="BTC-USD",
        status=c.OrderStatus.OPEN,
        filled_size=Decimal("0.00000000"),
        event_ns=0,
    )
    assert c.decode_gate_message(c.encode(message)) == message


def test_messages_when_built_then_frozen() -> None:
    """Messages are immutable values."""
    message = c.Heartbeat(seq=1, sent_ns=1)
    with pytest.raises(AttributeError):
        message.seq = 2  # type: ignore[misc]


def test_encode_when_body_over_frame_cap_then_frame_too_large() -> None:
    """A reply too big for one frame is refused by the sender, not truncated."""
    order = c.decode_gate_message(c.encode(EXAMPLES["query_reply_open_orders"]))
    assert isinstance(order, c.QueryReply)
    assert isinstance(order.result, c.OpenOrdersResult)
    many = c.OpenOrdersResult(orders=order.result.orders * c.messages.MAX_LIST_ITEMS)
    with pytest.raises(c.FrameTooLarge):
        c.encode(c.QueryReply(request_id=order.request_id, result=many, as_of_ns=0))
