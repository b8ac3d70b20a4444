"""Every REST endpoint the venue serves answers in the schema the client decodes.

The table below pairs each (method, path) with the `trading_coinbase.schemas` type its
`RestClient` method decodes, and a request to make. The test fails if the venue
serves a route the table lacks (or the reverse), if a reply does not decode, or if a
reply carries anything the schema does not know (decode then re-encode must give the
same JSON back).
"""

import asyncio
import json
from typing import Any, NamedTuple

import httpx
import msgspec

from trading_coinbase import OrderKind, OrderSpec, Side, TimeInForce
from trading_coinbase import schemas as w
from trading_coinbase import translate as t
from trading_sim.venue import API_PREFIX, ENDPOINTS, VenueSettings
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness
from trading_sim.venue.wire import account_uuid, encode

D = t.parse_decimal


class Call(NamedTuple):
    schema: type
    path: str  # with {order_id}, {account_uuid}, {portfolio_uuid} filled from the setup
    params: dict[str, Any] | None = None
    body: Any = None


SPEC = OrderSpec(
    client_order_id="route-2",
    product_id="BTC-USD",
    side=Side.BUY,
    kind=OrderKind.LIMIT,
    tif=TimeInForce.GOOD_UNTIL_CANCELLED,
    base_size=D("0.1", "$"),
    limit_price=D("90", "$"),
)
CANDLES = {"start": "1700000040", "end": "1700002000", "granularity": "ONE_MINUTE"}

# (method, path) -> the schema its RestClient method decodes, and a request.
TABLE: dict[tuple[str, str], Call] = {
    ("POST", "/orders"): Call(w.CreateOrderResponse, "/orders", body=t.order_request(SPEC)),
    ("POST", "/orders/preview"): Call(
        w.PreviewOrderResponse, "/orders/preview", body=t.preview_request(SPEC)
    ),
    ("POST", "/orders/batch_cancel"): Call(
        w.BatchCancelResponse,
        "/orders/batch_cancel",
        body=w.BatchCancelRequest(order_ids=("{order_id}", "unknown")),
    ),
    ("POST", "/orders/edit"): Call(
        w.EditOrderResponse,
        "/orders/edit",
        body=w.EditOrderRequest(order_id="{order_id}", price="80", size="0.2"),
    ),
    ("GET", "/orders/historical/batch"): Call(w.ListOrdersResponse, "/orders/historical/batch"),
    ("GET", "/orders/historical/fills"): Call(w.ListFillsResponse, "/orders/historical/fills"),
    ("GET", "/orders/historical/{order_id}"): Call(
        w.GetOrderResponse, "/orders/historical/{order_id}"
    ),
    ("GET", "/accounts"): Call(w.ListAccountsResponse, "/accounts"),
    ("GET", "/accounts/{account_uuid}"): Call(w.GetAccountResponse, "/accounts/{account_uuid}"),
    ("GET", "/portfolios/{portfolio_uuid}"): Call(
        w.PortfolioBreakdownResponse, "/portfolios/{portfolio_uuid}"
    ),
    ("GET", "/transaction_summary"): Call(w.TransactionSummary, "/transaction_summary"),
    ("GET", "/key_permissions"): Call(w.KeyPermissions, "/key_permissions"),
    ("GET", "/products"): Call(w.ListProductsResponse, "/products"),
    ("GET", "/products/{product_id}"): Call(w.Product, "/products/BTC-USD"),
    ("GET", "/products/{product_id}/candles"): Call(
        w.CandlesResponse, "/products/BTC-USD/candles", CANDLES
    ),
    ("GET", "/products/{product_id}/ticker"): Call(
        w.TickerResponse, "/products/BTC-USD/ticker", {"limit": "5"}
    ),
    ("GET", "/product_book"): Call(
        w.ProductBookResponse, "/product_book", {"product_id": "BTC-USD"}
    ),
    ("GET", "/best_bid_ask"): Call(
        w.BestBidAskResponse, "/best_bid_ask", {"product_ids": "BTC-USD"}
    ),
    ("GET", "/time"): Call(w.ServerTime, "/time"),
    ("GET", "/market/products"): Call(w.ListProductsResponse, "/market/products"),
    ("GET", "/market/products/{product_id}"): Call(w.Product, "/market/products/BTC-USD"),
    ("GET", "/market/products/{product_id}/candles"): Call(
        w.CandlesResponse, "/market/products/BTC-USD/candles", CANDLES
    ),
    ("GET", "/market/products/{product_id}/ticker"): Call(
        w.TickerResponse, "/market/products/BTC-USD/ticker", {"limit": "5"}
    ),
    ("GET", "/market/product_book"): Call(
        w.ProductBookResponse, "/market/product_book", {"product_id": "BTC-USD"}
    ),
}


