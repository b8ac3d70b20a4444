"""Order payloads (§2.1-2.4): configurations, create, preview, cancel, edit, orders, fills."""

from typing import Literal

import msgspec

from trading_coinbase.schemas.base import Request, Response

__all__ = [
    "BatchCancelRequest",
    "BatchCancelResponse",
    "CancelResult",
    "ConfigurationTerms",
    "CreateOrderError",
    "CreateOrderRequest",
    "CreateOrderResponse",
    "CreateOrderSuccess",
    "EditOrderError",
    "EditOrderRequest",
    "EditOrderResponse",
    "Fill",
    "GetOrderResponse",
    "LimitLimitFok",
    "LimitLimitGtc",
    "LimitLimitGtd",
    "ListFillsResponse",
    "ListOrdersResponse",
    "MarketMarketIoc",
    "Order",
    "OrderConfiguration",
    "PreviewOrderRequest",
    "PreviewOrderResponse",
    "SideWire",
    "SorLimitIoc",
    "StopDirectionWire",
    "StopLimitStopLimitGtc",
    "StopLimitStopLimitGtd",
]


# ---------------------------------------------------------------- order configuration
# Request side (§2.1): one leaf per `order_configuration` key the system allows.

StopDirectionWire = Literal["STOP_DIRECTION_STOP_UP", "STOP_DIRECTION_STOP_DOWN"]
SideWire = Literal["BUY", "SELL"]


class MarketMarketIoc(Request, frozen=True, kw_only=True, omit_defaults=True):
    """Market IOC: exactly one of `quote_size` (buys, usually) or `base_size`."""

    quote_size: str | None = None
    base_size: str | None = None

    def __post_init__(self) -> None:
        if (self.quote_size is None) == (self.base_size is None):
            raise ValueError("market_market_ioc needs exactly one of quote_size, base_size")


class SorLimitIoc(Request, frozen=True, kw_only=True):
    """Limit IOC (smart order routed); no post_only."""

    base_size: str
    limit_price: str


class LimitLimitGtc(Request, frozen=True, kw_only=True):
    """Limit good-till-cancelled; a crossing post-only order is rejected, not repriced."""

    base_size: str
    limit_price: str
    post_only: bool = False


class LimitLimitGtd(Request, frozen=True, kw_only=True):
    """Limit good-till-date; `end_time` is RFC3339."""

    base_size: str
    limit_price: str
    end_time: str
    post_only: bool = False


class LimitLimitFok(Request, frozen=True, kw_only=True):
    """Limit fill-or-kill; no post_only (POST_ONLY_NOT_ALLOWED_WITH_FOK)."""

    base_size: str
    limit_price: str


class StopLimitStopLimitGtc(Request, frozen=True, kw_only=True):
    """Stop-limit good-till-cancelled (reportedly derivatives-only ⚠ §2.1)."""

    base_size: str
    limit_price: str
    stop_price: str
    stop_direction: StopDirectionWire


class StopLimitStopLimitGtd(Request, frozen=True, kw_only=True):
    """Stop-limit good-till-date; `end_time` is RFC3339."""

    base_size: str
    limit_price: str
    stop_price: str
    stop_direction: StopDirectionWire
    end_time: str


class OrderConfiguration(Request, frozen=True, kw_only=True, omit_defaults=True):
    """The `order_configuration` object of a request: exactly one key is set."""

    market_market_ioc: MarketMarketIoc | None = None
    sor_limit_ioc: SorLimitIoc | None = None
    limit_limit_gtc: LimitLimitGtc | None = None
    limit_limit_gtd: LimitLimitGtd | None = None
    limit_limit_fok: LimitLimitFok | None = None
    stop_limit_stop_limit_gtc: StopLimitStopLimitGtc | None = None
    stop_limit_stop_limit_gtd: StopLimitStopLimitGtd | None = None

    def __post_init__(self) -> None:
        chosen = [f for f in self.__struct_fields__ if getattr(self, f) is not None]
        if len(chosen) != 1:
            raise ValueError(f"order_configuration needs exactly one key, got {chosen}")


class ConfigurationTerms(Response, frozen=True, kw_only=True):
    """One `order_configuration` entry as the venue echoes it (any key, even new ones).

    Responses carry `order_configuration` as `dict[str, ConfigurationTerms]` so an
    order placed elsewhere (TWAP, bracket, ...) still decodes; `translate` decides
    which kinds it understands.
    """

    base_size: str | None = None
    quote_size: str | None = None
    limit_price: str | None = None
    stop_price: str | None = None
    stop_direction: str | None = None
    stop_trigger_price: str | None = None
    end_time: str | None = None
    post_only: bool | None = None


# ---------------------------------------------------------------- orders (§2.1-2.4)


class CreateOrderRequest(Request, frozen=True, kw_only=True, omit_defaults=True):
    """POST /orders. `client_order_id` is the idempotency key (≤128 chars, never "")."""

    client_order_id: str
    product_id: str
    side: SideWire
    order_configuration: OrderConfiguration
    preview_id: str | None = None


