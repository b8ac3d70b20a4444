"""The REST client over httpx.MockTransport speaking the venue's real JSON shapes."""

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from trading_coinbase import translate as t
from trading_coinbase.auth import ApiKey, Signer
from trading_coinbase.errors import (
    AuthError,
    BadRequest,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    SchemaError,
    TransportError,
)
from trading_coinbase.ratelimit import BucketLimits, RateLimiter
from trading_coinbase.rest import RestClient, RetryPolicy

KEY_NAME = "organizations/org-1/apiKeys/key-1"
NOW = 1_712_188_800
Handler = Callable[[httpx.Request], httpx.Response]

ORDER = {
    "order_id": "0000-000000-000001",
    "product_id": "BTC-USD",
    "side": "BUY",
    "client_order_id": "cid-1",
    "status": "OPEN",
    "time_in_force": "GOOD_UNTIL_CANCELLED",
    "created_time": "2024-01-15T10:00:00Z",
    "filled_size": "0",
    "average_filled_price": "0",
    "number_of_fills": "0",
    "order_configuration": {
        "limit_limit_gtc": {"base_size": "0.01", "limit_price": "45000.00", "post_only": False}
    },
    "order_type": "LIMIT",
    "some_new_field": {"the venue": "adds fields"},
}


def limit_spec(cid: str = "cid-1") -> t.OrderSpec:
    return t.OrderSpec(
        client_order_id=cid,
        product_id="BTC-USD",
        side=t.Side.BUY,
        kind=t.OrderKind.LIMIT,
        tif=t.TimeInForce.GOOD_UNTIL_CANCELLED,
        base_size=Decimal("0.01"),
        limit_price=Decimal("45000.00"),
    )


class Recorder:
    """The requests a MockTransport saw, and the sleeps the client asked for."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self._handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def scripted(*responses: httpx.Response | Exception) -> Handler:
    """Answer each request with the next response, or raise the next exception."""
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handle


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def run(
    recorder: Recorder,
    call: Callable[[RestClient], Awaitable[Any]],
    *,
    pem: str | None = None,
    retry: RetryPolicy | None = None,
) -> Any:
    """Build a client on `recorder` (fast buckets, seeded jitter), run `call`, close."""

    async def go() -> Any:
        roomy = BucketLimits(rate_per_s=1000, capacity=1000, reserve=10)
        signer = None
        if pem is not None:
            signer = Signer(ApiKey(KEY_NAME, pem), clock=lambda: NOW, nonce=lambda: "ab" * 32)
        async with RestClient(
            signer=signer,
            transport=httpx.MockTransport(recorder),
            retry=retry,
            private_limiter=RateLimiter(roomy, sleep=recorder.sleep),
            public_limiter=RateLimiter(roomy, sleep=recorder.sleep),
            rng=random.Random(7),  # noqa: S311 - seeded jitter
            sleep=recorder.sleep,
        ) as client:
            return await call(client)

    return asyncio.run(go())


def test_create_when_post_times_out_then_outcome_unknown_and_sent_exactly_once(
    ec_pem: str,
) -> None:
    """A create that times out is never resent: OrderOutcomeUnknown carries the id."""
    rec = Recorder(scripted(httpx.ReadTimeout("slow")))

    with pytest.raises(OrderOutcomeUnknown) as caught:
        run(rec, lambda c: c.create_order(limit_spec("cid-timeout")), pem=ec_pem)

    assert caught.value.client_order_id == "cid-timeout"
    assert len(rec.requests) == 1
    assert rec.sleeps == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.ConnectError("reset"),
        httpx.Response(200, text="<html>gateway</html>"),  # unreadable: maybe placed
    ],
)
def test_create_when_5xx_transport_error_or_garbage_then_outcome_unknown_once(
    ec_pem: str, answer: httpx.Response | Exception
) -> None:
    """5xx, transport failures and unreadable replies all leave the outcome unknown."""
    rec = Recorder(scripted(answer))

    with pytest.raises(OrderOutcomeUnknown):
        run(rec, lambda c: c.create_order(limit_spec()), pem=ec_pem)

    assert len(rec.requests) == 1


def test_create_when_accepted_then_success_response_and_signed_body(
    ec_pem: str, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    """The POST body is the documented shape; the JWT's uri names method, host, path."""
    reply = {
        "success": True,
        "success_response": {
            "order_id": "o-1",
            "product_id": "BTC-USD",
            "side": "BUY",
            "client_order_id": "cid-1",
        },
        "order_configuration": {
            "limit_limit_gtc": {"base_size": "0.01", "limit_price": "45000.00", "post_only": False}
        },
    }
    rec = Recorder(scripted(ok(reply)))

    ack = run(rec, lambda c: c.create_order(limit_spec()), pem=ec_pem)

    assert ack.order_id == "o-1"
    sent = rec.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/api/v3/brokerage/orders")
    assert json.loads(sent.content) == {
        "client_order_id": "cid-1",
        "product_id": "BTC-USD",
        "side": "BUY",
        "order_configuration": {
            "limit_limit_gtc": {"base_size": "0.01", "limit_price": "45000.00", "post_only": False}
        },
    }
    token = sent.headers["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(
        token,
        ec_private_key.public_key(),
        algorithms=["ES256"],
        options={"verify_exp": False, "verify_nbf": False},
    )
    assert claims["uri"] == "POST api.coinbase.com/api/v3/brokerage/orders"


