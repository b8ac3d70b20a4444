"""The Coinbase adapter's pure parts: wire <-> port values, the error mapping, the URL
guard and the reconnect backoff. No venue: each expectation is written out here."""

import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_port_suite import limit_bid, market_buy
from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_coinbase.errors import (
    AuthError,
    BadRequest,
    CoinbaseError,
    InvalidOrderSpec,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    SchemaError,
    ServerError,
    TransportError,
)
from trading_contract import (
    ClientOrderId,
    OrderStatus,
    OrderType,
    ProductId,
    Side,
    SizeUnit,
    VenueOrderId,
)
from trading_gate.exchange.coinbase import CoinbaseEndpoints
from trading_gate.exchange.coinbase_stream import Reconnect
from trading_gate.exchange.coinbase_translate import (
    StreamOrder,
    advanced,
    order_spec,
    order_status,
    place_outcome,
    port_errors,
    venue_order,
)
from trading_gate.ports import (
    ExchangeAuthError,
    ExchangeError,
    OutcomeUnknown,
    PlaceRejected,
    TemporaryExchangeError,
    VenueOrder,
)

D = Decimal
V = t.VenueOrderStatus
S = OrderStatus


@pytest.mark.parametrize(
    ("venue", "filled", "port"),
    [
        (V.PENDING, "0", S.PENDING),
        (V.QUEUED, "0", S.PENDING),
        (V.OPEN, "0", S.OPEN),
        (V.OPEN, "0.1", S.PARTIALLY_FILLED),
        (V.EDIT_QUEUED, "0.1", S.PARTIALLY_FILLED),
        (V.CANCEL_QUEUED, "0.1", S.PENDING_CANCEL),
        (V.FILLED, "1", S.FILLED),
        (V.CANCELLED, "0.1", S.CANCELLED),
        (V.EXPIRED, "0", S.EXPIRED),
        (V.FAILED, "0", S.REJECTED),
        (V.UNKNOWN, "0", S.UNKNOWN),
    ],
)
def test_order_status_when_mapped_then_coinbase_vocabulary_becomes_the_ports(
    venue: t.VenueOrderStatus, filled: str, port: OrderStatus
) -> None:
    """Every venue status has its port status; an unknown one is never 'cancelled'."""
    assert order_status(venue, D(filled)) is port


def test_order_spec_when_quote_sized_market_then_quote_size_ioc() -> None:
    """A market buy for 100 USD becomes market_market_ioc with quote_size 100."""
    spec = order_spec(market_buy("m-1", "100.00"))

    assert (spec.kind, spec.tif, spec.quote_size, spec.base_size) == (
        t.OrderKind.MARKET,
        t.TimeInForce.IMMEDIATE_OR_CANCEL,
        D("100.00"),
        None,
    )
    assert t.order_request(spec).order_configuration.market_market_ioc is not None


def test_order_spec_when_post_only_gtc_limit_then_limit_limit_gtc_post_only() -> None:
    """The suite's resting bid keeps its size, price and post-only flag on the wire."""
    leaf = t.order_request(order_spec(limit_bid("l-1"))).order_configuration.limit_limit_gtc

    assert leaf == w.LimitLimitGtc(base_size="0.00100000", limit_price="49000.00", post_only=True)


def test_order_spec_when_limit_sized_in_quote_then_refused_before_sending() -> None:
    """No configuration this system places takes a quote-sized limit: refused unsent."""
    with pytest.raises(InvalidOrderSpec, match="base_size"):
        order_spec(limit_bid("q-1", size_in=SizeUnit.QUOTE, size=D("100")))


def _order(**overrides: Any) -> w.Order:
    fields: dict[str, Any] = {
        "order_id": "v-1",
        "product_id": "BTC-USD",
        "side": "BUY",
        "status": "OPEN",
        "client_order_id": "c-1",
        "order_configuration": {
            "limit_limit_gtc": w.ConfigurationTerms(base_size="0.5", limit_price="100")
        },
        "order_type": "LIMIT",
        "created_time": "2026-01-01T00:00:01.5Z",
        "filled_size": "0.2",
        "average_filled_price": "99.5",
    }
    return w.Order(**(fields | overrides))