class CreateOrderSuccess(Response, frozen=True, kw_only=True):
    """`success_response`: accepted, not filled; follow it on the user channel."""

    order_id: str
    product_id: str = ""
    side: str = ""
    client_order_id: str = ""


class CreateOrderError(Response, frozen=True, kw_only=True):
    """`error_response`: read new_order_failure_reason, then preview, then error (§2.3)."""

    error: str = ""
    message: str = ""
    error_details: str = ""
    preview_failure_reason: str = ""
    new_order_failure_reason: str = ""


class CreateOrderResponse(Response, frozen=True, kw_only=True):
    """The create reply; HTTP 200 also carries business rejections: branch on `success`."""

    success: bool
    success_response: CreateOrderSuccess | None = None
    error_response: CreateOrderError | None = None
    order_configuration: dict[str, ConfigurationTerms] | None = None
    # Older replies put these at the top level.
    failure_reason: str = ""
    order_id: str = ""


class PreviewOrderRequest(Request, frozen=True, kw_only=True, omit_defaults=True):
    """POST /orders/preview: the create body without `client_order_id`."""

    product_id: str
    side: SideWire
    order_configuration: OrderConfiguration


class PreviewOrderResponse(Response, frozen=True, kw_only=True):
    """What the order would cost; `errs` non-empty means it would be rejected."""

    order_total: str = ""
    commission_total: str = ""
    errs: tuple[str, ...] = ()
    warning: tuple[str, ...] = ()
    quote_size: str = ""
    base_size: str = ""
    best_bid: str = ""
    best_ask: str = ""
    is_max: bool = False
    slippage: str = ""
    preview_id: str = ""


class BatchCancelRequest(Request, frozen=True, kw_only=True):
    """POST /orders/batch_cancel; the client chunks at 100 ids (§2.4)."""

    order_ids: tuple[str, ...]


class CancelResult(Response, frozen=True, kw_only=True):
    """One id's cancel outcome: branch on `success`; confirm on the user channel."""

    success: bool
    failure_reason: str = ""
    order_id: str = ""


class BatchCancelResponse(Response, frozen=True, kw_only=True):
    """POST /orders/batch_cancel reply."""

    results: tuple[CancelResult, ...] = ()


class EditOrderRequest(Request, frozen=True, kw_only=True):
    """POST /orders/edit: GTC limit/stop-limit only, and both price and size (§2.1)."""

    order_id: str
    price: str
    size: str


class EditOrderError(Response, frozen=True, kw_only=True):
    """One reason an edit failed."""

    edit_failure_reason: str = ""
    preview_failure_reason: str = ""


class EditOrderResponse(Response, frozen=True, kw_only=True):
    """POST /orders/edit reply: branch on `success`."""

    success: bool
    errors: tuple[EditOrderError, ...] = ()


class Order(Response, frozen=True, kw_only=True):
    """An order as REST reports it (§2.4); sizes and prices are decimal strings."""

    order_id: str
    product_id: str
    side: str
    status: str
    client_order_id: str = ""
    order_configuration: dict[str, ConfigurationTerms] = msgspec.field(default_factory=dict)
    time_in_force: str = ""
    order_type: str = ""
    created_time: str = ""
    last_fill_time: str | None = None
    filled_size: str = ""
    average_filled_price: str = ""
    filled_value: str = ""
    number_of_fills: str = ""
    completion_percentage: str = ""
    fee: str = ""
    total_fees: str = ""
    total_value_after_fees: str = ""
    size_in_quote: bool = False
    outstanding_hold_amount: str = ""
    trigger_status: str = ""
    reject_reason: str = ""
    reject_message: str = ""
    cancel_message: str = ""
    product_type: str = ""
    leverage: str = ""
    margin_type: str = ""
    attached_order_id: str = ""


class GetOrderResponse(Response, frozen=True, kw_only=True):
    """GET /orders/historical/{order_id}."""

    order: Order


class ListOrdersResponse(Response, frozen=True, kw_only=True):
    """GET /orders/historical/batch: one page."""

    orders: tuple[Order, ...] = ()
    has_next: bool = False
    cursor: str = ""


class Fill(Response, frozen=True, kw_only=True):
    """One fill (GET /orders/historical/fills): the only source of per-fill trade ids."""

    entry_id: str
    trade_id: str
    order_id: str
    product_id: str
    price: str
    size: str
    side: str
    trade_time: str = ""
    trade_type: str = ""
    commission: str = ""
    sequence_timestamp: str = ""
    liquidity_indicator: str = ""
    size_in_quote: bool = False


class ListFillsResponse(Response, frozen=True, kw_only=True):
    """GET /orders/historical/fills: one page."""

    fills: tuple[Fill, ...] = ()
    cursor: str = ""
