"""Market data endpoints (§2, §2.5), private and public (`/market/...`) alike.

Prices come from the replay: the book is one level a side at the engine's touch
(the last close plus or minus half the spread), sized by what the engine would fill
this bar; candles and trades are the replayed bars, NEVER one past the replay's
current bar. Candles keep the recorded timeline (see `market`); a granularity coarser
than the data is aggregated (the forming bucket included, §2.5), a finer one is a 400.
"""

from decimal import Decimal
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from trading_coinbase import schemas as w
from trading_coinbase.translate import MAX_CANDLES, Granularity, format_rfc3339
from trading_sim.matching.config import ProductSpec
from trading_sim.venue import wire
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.market import aggregate
from trading_sim.venue.rest import ApiError, json_response, query_int, query_list, query_one

__all__ = [
    "best_bid_ask",
    "get_candles",
    "get_product",
    "get_product_book",
    "get_ticker",
    "list_products",
]

_NS_PER_S: Final = 1_000_000_000
_GRANULARITIES: Final = {g.value: g.seconds for g in Granularity}
_MAX_TRADES: Final = 1000
_BPS: Final = Decimal("1e-8")


def _spec(exchange: Exchange, product_id: str) -> ProductSpec:
    spec = exchange.spec(product_id)
    if spec is None:
        raise ApiError(404, f"product {product_id} not found")
    return spec


def _product(exchange: Exchange, spec: ProductSpec) -> w.Product:
    return wire.product(spec, exchange.replay.day(spec.product_id, exchange.index))


async def list_products(exchange: Exchange, request: Request) -> Response:
    """GET /products: spot only (a FUTURE filter lists none), paged by limit/offset."""
    wanted = set(query_list(request, "product_ids"))
    kind = (query_one(request, "product_type") or "SPOT").upper()
    specs = [
        s
        for s in exchange.state.config.products
        if kind == "SPOT" and (not wanted or s.product_id in wanted)
    ]
    offset = query_int(request, "offset", default=0, low=0, high=10**6)
    limit = query_int(request, "limit", default=len(specs) or 1, low=1, high=10**6)
    page = specs[offset : offset + limit]
    return json_response(
        w.ListProductsResponse(
            products=tuple(_product(exchange, s) for s in page), num_products=len(specs)
        )
    )


async def get_product(exchange: Exchange, request: Request) -> Response:
    """GET /products/{product_id}."""
    return json_response(_product(exchange, _spec(exchange, request.path_params["product_id"])))


def _book(exchange: Exchange, product_id: str) -> w.PriceBook:
    touch = exchange.touch(product_id)
    now_ns = exchange.now_ns()
    if touch is None:
        return w.PriceBook(product_id=product_id, time=format_rfc3339(now_ns))
    return wire.pricebook(product_id, touch.bid, touch.ask, touch.size, now_ns)


async def get_product_book(exchange: Exchange, request: Request) -> Response:
    """GET /product_book?product_id=...: the touch, its mid, spread and last price."""
    product_id = query_one(request, "product_id")
    if not product_id:
        raise ApiError(400, "product_id is required")
    _spec(exchange, product_id)
    query_int(request, "limit", default=1, low=0, high=10**6)
    touch = exchange.touch(product_id)
    bar = exchange.last_bar(product_id)
    if touch is None or bar is None:
        return json_response(w.ProductBookResponse(pricebook=_book(exchange, product_id)))
    mid = (touch.bid + touch.ask) / 2
    return json_response(
        w.ProductBookResponse(
            pricebook=_book(exchange, product_id),
            last=wire.plain(bar.close),
            mid_market=wire.plain(mid),
            spread_bps=wire.plain(((touch.ask - touch.bid) / mid * 10_000).quantize(_BPS)),
            spread_absolute=wire.plain(touch.ask - touch.bid),
        )
    )


async def best_bid_ask(exchange: Exchange, request: Request) -> Response:
    """GET /best_bid_ask?product_ids=...: every listed product when none is named."""
    wanted = query_list(request, "product_ids") or [
        s.product_id for s in exchange.state.config.products
    ]
    for product_id in wanted:
        _spec(exchange, product_id)
    books = tuple(_book(exchange, p) for p in wanted)
    return json_response(w.BestBidAskResponse(pricebooks=books))


def _required_int(request: Request, name: str) -> int:
    text = query_one(request, name)
    if text is None or not text.isdigit():
        raise ApiError(400, f"{name} is required, in unix seconds; got {text!r}")
    return int(text)


def _granularity(exchange: Exchange, request: Request, product_id: str) -> int:
    name = query_one(request, "granularity") or ""
    seconds = _GRANULARITIES.get(name)
    if seconds is None:
        raise ApiError(400, f"granularity must be one of {sorted(_GRANULARITIES)}, got {name!r}")
    data_s = exchange.replay.granularity_s(product_id)
    if seconds % data_s:
        raise ApiError(
            400, f"granularity {name} is finer than (or not a multiple of) the replayed {data_s} s"
        )
    return seconds


async def get_candles(exchange: Exchange, request: Request) -> Response:
    """GET /products/{id}/candles: buckets starting in [start, end], newest first."""
    product_id = request.path_params["product_id"]
    _spec(exchange, product_id)
    granularity = _granularity(exchange, request, product_id)
    start, end = _required_int(request, "start"), _required_int(request, "end")
    if end < start or (end - start) // granularity > MAX_CANDLES:
        raise ApiError(400, f"start..end must span 0..{MAX_CANDLES} buckets of {granularity} s")
    limit = query_int(request, "limit", default=MAX_CANDLES, low=1, high=MAX_CANDLES)
    first = -(-start // granularity) * granularity
    last_bucket = end // granularity * granularity
    bars = exchange.replay.visible(
        product_id,
        exchange.index,
        first * _NS_PER_S,
        (last_bucket + granularity) * _NS_PER_S - 1,
    )
    buckets = aggregate(bars, granularity)
    rows = tuple(wire.candle(b) for b in reversed(buckets))[:limit]
    return json_response(w.CandlesResponse(candles=rows))


async def get_ticker(exchange: Exchange, request: Request) -> Response:
    """GET /products/{id}/ticker: the replayed bars' trades, newest first, and the touch."""
    product_id = request.path_params["product_id"]
    _spec(exchange, product_id)
    limit = query_int(request, "limit", default=100, low=1, high=_MAX_TRADES)
    bars = exchange.replay.recent(product_id, exchange.index, limit)
    first_index = exchange.index - len(bars) + 1
    trades = tuple(
        wire.market_trade(bar, first_index + i) for i, bar in enumerate(bars) if bar.volume > 0
    )[::-1]
    touch = exchange.touch(product_id)
    return json_response(
        w.TickerResponse(
            trades=trades,
            best_bid="" if touch is None else wire.plain(touch.bid),
            best_ask="" if touch is None else wire.plain(touch.ask),
        )
    )
