"""Order endpoints (§2.1-2.4): create, preview, batch cancel, edit, get, list, fills.

Create is idempotent on `client_order_id` (§2.2): a reused id places nothing and gets
the ORIGINAL order's success reply (or, with the `duplicate_client_order_id` fault set
to "error", success=false DUPLICATE_CLIENT_ORDER_ID, the other behaviour the docs
mention). Business refusals are HTTP 200 with success=false (§2.3); only a body no
order can be built from is a 400. The `drop_create_responses` fault loses the reply
AFTER the order is placed, so the client cannot know and must look it up.

Lists are newest first; a cursor is the creation (or fill) sequence number of the last
item sent, so a page is stable while new orders arrive.
"""

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Final, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from trading_coinbase import schemas as w
from trading_coinbase.errors import InvalidOrderSpec, SchemaError
from trading_coinbase.translate import parse_decimal, parse_rfc3339_ns
from trading_sim.venue import wire
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.rest import (
    ApiError,
    decode_body,
    json_response,
    query_int,
    query_list,
    query_one,
)
from trading_sim.venue.state import VenueFill, VenueOrder, echo_configuration

__all__ = [
    "batch_cancel",
    "create_order",
    "edit_order",
    "get_order",
    "list_fills",
    "list_orders",
    "preview_order",
]

T = TypeVar("T")
MAX_CANCEL_IDS: Final = 100
MAX_PAGE: Final = 1000
DEFAULT_PAGE: Final = 100
_STATUSES: Final = frozenset(
    {"PENDING", "OPEN", "FILLED", "CANCELLED", "EXPIRED", "FAILED", "QUEUED", "CANCEL_QUEUED"}
    | {"EDIT_QUEUED", "UNKNOWN_ORDER_STATUS"}
)
_GATEWAY_TIMEOUT: Final = (
    "<html><head><title>504 Gateway Time-out</title></head>"
    "<body><h1>504 Gateway Time-out</h1></body></html>"
)


def _require_trade(exchange: Exchange) -> None:
    if not exchange.faults.current.can_trade:
        raise ApiError(403, "Missing required scopes", details="the key may not trade")


async def create_order(exchange: Exchange, request: Request) -> Response:
    """POST /orders."""
    _require_trade(exchange)
    body = await decode_body(request, w.CreateOrderRequest)
    duplicate_is_error = exchange.faults.current.duplicate_client_order_id == "error"
    try:
        outcome = exchange.state.create(
            body, exchange.now_ns(), duplicate_is_error=duplicate_is_error
        )
    except (SchemaError, InvalidOrderSpec) as exc:
        raise ApiError(400, f"invalid order: {exc}") from None
    exchange.publish_orders(outcome.updates)
    if outcome.order is None or outcome.reason:
        return json_response(_refusal(outcome.reason, body))
    reply = w.CreateOrderResponse(
        success=True,
        success_response=w.CreateOrderSuccess(
            order_id=outcome.order.order_id,
            product_id=outcome.order.product_id,
            side=wire.side(outcome.order.side),
            client_order_id=outcome.order.client_order_id,
        ),
        order_configuration=outcome.order.configuration,
    )
    if not outcome.duplicate and exchange.faults.take_drop_create():
        return await _lost(exchange, reply)
    return json_response(reply)


def _refusal(reason: str, body: w.CreateOrderRequest) -> w.CreateOrderResponse:
    return w.CreateOrderResponse(
        success=False,
        error_response=w.CreateOrderError(
            error="UNKNOWN_FAILURE_REASON",
            message=reason,
            error_details=reason,
            preview_failure_reason="UNKNOWN_PREVIEW_FAILURE_REASON",
            new_order_failure_reason=reason,
        ),
        order_configuration=echo_configuration(body.order_configuration),
    )


async def _lost(exchange: Exchange, reply: w.CreateOrderResponse) -> Response:
    """The order exists, but its reply is lost: a gateway 504, or a reply too late."""
    faults = exchange.faults.current
    if faults.drop_mode == "stall":
        await asyncio.sleep(faults.stall_s)
        return json_response(reply)
    return Response(_GATEWAY_TIMEOUT, status_code=504, media_type="text/html")


async def preview_order(exchange: Exchange, request: Request) -> Response:
    """POST /orders/preview: what the order would do now; places nothing."""
    body = await decode_body(request, w.PreviewOrderRequest)
    try:
        outcome = exchange.state.preview(body, exchange.now_ns())
    except (SchemaError, InvalidOrderSpec) as exc:
        raise ApiError(400, f"invalid order: {exc}") from None
    buy = body.side == "BUY"
    total = outcome.notional + outcome.commission if buy else outcome.notional - outcome.commission
    touch = exchange.touch(body.product_id)
    return json_response(
        w.PreviewOrderResponse(
            order_total=wire.plain(total),
            commission_total=wire.plain(outcome.commission),
            errs=(f"PREVIEW_{outcome.reason}",) if outcome.reason else (),
            quote_size=wire.plain(outcome.notional),
            base_size=wire.plain(outcome.base_size),
            best_bid="" if touch is None else wire.plain(touch.bid),
            best_ask="" if touch is None else wire.plain(touch.ask),
            slippage="0",
            preview_id=exchange.state.new_id(),
        )
    )