def test_create_when_definitive_rejection_then_order_rejected(ec_pem: str) -> None:
    """success=false with a real reason: no order exists, say why."""
    reply = {
        "success": False,
        "error_response": {
            "error": "UNKNOWN_FAILURE_REASON",
            "message": "post only would cross",
            "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
            "new_order_failure_reason": "INVALID_LIMIT_PRICE_POST_ONLY",
        },
        "order_configuration": {},
    }
    rec = Recorder(scripted(ok(reply)))

    with pytest.raises(OrderRejected) as caught:
        run(rec, lambda c: c.create_order(limit_spec()), pem=ec_pem)

    assert caught.value.reason == "INVALID_LIMIT_PRICE_POST_ONLY"
    assert caught.value.message == "post only would cross"
    assert len(rec.requests) == 1


def test_create_when_only_unknown_reasons_then_outcome_unknown(ec_pem: str) -> None:
    """success=false with only UNKNOWN_* reasons is not a definite rejection (§2.3)."""
    reply = {"success": False, "error_response": {"error": "UNKNOWN_FAILURE_REASON"}}
    rec = Recorder(scripted(ok(reply)))

    with pytest.raises(OrderOutcomeUnknown) as caught:
        run(rec, lambda c: c.create_order(limit_spec("cid-9")), pem=ec_pem)

    assert caught.value.client_order_id == "cid-9"


def test_get_when_503_twice_then_200_then_retried_with_backoff_and_succeeds(ec_pem: str) -> None:
    """GETs are idempotent: two 503s are retried with jittered exponential backoff."""
    unavailable = httpx.Response(503, text="<html>busy</html>")
    rec = Recorder(scripted(unavailable, unavailable, ok({"order": ORDER})))
    policy = RetryPolicy(attempts=4, base_delay_s=0.25, max_delay_s=8.0)

    order = run(rec, lambda c: c.get_order("0000-000000-000001"), pem=ec_pem, retry=policy)

    assert order.client_order_id == "cid-1"
    assert len(rec.requests) == 3
    assert len(rec.sleeps) == 2
    assert 0.125 <= rec.sleeps[0] < 0.25  # 0.25 * 2**0 * [0.5, 1)
    assert 0.25 <= rec.sleeps[1] < 0.5  # 0.25 * 2**1 * [0.5, 1)
    assert rec.requests[0].url.path == "/api/v3/brokerage/orders/historical/0000-000000-000001"


