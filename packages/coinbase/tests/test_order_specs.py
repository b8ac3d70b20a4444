"""Order specs <-> order_configuration: round trips, exact wire shapes, refusals."""

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.errors import InvalidOrderSpec, SchemaError

K, TIF = t.OrderKind, t.TimeInForce
# The configuration key each (kind, time in force) must produce (§2.1), written out
# independently of the module's own table.
EXPECTED_KEY = {
    (K.MARKET, TIF.IMMEDIATE_OR_CANCEL): "market_market_ioc",
    (K.LIMIT, TIF.IMMEDIATE_OR_CANCEL): "sor_limit_ioc",
    (K.LIMIT, TIF.GOOD_UNTIL_CANCELLED): "limit_limit_gtc",
    (K.LIMIT, TIF.GOOD_UNTIL_DATE_TIME): "limit_limit_gtd",
    (K.LIMIT, TIF.FILL_OR_KILL): "limit_limit_fok",
    (K.STOP_LIMIT, TIF.GOOD_UNTIL_CANCELLED): "stop_limit_stop_limit_gtc",
    (K.STOP_LIMIT, TIF.GOOD_UNTIL_DATE_TIME): "stop_limit_stop_limit_gtd",
}
POST_ONLY_ALLOWED = {"limit_limit_gtc", "limit_limit_gtd"}

amounts = st.decimals(
    min_value=Decimal("0.00000001"),
    max_value=Decimal("100000000"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)
client_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=t.MAX_CLIENT_ORDER_ID
)
end_times = st.integers(min_value=0, max_value=4_102_444_800 * 10**9)  # to 2100


@st.composite
def specs(draw: st.DrawFn) -> t.OrderSpec:
    kind, tif = draw(st.sampled_from(sorted(EXPECTED_KEY, key=str)))
    key = EXPECTED_KEY[(kind, tif)]
    fields: dict[str, Any] = {}
    if kind is K.MARKET:
        fields[draw(st.sampled_from(["base_size", "quote_size"]))] = draw(amounts)
    else:
        fields |= {"base_size": draw(amounts), "limit_price": draw(amounts)}
    if kind is K.STOP_LIMIT:
        fields["stop_price"] = draw(amounts)
        fields["stop_direction"] = draw(st.sampled_from(list(t.StopDirection)))
    if tif is TIF.GOOD_UNTIL_DATE_TIME:
        fields["end_time_ns"] = draw(end_times)
    if key in POST_ONLY_ALLOWED:
        fields["post_only"] = draw(st.booleans())
    return t.OrderSpec(
        client_order_id=draw(client_ids),
        product_id=draw(st.sampled_from(["BTC-USD", "ETH-USD", "BIP-20DEC30-CDE"])),
        side=draw(st.sampled_from(list(t.Side))),
        kind=kind,
        tif=tif,
        **fields,
    )


@given(specs())
def test_spec_when_sent_and_decoded_strictly_then_same_spec(spec: t.OrderSpec) -> None:
    """spec -> POST /orders JSON -> strict request decode (the venue's view) -> spec."""
    data = msgspec.json.encode(t.order_request(spec))

    decoded = msgspec.json.decode(data, type=w.CreateOrderRequest)

    assert t.spec_from_request(decoded) == spec


@given(specs())
def test_spec_when_echoed_as_order_configuration_then_same_spec(spec: t.OrderSpec) -> None:
    """The tolerant response form (dict of ConfigurationTerms) reads back the same spec."""
    data = msgspec.json.encode(t.order_configuration(spec))

    echoed = msgspec.json.decode(data, type=dict[str, w.ConfigurationTerms])
    again = t.spec_from_configuration(
        echoed,
        side=spec.side.value,
        product_id=spec.product_id,
        client_order_id=spec.client_order_id,
    )

    assert again == spec