async def batch_cancel(exchange: Exchange, request: Request) -> Response:
    """POST /orders/batch_cancel: a result per id, in order."""
    _require_trade(exchange)
    body = await decode_body(request, w.BatchCancelRequest)
    if not 0 < len(body.order_ids) <= MAX_CANCEL_IDS:
        raise ApiError(400, f"order_ids must hold 1..{MAX_CANCEL_IDS} ids")
    results, updates = exchange.state.cancel(body.order_ids, exchange.now_ns())
    exchange.publish_orders(updates)
    return json_response(
        w.BatchCancelResponse(
            results=tuple(
                w.CancelResult(
                    success=r.success, failure_reason=r.failure_reason, order_id=r.order_id
                )
                for r in results
            )
        )
    )


def _decimal(text: str, field: str) -> Decimal:
    try:
        return parse_decimal(text, field)
    except SchemaError as exc:
        raise ApiError(400, str(exc)) from None


async def edit_order(exchange: Exchange, request: Request) -> Response:
    """POST /orders/edit: GTC limit or stop-limit, new price and total size."""
    _require_trade(exchange)
    body = await decode_body(request, w.EditOrderRequest)
    price, size = _decimal(body.price, "$.price"), _decimal(body.size, "$.size")
    reason, updates = exchange.state.edit(body.order_id, price, size, exchange.now_ns())
    exchange.publish_orders(updates)
    errors = (
        (
            w.EditOrderError(
                edit_failure_reason=reason, preview_failure_reason="UNKNOWN_PREVIEW_FAILURE_REASON"
            ),
        )
        if reason
        else ()
    )
    return json_response(w.EditOrderResponse(success=not reason, errors=errors))


async def get_order(exchange: Exchange, request: Request) -> Response:
    """GET /orders/historical/{order_id}."""
    order_id = request.path_params["order_id"]
    order = exchange.state.order(order_id)
    if order is None:
        raise ApiError(404, f"order {order_id} not found")
    return json_response(w.GetOrderResponse(order=wire.order(order, exchange.state.hold(order))))


def _time_bound(request: Request, name: str) -> int | None:
    text = query_one(request, name)
    if not text:
        return None
    try:
        return parse_rfc3339_ns(text, name)
    except SchemaError as exc:
        raise ApiError(400, str(exc)) from None


def _within(ns: int, start: int | None, end: int | None) -> bool:
    return (start is None or ns >= start) and (end is None or ns <= end)


def _order_filter(request: Request) -> Callable[[VenueOrder], bool]:
    ids = set(query_list(request, "order_ids"))
    products = set(query_list(request, "product_ids")) | set(query_list(request, "product_id"))
    statuses = {s.upper() for s in query_list(request, "order_status")}
    if statuses - _STATUSES:
        raise ApiError(400, f"unknown order_status {sorted(statuses - _STATUSES)}")
    types = {s.upper() for s in query_list(request, "order_types")}
    sides = {s.upper() for s in query_list(request, "order_side")}
    start, end = _time_bound(request, "start_date"), _time_bound(request, "end_date")

    def keep(o: VenueOrder) -> bool:
        view = wire.order(o, Decimal(0))
        return (
            (not ids or o.order_id in ids)
            and (not products or o.product_id in products)
            and (not statuses or view.status in statuses)
            and (not types or view.order_type in types)
            and (not sides or view.side in sides)
            and _within(o.created_ns, start, end)
        )

    return keep


def _page(request: Request, items: Sequence[T], seq: Callable[[T], int]) -> tuple[list[T], str]:
    limit = query_int(request, "limit", default=DEFAULT_PAGE, low=1, high=MAX_PAGE)
    cursor = query_one(request, "cursor")
    if cursor:
        if not cursor.isdigit():
            raise ApiError(400, f"bad cursor {cursor!r}")
        items = [i for i in items if seq(i) < int(cursor)]
    page = list(items[:limit])
    more = len(items) > limit
    return page, str(seq(page[-1])) if more and page else ""


async def list_orders(exchange: Exchange, request: Request) -> Response:
    """GET /orders/historical/batch: newest first, filtered, paged by cursor."""
    keep = _order_filter(request)
    chosen = [o for o in exchange.state.orders_newest_first() if keep(o)]
    page, cursor = _page(request, chosen, lambda o: o.seq)
    orders = tuple(wire.order(o, exchange.state.hold(o)) for o in page)
    return json_response(w.ListOrdersResponse(orders=orders, has_next=bool(cursor), cursor=cursor))


def _fill_filter(request: Request) -> Callable[[VenueFill], bool]:
    orders = set(query_list(request, "order_ids")) | set(query_list(request, "order_id"))
    trades = set(query_list(request, "trade_ids"))
    products = set(query_list(request, "product_ids")) | set(query_list(request, "product_id"))
    start = _time_bound(request, "start_sequence_timestamp")
    end = _time_bound(request, "end_sequence_timestamp")

    def keep(f: VenueFill) -> bool:
        return (
            (not orders or f.order_id in orders)
            and (not trades or f.trade_id in trades)
            and (not products or f.product_id in products)
            and _within(f.ts_ns, start, end)
        )

    return keep


async def list_fills(exchange: Exchange, request: Request) -> Response:
    """GET /orders/historical/fills: newest first; a non-empty cursor means more."""
    keep = _fill_filter(request)
    chosen = [f for f in exchange.state.fills_newest_first() if keep(f)]
    page, cursor = _page(request, chosen, lambda f: f.seq)
    return json_response(
        w.ListFillsResponse(fills=tuple(wire.fill(f) for f in page), cursor=cursor)
    )
