"""The venue's values as Coinbase wire Structs (`trading_coinbase.schemas`), and back.

Every body the venue sends is one of the client's own schema Structs, encoded here, so
the server cannot drift from what the client decodes. Decimals are written plain
(no exponent, no trailing zeros); times are RFC3339 UTC; the few fields Coinbase sends
as JSON numbers (transaction summary, spot positions) go out as numbers.

Vocabulary (§2.4): statuses PENDING/OPEN/FILLED/CANCELLED/EXPIRED/FAILED (partially
filled orders are OPEN), `time_in_force` and `order_type` in REST's spelling; the user
channel spells order types "Limit" and "Market" as the doc says it does.
"""

import uuid
from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase.translate import format_rfc3339
from trading_sim.matching.config import ProductSpec
from trading_sim.matching.model import (
    TERMINAL,
    ZERO,
    Balance,
    Bar,
    Liquidity,
    OrderKind,
    OrderStatus,
    Side,
    SizeUnit,
    TimeInForce,
)
from trading_sim.venue.market import Bucket, DayStats
from trading_sim.venue.state import VenueFill, VenueOrder

__all__ = [
    "ENCODER",
    "account",
    "account_uuid",
    "candle",
    "encode",
    "fill",
    "go_time",
    "market_trade",
    "order",
    "plain",
    "pricebook",
    "product",
    "side",
    "ws_candle",
    "ws_order",
    "ws_ticker",
    "ws_trade",
]

# Decimal-typed schema fields are JSON numbers on Coinbase's wire (see schemas' doc).
ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_NS_PER_S: Final = 1_000_000_000
_FIAT: Final = frozenset({"USD", "USDC", "EUR", "GBP"})
_BASE_MAX: Final = "1000000000"
_QUOTE_MAX: Final = "150000000"
_AVERAGE: Final = Decimal("1e-12")
_PERCENT: Final = Decimal("0.01")
_CHANGE: Final = Decimal("1e-8")

_STATUS: Final = {
    OrderStatus.NEW: "PENDING",
    OrderStatus.OPEN: "OPEN",
    OrderStatus.PARTIALLY_FILLED: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELLED: "CANCELLED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "FAILED",
}
_TIF: Final = {
    TimeInForce.GTC: "GOOD_UNTIL_CANCELLED",
    TimeInForce.GTD: "GOOD_UNTIL_DATE_TIME",
    TimeInForce.IOC: "IMMEDIATE_OR_CANCEL",
    TimeInForce.FOK: "FILL_OR_KILL",
}
_TYPE: Final = {
    OrderKind.MARKET: "MARKET",
    OrderKind.LIMIT: "LIMIT",
    OrderKind.STOP_LIMIT: "STOP_LIMIT",
}
# The user channel's spelling (§2.4: it sends "Limit"); no source shows a stop's, so
# that one keeps REST's.
_WS_TYPE: Final = {
    OrderKind.MARKET: "Market",
    OrderKind.LIMIT: "Limit",
    OrderKind.STOP_LIMIT: "STOP_LIMIT",
}


def encode(value: object) -> bytes:
    """A schema Struct as the venue's JSON."""
    return ENCODER.encode(value)