@given(specs())
def test_spec_when_encoded_then_one_key_plain_decimal_strings_no_nulls(spec: t.OrderSpec) -> None:
    """The wire shape: exactly the expected key, strings without exponents, no nulls."""
    body = json.loads(msgspec.json.encode(t.order_request(spec)))

    (key, leaf) = body["order_configuration"].popitem()

    assert body["order_configuration"] == {}
    assert key == EXPECTED_KEY[(spec.kind, spec.tif)]
    assert None not in leaf.values()
    for name in ("base_size", "quote_size", "limit_price", "stop_price"):
        if name in leaf:
            assert "E" not in leaf[name].upper()
            assert Decimal(leaf[name]) == getattr(spec, name)
    assert ("post_only" in leaf) == (key in POST_ONLY_ALLOWED)
    assert body["side"] == spec.side.value
    assert body["client_order_id"] == spec.client_order_id


def test_limit_gtd_when_encoded_then_matches_the_documented_body() -> None:
    """A hand-written body in the doc's shape (§2.1) is exactly what we send."""
    spec = t.OrderSpec(
        client_order_id="c-1",
        product_id="BTC-USD",
        side=t.Side.BUY,
        kind=K.LIMIT,
        tif=TIF.GOOD_UNTIL_DATE_TIME,
        base_size=Decimal("0.001"),
        limit_price=Decimal("10000.00"),
        end_time_ns=1_775_521_800 * 10**9,
        post_only=True,
    )

    body = json.loads(msgspec.json.encode(t.order_request(spec)))

    assert body == {
        "client_order_id": "c-1",
        "product_id": "BTC-USD",
        "side": "BUY",
        "order_configuration": {
            "limit_limit_gtd": {
                "base_size": "0.001",
                "limit_price": "10000.00",
                "end_time": "2026-04-07T00:30:00Z",
                "post_only": True,
            }
        },
    }


def test_market_buy_when_quote_sized_then_only_quote_size_sent() -> None:
    """market_market_ioc sends the one size given, never the other as null."""
    spec = t.OrderSpec(
        client_order_id="c-2",
        product_id="BTC-USD",
        side=t.Side.BUY,
        kind=K.MARKET,
        tif=TIF.IMMEDIATE_OR_CANCEL,
        quote_size=Decimal("25"),
    )

    body = json.loads(msgspec.json.encode(t.order_request(spec)))

    assert body["order_configuration"] == {"market_market_ioc": {"quote_size": "25"}}


BASE: dict[str, Any] = {
    "client_order_id": "c",
    "product_id": "BTC-USD",
    "side": t.Side.SELL,
}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {
                "kind": K.LIMIT,
                "tif": TIF.FILL_OR_KILL,
                "base_size": Decimal(1),
                "limit_price": Decimal(2),
                "post_only": True,
            },
            "post_only",
        ),
        (
            {
                "kind": K.MARKET,
                "tif": TIF.IMMEDIATE_OR_CANCEL,
                "base_size": Decimal(1),
                "quote_size": Decimal(1),
            },
            "market_market_ioc",
        ),
        (
            {"kind": K.LIMIT, "tif": TIF.GOOD_UNTIL_CANCELLED, "base_size": Decimal(1)},
            "limit_price",
        ),
        (
            {
                "kind": K.LIMIT,
                "tif": TIF.GOOD_UNTIL_CANCELLED,
                "base_size": Decimal(0),
                "limit_price": Decimal(2),
            },
            "base_size",
        ),
        (
            {
                "kind": K.LIMIT,
                "tif": TIF.GOOD_UNTIL_CANCELLED,
                "base_size": Decimal("NaN"),
                "limit_price": Decimal(2),
            },
            "base_size",
        ),
        ({"kind": K.STOP_LIMIT, "tif": TIF.IMMEDIATE_OR_CANCEL}, "no order configuration"),
        (
            {
                "kind": K.LIMIT,
                "tif": TIF.GOOD_UNTIL_DATE_TIME,
                "base_size": Decimal(1),
                "limit_price": Decimal(2),
            },
            "end_time_ns",
        ),
        (
            {
                "kind": K.MARKET,
                "tif": TIF.IMMEDIATE_OR_CANCEL,
                "base_size": Decimal(1),
                "limit_price": Decimal(2),
            },
            "limit_price",
        ),
    ],
)
def test_spec_when_unexpressible_then_invalid_order_spec(
    fields: dict[str, Any], words: str
) -> None:
    """A spec no allowed configuration can express is refused, naming the problem."""
    with pytest.raises(InvalidOrderSpec, match=words):
        t.OrderSpec(**BASE, **fields)