def test_venue_order_when_a_partly_filled_limit_then_every_field_parsed() -> None:
    """A REST order becomes the port's order: sizes, price, fill and time exact."""
    assert venue_order(_order()) == VenueOrder(
        venue_order_id=VenueOrderId("v-1"),
        client_order_id=ClientOrderId("c-1"),
        product_id=ProductId("BTC-USD"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        status=S.PARTIALLY_FILLED,
        size=D("0.5"),
        size_in=SizeUnit.BASE,
        limit_price=D(100),
        filled_size=D("0.2"),
        average_fill_price=D("99.5"),
        created_ns=1_767_225_601_500_000_000,
    )


def test_venue_order_when_placed_elsewhere_in_a_kind_we_never_place_then_still_read() -> None:
    """An outside bracket order (no order_type given) still reads, as a limit: an
    orphan must be listable to be cancelled."""
    terms = w.ConfigurationTerms(base_size="1", limit_price="90", stop_trigger_price="80")
    found = venue_order(
        _order(order_configuration={"trigger_bracket_gtc": terms}, order_type="", filled_size="")
    )

    assert (found.order_type, found.size, found.status) == (OrderType.LIMIT, D(1), S.OPEN)


def test_venue_order_when_quote_sized_market_then_size_in_quote() -> None:
    """market_market_ioc with quote_size: the size is in quote, the type MARKET."""
    terms = w.ConfigurationTerms(quote_size="25")
    found = venue_order(
        _order(order_configuration={"market_market_ioc": terms}, order_type="MARKET")
    )

    assert (found.order_type, found.size, found.size_in) == (
        OrderType.MARKET,
        D(25),
        SizeUnit.QUOTE,
    )


_STATUSES = st.sampled_from(list(S))
_SIZES = st.integers(min_value=0, max_value=10).map(lambda n: D(n) / 10)
_TERMINAL = {S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}


@given(st.lists(st.tuples(_STATUSES, _SIZES), min_size=1, max_size=12))
def test_advanced_when_reports_race_then_states_only_move_forward(
    reports: list[tuple[OrderStatus, Decimal]],
) -> None:
    """Whatever order REST and stream reports arrive in: the filled size never shrinks,
    a finished order never reopens, and a report that is not stale is taken whole."""
    view = venue_order(_order(filled_size="0"))
    for status, filled in reports:
        report = StreamOrder(
            venue_order_id=view.venue_order_id,
            client_order_id=view.client_order_id,
            status=status,
            filled_size=filled,
            average_fill_price=None,
        )
        stale = filled < view.filled_size or (view.status in _TERMINAL and status not in _TERMINAL)

        after = advanced(view, report)

        assert after.filled_size >= view.filled_size
        assert view.status not in _TERMINAL or after.status in _TERMINAL
        assert (after == view) if stale else ((after.status, after.filled_size) == (status, filled))
        view = after


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (OrderRejected("c", "INSUFFICIENT_FUND"), PlaceRejected),
        (BadRequest(400, "bad", error="INVALID_ARGUMENT"), PlaceRejected),
        (NotFound(404, "no such product"), PlaceRejected),
        (AuthError(401, "Unauthorized"), ExchangeAuthError),
        (AuthError(403, "Missing required scopes"), ExchangeAuthError),
        (OrderOutcomeUnknown("ServerError", client_order_id="c"), OutcomeUnknown),
        (RateLimited(429, "slow down"), OutcomeUnknown),
        (ServerError(503, "unavailable"), OutcomeUnknown),
        (TransportError("reset"), OutcomeUnknown),
    ],
)
def test_place_outcome_when_create_fails_then_refusal_value_or_the_ports_error(
    error: CoinbaseError, outcome: type[object]
) -> None:
    """Definitive refusals are values; a refused key is an auth error; the rest unknown."""
    assert type(place_outcome(error)) is outcome


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (AuthError(401, "Unauthorized"), ExchangeAuthError),
        (RateLimited(429, "slow down"), TemporaryExchangeError),
        (ServerError(502, "bad gateway"), TemporaryExchangeError),
        (TransportError("timed out"), TemporaryExchangeError),
        (BadRequest(400, "bad"), ExchangeError),
        (SchemaError("$.orders", "expected an array"), ExchangeError),
    ],
)
def test_port_errors_when_an_idempotent_call_fails_then_mapped_once(
    error: CoinbaseError, mapped: type[ExchangeError]
) -> None:
    """Temporary failures may be retried; auth halts; anything else is not temporary."""
    with pytest.raises(ExchangeError) as raised, port_errors("a call"):
        raise error

    assert type(raised.value) is mapped
    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    ("urls", "allowed"),
    [
        ({}, True),
        ({"rest_url": "http://127.0.0.1:8080", "market_ws_url": "ws://127.0.0.1:8080/ws"}, True),
        ({"rest_url": "http://api.coinbase.com"}, False),
        ({"user_ws_url": "ws://advanced-trade-ws-user.coinbase.com"}, False),
    ],
)
def test_endpoints_when_no_tls_then_loopback_only(urls: dict[str, str], allowed: bool) -> None:
    """Plain http/ws may reach the loopback venue, never another host."""
    if allowed:
        CoinbaseEndpoints(**urls)
    else:
        with pytest.raises(ValueError, match="only"):
            CoinbaseEndpoints(**urls)


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=2**32))
def test_reconnect_delay_when_drawn_then_half_to_all_of_a_capped_doubling(
    attempt: int, seed: int
) -> None:
    """Delay n lies in [c/2, c) with c = min(30 s, 0.25 s x 2^n)."""
    ceiling = min(30.0, 0.25 * 2.0 ** min(attempt, 30))

    delay = Reconnect().delay_s(attempt, random.Random(seed))  # noqa: S311

    assert ceiling / 2 <= delay < ceiling