def plain(value: Decimal) -> str:
    """A Decimal in plain digits without trailing zeros: 0.00100000 -> "0.001"."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def side(value: Side) -> str:
    return "BUY" if value is Side.BUY else "SELL"


def go_time(now_ns: int, started_ns: int) -> str:
    """`current_time` as Coinbase's heartbeats write it (Go's time.Time String)."""
    whole, fraction = divmod(now_ns, _NS_PER_S)
    date = format_rfc3339(whole * _NS_PER_S)[:-1].replace("T", " ")
    monotonic = (now_ns - started_ns) / _NS_PER_S
    return f"{date}.{fraction:09d} +0000 UTC m=+{monotonic:.9f}"


# ---------------------------------------------------------------- orders and fills


def _average(o: VenueOrder) -> Decimal:
    return (o.filled_value / o.filled_size).quantize(_AVERAGE) if o.filled_size else ZERO


def _after_fees(o: VenueOrder) -> Decimal:
    return o.filled_value + o.fees if o.side is Side.BUY else o.filled_value - o.fees


def _done_part(o: VenueOrder) -> Decimal:
    return o.filled_value if o.size_in is SizeUnit.QUOTE else o.filled_size


def _trigger_status(o: VenueOrder) -> str:
    if o.kind is not OrderKind.STOP_LIMIT:
        return "INVALID_ORDER_TYPE"
    return "STOP_TRIGGERED" if o.triggered else "STOP_PENDING"


def _cancel_reason(o: VenueOrder) -> str:
    return o.reason if o.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) else ""


def order(o: VenueOrder, hold: Decimal) -> w.Order:
    """An order as `GET /orders/historical/...` reports it."""
    percent = (_done_part(o) / o.size * 100).quantize(_PERCENT)
    return w.Order(
        order_id=o.order_id,
        product_id=o.product_id,
        side=side(o.side),
        status=_STATUS[o.status],
        client_order_id=o.client_order_id,
        order_configuration=o.configuration,
        time_in_force=_TIF[o.tif],
        order_type=_TYPE[o.kind],
        created_time=format_rfc3339(o.created_ns),
        last_fill_time=None if o.last_fill_ns is None else format_rfc3339(o.last_fill_ns),
        filled_size=plain(o.filled_size),
        average_filled_price=plain(_average(o)),
        filled_value=plain(o.filled_value),
        number_of_fills=str(o.fill_count),
        completion_percentage=plain(percent),
        total_fees=plain(o.fees),
        total_value_after_fees=plain(_after_fees(o)),
        size_in_quote=o.size_in is SizeUnit.QUOTE,
        outstanding_hold_amount=plain(hold),
        trigger_status=_trigger_status(o),
        cancel_message=_cancel_reason(o),
        product_type="SPOT",
    )


def ws_order(o: VenueOrder) -> w.WsUserOrder:
    """An order as the user channel reports it: cumulative, leaves zero once done."""
    left = ZERO if o.status in TERMINAL else o.size - _done_part(o)
    return w.WsUserOrder(
        order_id=o.order_id,
        status=_STATUS[o.status],
        client_order_id=o.client_order_id,
        product_id=o.product_id,
        order_side=side(o.side),
        order_type=_WS_TYPE[o.kind],
        time_in_force=_TIF[o.tif],
        cumulative_quantity=plain(o.filled_size),
        leaves_quantity=plain(left),
        avg_price=plain(_average(o)),
        total_fees=plain(o.fees),
        filled_value=plain(o.filled_value),
        number_of_fills=str(o.fill_count),
        limit_price="" if o.limit_price is None else plain(o.limit_price),
        stop_price="" if o.stop_price is None else plain(o.stop_price),
        post_only="true" if o.post_only else "false",
        trigger_status=_trigger_status(o),
        cancel_reason=_cancel_reason(o),
        creation_time=format_rfc3339(o.created_ns),
        total_value_after_fees=plain(_after_fees(o)),
        product_type="SPOT",
    )


def fill(f: VenueFill) -> w.Fill:
    """A fill as `GET /orders/historical/fills` reports it."""
    return w.Fill(
        entry_id=f.entry_id,
        trade_id=f.trade_id,
        order_id=f.order_id,
        product_id=f.product_id,
        price=plain(f.price),
        size=plain(f.size),
        side=side(f.side),
        trade_time=format_rfc3339(f.ts_ns),
        trade_type="FILL",
        commission=plain(f.commission),
        sequence_timestamp=format_rfc3339(f.ts_ns),
        liquidity_indicator="MAKER" if f.liquidity is Liquidity.MAKER else "TAKER",
        size_in_quote=f.size_in_quote,
    )


# ---------------------------------------------------------------- accounts


def account_uuid(portfolio_uuid: str, currency: str) -> str:
    """A stable account id per (portfolio, currency)."""
    return str(uuid.uuid5(uuid.UUID(portfolio_uuid), currency))


def account(b: Balance, portfolio_uuid: str) -> w.Account:
    fiat = b.currency in _FIAT
    return w.Account(
        uuid=account_uuid(portfolio_uuid, b.currency),
        currency=b.currency,
        available_balance=w.Amount(value=plain(b.available), currency=b.currency),
        name=f"{b.currency} Wallet",
        hold=w.Amount(value=plain(b.hold), currency=b.currency),
        default=False,
        active=True,
        ready=True,
        type="ACCOUNT_TYPE_FIAT" if fiat else "ACCOUNT_TYPE_CRYPTO",
        retail_portfolio_id=portfolio_uuid,
    )


# ---------------------------------------------------------------- market data


def product(spec: ProductSpec, day: DayStats | None) -> w.Product:
    """A product; min sizes are one increment, the least the engine accepts."""
    return w.Product(
        product_id=spec.product_id,
        price="" if day is None else plain(day.close),
        price_percentage_change_24h=""
        if day is None
        else plain(day.change_percent.quantize(_CHANGE)),
        volume_24h="" if day is None else plain(day.volume),
        base_increment=plain(spec.base_increment),
        quote_increment=plain(spec.quote_increment),
        price_increment=plain(spec.price_increment),
        base_min_size=plain(spec.base_increment),
        base_max_size=_BASE_MAX,
        quote_min_size=plain(spec.quote_increment),
        quote_max_size=_QUOTE_MAX,
        base_currency_id=spec.base_currency,
        quote_currency_id=spec.quote_currency,
        status="online",
        product_type="SPOT",
        product_venue="CBE",
        display_name=spec.product_id,
    )


def pricebook(
    product_id: str, bid: Decimal, ask: Decimal, size: Decimal, now_ns: int
) -> w.PriceBook:
    """One level a side at the touch, sized by what the engine would fill; none if zero."""
    bids = (w.PriceLevel(price=plain(bid), size=plain(size)),) if size > 0 else ()
    asks = (w.PriceLevel(price=plain(ask), size=plain(size)),) if size > 0 else ()
    return w.PriceBook(product_id=product_id, bids=bids, asks=asks, time=format_rfc3339(now_ns))


def candle(bucket: Bucket) -> w.Candle:
    return w.Candle(
        start=str(bucket.start_s),
        low=plain(bucket.low),
        high=plain(bucket.high),
        open=plain(bucket.open),
        close=plain(bucket.close),
        volume=plain(bucket.volume),
    )


def ws_candle(bucket: Bucket, product_id: str) -> w.WsCandle:
    return w.WsCandle(
        start=str(bucket.start_s),
        open=plain(bucket.open),
        high=plain(bucket.high),
        low=plain(bucket.low),
        close=plain(bucket.close),
        volume=plain(bucket.volume),
        product_id=product_id,
    )


def _maker_side(bar: Bar) -> str:
    # A bar that closed up was lifted: takers bought, so the maker side sold [C8].
    return "SELL" if bar.close >= bar.open else "BUY"


def market_trade(bar: Bar, index: int) -> w.MarketTrade:
    """The one public trade a replayed bar stands for: its volume at its close."""
    return w.MarketTrade(
        trade_id=str(index + 1),
        product_id=bar.product_id,
        price=plain(bar.close),
        size=plain(bar.volume),
        time=format_rfc3339(bar.end_ns),
        side=_maker_side(bar),
        exchange="coinbase",
    )


def ws_trade(bar: Bar, index: int) -> w.WsTrade:
    return w.WsTrade(
        trade_id=str(index + 1),
        product_id=bar.product_id,
        price=plain(bar.close),
        size=plain(bar.volume),
        side=_maker_side(bar),
        time=format_rfc3339(bar.end_ns),
    )


def ws_ticker(
    product_id: str, day: DayStats, bid: Decimal, ask: Decimal, size: Decimal
) -> w.WsTicker:
    return w.WsTicker(
        product_id=product_id,
        price=plain(day.close),
        volume_24_h=plain(day.volume),
        low_24_h=plain(day.low),
        high_24_h=plain(day.high),
        price_percent_chg_24_h=plain(day.change_percent.quantize(_CHANGE)),
        best_bid=plain(bid),
        best_ask=plain(ask),
        best_bid_quantity=plain(size),
        best_ask_quantity=plain(size),
    )