@pytest.mark.parametrize("client_order_id", ["", "x" * (t.MAX_CLIENT_ORDER_ID + 1)])
def test_spec_when_client_order_id_empty_or_too_long_then_refused(client_order_id: str) -> None:
    """Never send "" (§2.2); at most 128 characters [C8]."""
    with pytest.raises(InvalidOrderSpec, match="client_order_id"):
        t.OrderSpec(
            client_order_id=client_order_id,
            product_id="BTC-USD",
            side=t.Side.BUY,
            kind=K.MARKET,
            tif=TIF.IMMEDIATE_OR_CANCEL,
            quote_size=Decimal(1),
        )


def test_request_when_two_configuration_keys_then_strict_decode_refuses() -> None:
    """The loopback venue's strict decode refuses a body with two configurations."""
    body = (
        b'{"client_order_id":"c","product_id":"BTC-USD","side":"BUY","order_configuration":'
        b'{"market_market_ioc":{"quote_size":"1"},"limit_limit_fok":'
        b'{"base_size":"1","limit_price":"2"}}}'
    )

    with pytest.raises(msgspec.ValidationError, match="exactly one key"):
        msgspec.json.decode(body, type=w.CreateOrderRequest)


def test_request_when_unknown_field_then_strict_decode_refuses() -> None:
    """Requests are strict: an unknown field is an error, not silently dropped."""
    body = (
        b'{"client_order_id":"c","product_id":"BTC-USD","side":"BUY","leverage":"2",'
        b'"order_configuration":{"market_market_ioc":{"quote_size":"1"}}}'
    )

    with pytest.raises(msgspec.ValidationError, match="unknown field `leverage`"):
        msgspec.json.decode(body, type=w.CreateOrderRequest)


def test_configuration_when_kind_not_placed_by_us_then_schema_error_names_it() -> None:
    """An echoed TWAP order decodes (tolerant) but is not turned into a spec."""
    echoed = msgspec.json.decode(
        b'{"twap_limit_gtd":{"quote_size":"10","start_time":"x"}}',
        type=dict[str, w.ConfigurationTerms],
    )

    with pytest.raises(SchemaError) as caught:
        t.spec_from_configuration(echoed, side="BUY", product_id="BTC-USD", client_order_id="c")

    assert caught.value.path == "$.order_configuration.twap_limit_gtd"


def _create_reply(**error: str) -> w.CreateOrderResponse:
    return w.CreateOrderResponse(success=False, error_response=w.CreateOrderError(**error))


@pytest.mark.parametrize(
    ("error", "reason", "definitive"),
    [
        # The documented example (§2.3): new_order_failure_reason wins.
        (
            {
                "error": "UNKNOWN_FAILURE_REASON",
                "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
                "new_order_failure_reason": "INVALID_LIMIT_PRICE_POST_ONLY",
            },
            "INVALID_LIMIT_PRICE_POST_ONLY",
            True,
        ),
        (
            {
                "preview_failure_reason": "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
                "error": "INSUFFICIENT_FUND",
            },
            "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
            True,
        ),
        ({"error": "INSUFFICIENT_FUND"}, "INSUFFICIENT_FUND", True),
        (
            {
                "error": "UNKNOWN_FAILURE_REASON",
                "new_order_failure_reason": "UNKNOWN_FAILURE_REASON",
            },
            "UNKNOWN_FAILURE_REASON",
            False,
        ),
        (
            {"new_order_failure_reason": "COMMANDER_REJECTED_NEW_ORDER"},
            "COMMANDER_REJECTED_NEW_ORDER",
            False,
        ),
        ({"error": "DUPLICATE_CLIENT_ORDER_ID"}, "DUPLICATE_CLIENT_ORDER_ID", False),
    ],
)
def test_create_failure_when_reasons_given_then_first_set_and_definiteness(
    error: dict[str, str], reason: str, definitive: bool
) -> None:
    """new_order, then preview, then error; UNKNOWN_* is unset; some reasons are unknowns."""
    failure = t.create_failure(_create_reply(**error))

    assert (failure.reason, failure.definitive) == (reason, definitive)
