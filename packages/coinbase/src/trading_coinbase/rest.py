"""A thin async REST client for Coinbase Advanced Trade (base path /api/v3/brokerage).

Endpoints (EXCHANGE_AND_LLM_APIS.md section in brackets):

    POST /orders                              create_order           [§2, §2.1-2.3]
    POST /orders/preview                      preview_order          [§2]
    POST /orders/batch_cancel                 cancel_orders          [§2, §2.4]
    POST /orders/edit                         edit_order             [§2, §2.1]
    GET  /orders/historical/batch             list_orders,
                                              find_order_by_client_id [§2, §2.2]
    GET  /orders/historical/{order_id}        get_order              [§2, §2.4]
    GET  /orders/historical/fills             list_fills             [§2]
    GET  /accounts                            list_accounts          [§2]
    GET  /accounts/{account_uuid}             get_account            [§2]
    GET  /portfolios/{portfolio_uuid}         get_portfolio_breakdown [§2]
    GET  /transaction_summary                 get_transaction_summary [§2]
    GET  /key_permissions                     get_key_permissions    [§2]
    GET  /best_bid_ask                        get_best_bid_ask       [§2]
    GET  /time                                get_server_time        [§1, §2] (no key)
    GET  /market/products                     list_products          [§2] (no key)
    GET  /market/products/{product_id}        get_product            [§2] (no key)
    GET  /market/product_book                 get_product_book       [§2] (no key)
    GET  /market/products/{id}/candles        get_candles            [§2, §2.5] (no key)
    GET  /market/products/{id}/ticker         get_market_trades      [§2] (no key)

Private calls carry a fresh JWT (`Authorization: Bearer`, §1) and draw from the
private token bucket (cancels from its reserve); public calls draw from the public one.

Retries (exponential backoff with jitter, injected rng and sleep) happen ONLY for
idempotent calls: GETs, preview and cancels. 429 waits `Retry-After` when sent; a 401
on an idempotent call is re-signed and retried once (valid JWTs intermittently get
401, §1). An order POST (create, edit) is never retried: a timeout, transport error,
5xx or unreadable reply raises `OrderOutcomeUnknown`, and the caller resolves it with
`find_order_by_client_id` (create) or `get_order` (edit) before anything else.
Every body is decoded with `schemas`; a mismatch is a `SchemaError` naming the path.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Final, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from trading_coinbase import schemas as w
from trading_coinbase.auth import Signer
from trading_coinbase.boundary import decode_json, error_for_status, http_errors
from trading_coinbase.errors import (
    AuthError,
    CoinbaseError,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    SchemaError,
    ServerError,
    TransportError,
)
from trading_coinbase.ratelimit import PRIVATE_LIMITS, PUBLIC_LIMITS, CallKind, RateLimiter
from trading_coinbase.translate import (
    MAX_CANDLES,
    Granularity,
    OrderSpec,
    create_failure,
    format_decimal,
    format_rfc3339,
    order_request,
    preview_request,
)

__all__ = ["API_PREFIX", "DEFAULT_BASE_URL", "MAX_CANCEL_BATCH", "RestClient", "RetryPolicy"]

DEFAULT_BASE_URL: Final = "https://api.coinbase.com"
API_PREFIX: Final = "/api/v3/brokerage"
MAX_CANCEL_BATCH: Final = 100
T = TypeVar("T")
# The query pairs httpx takes; values we send are always str.
Params = list[tuple[str, str | int | float | bool | None]]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How idempotent calls retry: `attempts` in all, delays base*2^n capped, jittered.

    The n-th retry (n from 0) waits `min(max_delay_s, base_delay_s * 2**n)` times a
    factor drawn uniformly from [0.5, 1.0), unless the venue said `Retry-After`.
    """

    attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"invalid retry policy {self!r}")

    def delay_s(self, retry_index: int, rng: random.Random) -> float:
        """The wait before retry number `retry_index` (0 = the first retry)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**retry_index)
        return ceiling * (0.5 + 0.5 * rng.random())


class _Call(NamedTuple):
    method: str
    path: str  # below API_PREFIX
    private: bool
    idempotent: bool
    params: Params | None = None
    body: bytes | None = None
    kind: CallKind = CallKind.ORDINARY


def _private_get(path: str, params: Params | None = None) -> _Call:
    return _Call("GET", path, private=True, idempotent=True, params=params)


def _public_get(path: str, params: Params | None = None) -> _Call:
    return _Call("GET", path, private=False, idempotent=True, params=params)


def _post(
    path: str, body: msgspec.Struct, *, idempotent: bool, kind: CallKind = CallKind.ORDINARY
) -> _Call:
    encoded = msgspec.json.encode(body)
    return _Call("POST", path, private=True, idempotent=idempotent, body=encoded, kind=kind)


def _segment(value: str) -> str:
    # Path parameters are quoted whole: an id can never add a path segment.
    return quote(value, safe="")


def _repeat(name: str, values: Sequence[str]) -> Params:
    # Arrays repeat the key: ?product_ids=BTC-USD&product_ids=ETH-USD (§2).
    return [(name, v) for v in values]


def _optional(**values: str | int | None) -> Params:
    return [(k, str(v)) for k, v in values.items() if v is not None]


class RestClient:
    """The Advanced Trade REST API; keyless unless a `Signer` is given (the gate's)."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        signer: Signer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        private_limiter: RateLimiter | None = None,
        public_limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=timeout_s, follow_redirects=False
        )
        self._host = httpx.URL(base_url).netloc.decode("ascii")
        self._signer = signer
        self._retry = retry or RetryPolicy()
        self._private = private_limiter or RateLimiter(PRIVATE_LIMITS, sleep=sleep)
        self._public = public_limiter or RateLimiter(PUBLIC_LIMITS, sleep=sleep)
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._sleep = sleep

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def __aenter__(self) -> "RestClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ orders

    async def create_order(self, spec: OrderSpec) -> w.CreateOrderSuccess:
        """Place `spec` (sent exactly once, never retried).

        Raises:
            OrderRejected: success=false with a definitive reason: no order exists.
            OrderOutcomeUnknown: timeout, transport error, 5xx, unreadable reply, or an
                indefinite failure (COMMANDER_REJECTED_NEW_ORDER, DUPLICATE_CLIENT_ORDER_ID,
                only UNKNOWN_* reasons): look it up with `find_order_by_client_id`.
            BadRequest, AuthError, RateLimited: refused before it was processed.
        """
        cid = spec.client_order_id
        call = _post("/orders", order_request(spec), idempotent=False)
        try:
            reply = decode_json(await self._send(call), w.CreateOrderResponse, what="create order")
        except (TransportError, ServerError, SchemaError) as exc:
            raise OrderOutcomeUnknown(type(exc).__name__, client_order_id=cid) from exc
        if reply.success and reply.success_response is not None:
            return reply.success_response
        if reply.success:
            raise OrderOutcomeUnknown("success without success_response", client_order_id=cid)
        failure = create_failure(reply)
        if failure.definitive:
            raise OrderRejected(cid, failure.reason, failure.message)
        raise OrderOutcomeUnknown(failure.reason, client_order_id=cid)

    async def preview_order(self, spec: OrderSpec) -> w.PreviewOrderResponse:
        """What `spec` would cost and whether it would be accepted (no order placed)."""
        # A preview places nothing, so it may be retried like a GET.
        call = _post("/orders/preview", preview_request(spec), idempotent=True)
        return await self._call(call, w.PreviewOrderResponse, "preview order")

    async def cancel_orders(self, order_ids: Sequence[str]) -> tuple[w.CancelResult, ...]:
        """Cancel `order_ids` in chunks of 100; each result says success or why not.

        Cancels are idempotent, so each chunk is retried; they draw on the reserve.
        """
        results: list[w.CancelResult] = []
        for start in range(0, len(order_ids), MAX_CANCEL_BATCH):
            chunk = tuple(order_ids[start : start + MAX_CANCEL_BATCH])
            request = w.BatchCancelRequest(order_ids=chunk)
            call = _post("/orders/batch_cancel", request, idempotent=True, kind=CallKind.CANCEL)
            reply = await self._call(call, w.BatchCancelResponse, "batch cancel")
            results.extend(reply.results)
        return tuple(results)

    async def edit_order(
        self, order_id: str, *, price: Decimal, size: Decimal
    ) -> w.EditOrderResponse:
        """Edit a GTC order's price and size (both required); branch on `success`.

        Raises:
            OrderOutcomeUnknown: timeout, transport error, 5xx or unreadable reply:
                look the order up with `get_order`.
        """
        edit = w.EditOrderRequest(
            order_id=order_id, price=format_decimal(price), size=format_decimal(size)
        )
        call = _post("/orders/edit", edit, idempotent=False)
        try:
            return decode_json(await self._send(call), w.EditOrderResponse, what="edit order")
        except (TransportError, ServerError, SchemaError) as exc:
            raise OrderOutcomeUnknown(type(exc).__name__, order_id=order_id) from exc

    async def get_order(self, order_id: str) -> w.Order:
        """One order by venue id. Raises NotFound if there is none."""
        call = _private_get(f"/orders/historical/{_segment(order_id)}")
        return (await self._call(call, w.GetOrderResponse, "get order")).order

    async def list_orders(
        self,
        *,
        product_ids: Sequence[str] = (),
        order_ids: Sequence[str] = (),
        order_status: Sequence[str] = (),
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> w.ListOrdersResponse:
        """One page of orders; pass the reply's `cursor` while `has_next`."""
        params = (
            _repeat("product_ids", product_ids)
            + _repeat("order_ids", order_ids)
            + _repeat("order_status", order_status)
            + _optional(
                start_date=None if start_ns is None else format_rfc3339(start_ns),
                end_date=None if end_ns is None else format_rfc3339(end_ns),
                limit=limit,
                cursor=cursor,
            )
        )
        call = _private_get("/orders/historical/batch", params)
        return await self._call(call, w.ListOrdersResponse, "list orders")

    async def find_order_by_client_id(
        self,
        client_order_id: str,
        *,
        product_id: str | None = None,
        start_ns: int | None = None,
        max_pages: int = 20,
    ) -> w.Order | None:
        """The order placed with `client_order_id`, or None if none is listed.

        The venue has no server-side filter by client order id (§2.2 ⚠), so this pages
        through `list_orders` (narrowed by product and start time when given, every
        status) and matches locally; None after `max_pages` pages or the last page.
        """
        products = () if product_id is None else (product_id,)
        cursor: str | None = None
        for _ in range(max_pages):
            page = await self.list_orders(product_ids=products, start_ns=start_ns, cursor=cursor)
            found = next((o for o in page.orders if o.client_order_id == client_order_id), None)
            if found is not None:
                return found
            if not page.has_next or not page.cursor:
                return None
            cursor = page.cursor
        return None

    async def list_fills(
        self,
        *,
        order_ids: Sequence[str] = (),
        product_ids: Sequence[str] = (),
        limit: int | None = None,
        cursor: str | None = None,
    ) -> w.ListFillsResponse:
        """One page of fills (the only source of per-fill trade ids)."""
        params = (
            _repeat("order_ids", order_ids)
            + _repeat("product_ids", product_ids)
            + _optional(limit=limit, cursor=cursor)
        )
        call = _private_get("/orders/historical/fills", params)
        return await self._call(call, w.ListFillsResponse, "list fills")

    # ------------------------------------------------------------ account

    async def list_accounts(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> w.ListAccountsResponse:
        """One page of the key's portfolio accounts."""
        call = _private_get("/accounts", _optional(limit=limit, cursor=cursor))
        return await self._call(call, w.ListAccountsResponse, "list accounts")

    async def get_account(self, account_uuid: str) -> w.Account:
        """One account by uuid."""
        call = _private_get(f"/accounts/{_segment(account_uuid)}")
        return (await self._call(call, w.GetAccountResponse, "get account")).account

    async def get_portfolio_breakdown(self, portfolio_uuid: str) -> w.PortfolioBreakdown:
        """A portfolio's balances and spot positions."""
        call = _private_get(f"/portfolios/{_segment(portfolio_uuid)}")
        reply = await self._call(call, w.PortfolioBreakdownResponse, "portfolio breakdown")
        return reply.breakdown

    async def get_transaction_summary(
        self, *, product_type: str | None = None
    ) -> w.TransactionSummary:
        """Volume, fees and the key's fee tier."""
        params = _optional(product_type=product_type)
        call = _private_get("/transaction_summary", params)
        return await self._call(call, w.TransactionSummary, "transaction summary")

    async def get_key_permissions(self) -> w.KeyPermissions:
        """What the key may do and which portfolio it acts on."""
        call = _private_get("/key_permissions")
        return await self._call(call, w.KeyPermissions, "key permissions")

    async def get_best_bid_ask(self, product_ids: Sequence[str]) -> w.BestBidAskResponse:
        """Top of book for each product (private endpoint)."""
        call = _private_get("/best_bid_ask", _repeat("product_ids", product_ids))
        return await self._call(call, w.BestBidAskResponse, "best bid/ask")

    # ------------------------------------------------------------ public market data

    async def get_server_time(self) -> w.ServerTime:
        """The venue's clock, to compare with ours at startup (§1)."""
        return await self._call(_public_get("/time"), w.ServerTime, "server time")

    async def list_products(
        self,
        *,
        product_type: str | None = None,
        product_ids: Sequence[str] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> w.ListProductsResponse:
        """Public product list (SPOT or FUTURE), paged by limit/offset."""
        params = _repeat("product_ids", product_ids) + _optional(
            product_type=product_type, limit=limit, offset=offset
        )
        call = _public_get("/market/products", params)
        return await self._call(call, w.ListProductsResponse, "list products")

    async def get_product(self, product_id: str) -> w.Product:
        """One public product."""
        call = _public_get(f"/market/products/{_segment(product_id)}")
        return await self._call(call, w.Product, "get product")

    async def get_product_book(
        self, product_id: str, *, limit: int | None = None
    ) -> w.ProductBookResponse:
        """The public book of one product."""
        params: Params = [("product_id", product_id), *_optional(limit=limit)]
        call = _public_get("/market/product_book", params)
        return await self._call(call, w.ProductBookResponse, "product book")

    async def get_candles(
        self, product_id: str, *, start_s: int, end_s: int, granularity: Granularity
    ) -> w.CandlesResponse:
        """Candles in [start_s, end_s] (epoch seconds), newest first as the venue sends.

        Raises:
            ValueError: the window spans more than 350 buckets (§2.5).
        """
        buckets = (end_s - start_s) // granularity.seconds
        if end_s < start_s or buckets > MAX_CANDLES:
            raise ValueError(f"a candle window must span 0..{MAX_CANDLES} buckets, got {buckets}")
        params: Params = [
            ("start", str(start_s)),
            ("end", str(end_s)),
            ("granularity", granularity.value),
        ]
        path = f"/market/products/{_segment(product_id)}/candles"
        return await self._call(_public_get(path, params), w.CandlesResponse, "candles")

    async def get_market_trades(self, product_id: str, *, limit: int = 100) -> w.TickerResponse:
        """Recent public trades and the top of book."""
        path = f"/market/products/{_segment(product_id)}/ticker"
        params: Params = [("limit", str(limit))]
        call = _public_get(path, params)
        return await self._call(call, w.TickerResponse, "market trades")

    # ------------------------------------------------------------ plumbing

    async def _call(self, call: _Call, type_: type[T], what: str) -> T:
        return decode_json(await self._send(call), type_, what=what)

    async def _send(self, call: _Call) -> bytes:
        retries = 0
        resigned = False
        while True:
            try:
                return await self._attempt(call)
            except AuthError as exc:
                if exc.status != 401 or not call.idempotent or resigned:
                    raise
                resigned = True
            except (TransportError, ServerError, RateLimited) as exc:
                if not call.idempotent or retries + 1 >= self._retry.attempts:
                    raise
                await self._sleep(self._delay_s(exc, retries))
                retries += 1

    def _delay_s(self, exc: CoinbaseError, retries: int) -> float:
        if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
            return exc.retry_after_s
        return self._retry.delay_s(retries, self._rng)

    async def _attempt(self, call: _Call) -> bytes:
        path = API_PREFIX + call.path
        headers = {"Accept": "application/json"}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.private:
            await self._private.acquire(call.kind)
            headers["Authorization"] = "Bearer " + self._jwt(call.method, path)
        else:
            await self._public.acquire(call.kind)
        with http_errors(call.method, path):
            response = await self._client.request(
                call.method, path, params=call.params, content=call.body, headers=headers
            )
        if response.is_success:
            return response.content
        raise error_for_status(
            response.status_code, response.content, response.headers, method=call.method, path=path
        )

    def _jwt(self, method: str, path: str) -> str:
        if self._signer is None:
            raise RuntimeError(f"{method} {path} is private: this client was built without a key")
        return self._signer.rest_jwt(method, self._host, path)