def test_table_when_compared_with_the_venue_then_the_same_routes() -> None:
    """A route added to the venue without a schema check here fails this test."""
    assert {(e.method, e.path) for e in ENDPOINTS} == set(TABLE)


def _fill(text: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        text = text.replace("{" + name + "}", value)
    return text


async def _request(
    h: Harness, raw: httpx.AsyncClient, method: str, call: Call, ids: dict[str, str]
) -> httpx.Response:
    path = API_PREFIX + _fill(call.path, ids)
    private = not (call.path == "/time" or call.path.startswith("/market/"))
    headers = {}
    if private:
        host = f"127.0.0.1:{h.venue.port}"
        headers["Authorization"] = "Bearer " + h.signer().rest_jwt(method, host, path)
    content = None if call.body is None else _fill(encode(call.body).decode(), ids)
    return await raw.request(method, path, params=call.params, content=content, headers=headers)


def test_every_route_when_called_then_the_reply_is_exactly_its_client_schema(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """Each reply decodes as its schema and re-encodes to the very same JSON."""

    async def go() -> None:
        settings = VenueSettings(key_name=KEY_NAME, history_bars=5)
        async with harness(series, settings=settings, key_pair=key_pair) as h:
            async with h.rest() as client:
                await client.create_order(
                    msgspec.structs.replace(
                        SPEC,
                        client_order_id="route-1",
                        kind=OrderKind.MARKET,
                        tif=TimeInForce.IMMEDIATE_OR_CANCEL,
                        limit_price=None,
                    )
                )
                resting = await client.create_order(
                    msgspec.structs.replace(SPEC, client_order_id="route-0")
                )
            portfolio = h.exchange.settings.portfolio_uuid
            ids = {
                "order_id": resting.order_id,
                "portfolio_uuid": portfolio,
                "account_uuid": account_uuid(portfolio, "USD"),
            }
            async with httpx.AsyncClient(base_url=h.venue.base_url) as raw:
                for (method, _), call in TABLE.items():
                    reply = await _request(h, raw, method, call, ids)
                    assert reply.status_code == 200, (call.path, reply.text)
                    decoded = msgspec.json.decode(reply.content, type=call.schema)
                    assert json.loads(encode(decoded)) == reply.json(), call.path

    asyncio.run(go())


BAD = w.BatchCancelRequest(order_ids=("a",))
ERRORS = [
    ("GET", Call(w.GetOrderResponse, "/orders/historical/nope"), 404),
    ("GET", Call(w.Product, "/market/products/DOGE-USD"), 404),
    ("GET", Call(w.Product, "/no/such/route"), 404),
    ("GET", Call(w.ListOrdersResponse, "/orders/historical/batch", {"limit": "x"}), 400),
    ("GET", Call(w.ListOrdersResponse, "/orders/historical/batch", {"order_status": "X"}), 400),
    ("POST", Call(w.CreateOrderResponse, "/orders", body=BAD), 400),
    ("GET", Call(w.CandlesResponse, "/market/products/BTC-USD/candles", {"start": "1"}), 400),
]


def test_errors_when_not_found_or_bad_then_coinbase_error_bodies(
    series: dict[str, Any], key_pair: KeyPair
) -> None:
    """404 for unknown orders, products and routes, 400 for bad input, all as ErrorBody."""

    async def go() -> None:
        settings = VenueSettings(key_name=KEY_NAME)
        async with (
            harness(series, settings=settings, key_pair=key_pair) as h,
            httpx.AsyncClient(base_url=h.venue.base_url) as raw,
        ):
            for method, call, status in ERRORS:
                reply = await _request(h, raw, method, call, {})
                body = msgspec.json.decode(reply.content, type=w.ErrorBody)
                want = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
                assert (reply.status_code, body.error) == (status, want), call.path
                assert body.message

    asyncio.run(go())