def test_get_when_429_with_retry_after_then_waits_that_long(ec_pem: str) -> None:
    """Retry-After (seconds) is honoured exactly."""
    limited = httpx.Response(429, headers={"Retry-After": "3"}, text="<html>slow down</html>")
    perms_body = {
        "can_view": True,
        "can_trade": True,
        "can_transfer": False,
        "portfolio_uuid": "p-1",
        "portfolio_type": "DEFAULT",
    }
    rec = Recorder(scripted(limited, ok(perms_body)))

    perms = run(rec, lambda c: c.get_key_permissions(), pem=ec_pem)

    assert rec.sleeps == [3.0]
    assert (perms.can_trade, perms.can_transfer, perms.portfolio_uuid) == (True, False, "p-1")


def test_get_when_429_persists_then_rate_limited_after_all_attempts(ec_pem: str) -> None:
    """Without Retry-After the backoff applies; the last 429 is raised."""
    limited = httpx.Response(429, text="<html>Too Many Requests</html>")
    rec = Recorder(scripted(limited, limited))

    with pytest.raises(RateLimited) as caught:
        run(rec, lambda c: c.get_key_permissions(), pem=ec_pem, retry=RetryPolicy(attempts=2))

    assert caught.value.retry_after_s is None
    assert "Too Many Requests" in caught.value.message
    assert len(rec.requests) == 2


def test_get_when_timeouts_exhaust_attempts_then_transport_error(ec_pem: str) -> None:
    """Timeouts are retried `attempts` times in all, then surface as TransportError."""
    rec = Recorder(scripted(*(httpx.ReadTimeout("t") for _ in range(3))))

    with pytest.raises(TransportError, match="timed out"):
        run(rec, lambda c: c.list_accounts(), pem=ec_pem, retry=RetryPolicy(attempts=3))

    assert len(rec.requests) == 3


def test_status_400_when_venue_explains_then_bad_request_with_its_words(ec_pem: str) -> None:
    """400 carries the venue's error, message and error_details; never retried."""
    body = {
        "error": "INVALID_ARGUMENT",
        "code": 3,
        "message": "limit must be <= 350",
        "error_details": "limit too large",
    }
    rec = Recorder(scripted(httpx.Response(400, json=body)))

    with pytest.raises(BadRequest) as caught:
        run(rec, lambda c: c.list_fills(limit=10_000), pem=ec_pem)

    err = caught.value
    assert (err.status, err.error, err.message) == (400, "INVALID_ARGUMENT", "limit must be <= 350")
    assert err.error_details == "limit too large"
    assert len(rec.requests) == 1


def test_status_401_plain_text_then_resigned_once_then_auth_error(ec_pem: str) -> None:
    """401 is plain text `Unauthorized`; an idempotent call is re-signed and tried once more."""
    rec = Recorder(
        scripted(httpx.Response(401, text="Unauthorized"), httpx.Response(401, text="Unauthorized"))
    )

    with pytest.raises(AuthError) as caught:
        run(rec, lambda c: c.list_accounts(), pem=ec_pem)

    assert (caught.value.status, caught.value.message) == (401, "Unauthorized")
    assert len(rec.requests) == 2


def test_status_403_when_scope_missing_then_auth_error_not_retried(ec_pem: str) -> None:
    """403 JSON names the missing permission."""
    body = {
        "error": "PERMISSION_DENIED",
        "error_details": "Missing required scopes",
        "message": "Missing required scopes",
    }
    rec = Recorder(scripted(httpx.Response(403, json=body)))

    with pytest.raises(AuthError) as caught:
        run(rec, lambda c: c.get_transaction_summary(), pem=ec_pem)

    assert caught.value.error == "PERMISSION_DENIED"
    assert len(rec.requests) == 1


def test_status_404_then_not_found_with_message(ec_pem: str) -> None:
    """404 maps to NotFound."""
    body = {"error": "NOT_FOUND", "message": "order with this orderID was not found"}
    rec = Recorder(scripted(httpx.Response(404, json=body)))

    with pytest.raises(NotFound, match="orderID was not found"):
        run(rec, lambda c: c.get_order("nope"), pem=ec_pem)


def test_create_when_401_then_auth_error_and_not_resent(ec_pem: str) -> None:
    """Order POSTs are never retried, not even the re-signed 401 retry."""
    rec = Recorder(scripted(httpx.Response(401, text="Unauthorized")))

    with pytest.raises(AuthError):
        run(rec, lambda c: c.create_order(limit_spec()), pem=ec_pem)

    assert len(rec.requests) == 1


def test_edit_when_timeout_then_outcome_unknown_with_order_id(ec_pem: str) -> None:
    """An edit's fate after a timeout is unknown: look the order up by its id."""
    rec = Recorder(scripted(httpx.ReadTimeout("slow")))

    with pytest.raises(OrderOutcomeUnknown) as caught:
        run(rec, lambda c: c.edit_order("o-1", price=Decimal(1), size=Decimal(2)), pem=ec_pem)

    assert caught.value.order_id == "o-1"
    assert len(rec.requests) == 1


def test_cancel_when_150_ids_then_two_batches_and_a_503_is_retried(ec_pem: str) -> None:
    """Cancels chunk at 100 and are idempotent, so a 503 is retried."""
    ids = [f"o-{i}" for i in range(150)]

    def handle(request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)["order_ids"]
        return ok(
            {
                "results": [
                    {
                        "success": True,
                        "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                        "order_id": i,
                    }
                    for i in asked
                ]
            }
        )

    answers = iter([httpx.Response(503, text="busy")])
    rec = Recorder(lambda request: next(answers, None) or handle(request))

    results = run(rec, lambda c: c.cancel_orders(ids), pem=ec_pem)

    assert [r.order_id for r in results] == ids
    assert all(r.success for r in results)
    sizes = [len(json.loads(r.content)["order_ids"]) for r in rec.requests]
    assert sizes == [100, 100, 50]  # the first 100 twice: once 503, once answered


def test_list_orders_when_arrays_given_then_keys_repeat(ec_pem: str) -> None:
    """Arrays repeat the key in the query string (§2)."""
    rec = Recorder(scripted(ok({"orders": [ORDER], "has_next": False, "cursor": ""})))

    page = run(
        rec, lambda c: c.list_orders(product_ids=["BTC-USD", "ETH-USD"], limit=5), pem=ec_pem
    )

    query = rec.requests[0].url.params
    assert query.get_list("product_ids") == ["BTC-USD", "ETH-USD"]
    assert query["limit"] == "5"
    assert page.orders[0].order_configuration["limit_limit_gtc"].limit_price == "45000.00"


def test_find_by_client_id_when_on_second_page_then_follows_cursor(ec_pem: str) -> None:
    """No server filter by client id: pages are walked and matched locally."""
    other = dict(ORDER, client_order_id="someone-else", order_id="x")
    rec = Recorder(
        scripted(
            ok({"orders": [other], "has_next": True, "cursor": "page-2"}),
            ok({"orders": [other, ORDER], "has_next": False, "cursor": ""}),
        )
    )

    found = run(rec, lambda c: c.find_order_by_client_id("cid-1", product_id="BTC-USD"), pem=ec_pem)

    assert found is not None
    assert found.order_id == "0000-000000-000001"
    assert "cursor" not in rec.requests[0].url.params
    assert rec.requests[1].url.params["cursor"] == "page-2"
    assert rec.requests[1].url.params["product_ids"] == "BTC-USD"


def test_find_by_client_id_when_absent_then_none(ec_pem: str) -> None:
    """After the last page, no order: None (the create never happened)."""
    rec = Recorder(scripted(ok({"orders": [], "has_next": False, "cursor": ""})))

    assert run(rec, lambda c: c.find_order_by_client_id("cid-1"), pem=ec_pem) is None


def _serve_file(directory: Path, name: str) -> Recorder:
    return Recorder(lambda _: httpx.Response(200, content=(directory / name).read_bytes()))


def test_public_candles_when_called_keyless_then_no_auth_and_real_shape(
    advanced_trade: Path,
) -> None:
    """Market data needs no key: /market path, no Authorization, the recorded reply."""
    rec = _serve_file(advanced_trade, "candles.json")

    reply = run(
        rec,
        lambda c: c.get_candles(
            "BTC-USD", start_s=1712188800, end_s=1712192400, granularity=t.Granularity.ONE_HOUR
        ),
    )

    sent = rec.requests[0]
    assert sent.url.path == "/api/v3/brokerage/market/products/BTC-USD/candles"
    assert dict(sent.url.params) == {
        "start": "1712188800",
        "end": "1712192400",
        "granularity": "ONE_HOUR",
    }
    assert "authorization" not in sent.headers
    assert t.candles(reply)[0].open == Decimal("65984.18")


@pytest.mark.parametrize(
    ("name", "call", "path"),
    [
        ("product.json", lambda c: c.get_product("BTC-USD"), "/market/products/BTC-USD"),
        ("products.json", lambda c: c.list_products(product_type="SPOT"), "/market/products"),
        (
            "product_book.json",
            lambda c: c.get_product_book("BTC-USD", limit=5),
            "/market/product_book",
        ),
        (
            "ticker.json",
            lambda c: c.get_market_trades("BTC-USD", limit=3),
            "/market/products/BTC-USD/ticker",
        ),
    ],
)
def test_public_endpoints_when_serving_recorded_replies_then_decoded(
    advanced_trade: Path, name: str, call: Callable[[RestClient], Awaitable[Any]], path: str
) -> None:
    """Each public market-data method decodes the real response for its endpoint."""
    rec = _serve_file(advanced_trade, name)

    reply = run(rec, call)

    assert rec.requests[0].url.path == "/api/v3/brokerage" + path
    assert reply is not None


def test_get_when_body_has_wrong_type_then_schema_error_names_the_path() -> None:
    """A schema mismatch names the field path."""
    bad = {
        "candles": [
            {"start": 1712192400, "low": "1", "high": "1", "open": "1", "close": "1", "volume": "1"}
        ]
    }
    rec = Recorder(scripted(ok(bad)))

    with pytest.raises(SchemaError) as caught:
        run(
            rec,
            lambda c: c.get_candles(
                "BTC-USD", start_s=0, end_s=60, granularity=t.Granularity.ONE_MINUTE
            ),
        )

    assert caught.value.path == "$.candles[0].start"


def test_candles_when_window_over_350_buckets_then_value_error_before_sending() -> None:
    """The venue allows at most 350 buckets per window (§2.5)."""
    rec = Recorder(scripted())

    with pytest.raises(ValueError, match="350"):
        run(
            rec,
            lambda c: c.get_candles(
                "BTC-USD", start_s=0, end_s=351 * 60, granularity=t.Granularity.ONE_MINUTE
            ),
        )

    assert rec.requests == []


def test_private_call_when_client_has_no_key_then_refused_before_sending() -> None:
    """A keyless client (the agent's) cannot reach private endpoints."""
    rec = Recorder(scripted())

    with pytest.raises(RuntimeError, match="without a key"):
        run(rec, lambda c: c.list_accounts())

    assert rec.requests == []


def test_portfolio_breakdown_when_numbers_on_the_wire_then_exact_decimals(ec_pem: str) -> None:
    """Spot positions arrive as JSON numbers; they decode to exact Decimals."""
    body = (
        b'{"breakdown":{"portfolio":{"name":"Default","uuid":"p-1","type":"DEFAULT"},'
        b'"portfolio_balances":{"total_balance":{"value":"100.10","currency":"USD"}},'
        b'"spot_positions":[{"asset":"BTC","account_uuid":"a-1",'
        b'"total_balance_fiat":68.9236700000000001,"total_balance_crypto":0.001,'
        b'"is_cash":false}]}}'
    )
    rec = Recorder(scripted(httpx.Response(200, content=body)))

    breakdown = run(rec, lambda c: c.get_portfolio_breakdown("p-1"), pem=ec_pem)

    position = breakdown.spot_positions[0]
    assert position.total_balance_fiat == Decimal("68.9236700000000001")
    assert position.total_balance_crypto == Decimal("0.001")
    assert rec.requests[0].url.path == "/api/v3/brokerage/portfolios/p-1"
