"""Wire <-> domain conversion for Coinbase Advanced Trade, in one pure package.

Wire values are the `schemas` Structs (decimal strings, RFC3339 strings, venue enums);
domain values are frozen Structs with `Decimal` money, integer nanosecond times and
enums. Every parse names the field it failed on (`$.candles[0].open`) in a
`SchemaError`; an order spec no configuration can express is an `InvalidOrderSpec`.

Modules: `scalars` (decimals, times, integers), `enums` (the venue's vocabularies),
`orders` (specs <-> configurations, create failures), `state` (orders, fills,
balances, fees), `market` (candles, books, trades, products). Every name is
re-exported here, so import from `trading_coinbase.translate`.

Orders: an `OrderSpec` (side, product, kind, time in force, sizes, prices, stop,
end time, post_only, client order id) maps to exactly one `order_configuration` key
(§2.1) through the `_SHAPES` table, and back: `spec -> wire -> spec` is the identity.

Pure: no I/O, no clock, no randomness (ARCHITECTURE §4).
"""

from trading_coinbase.translate.enums import (
    MAX_CANDLES,
    TERMINAL_STATUSES,
    Granularity,
    OrderKind,
    Side,
    StopDirection,
    TimeInForce,
    VenueOrderStatus,
    order_status,
    parse_side,
)
from trading_coinbase.translate.market import (
    Book,
    BookLevel,
    FutureTerms,
    Ohlcv,
    ProductRules,
    PublicTrade,
    Ticker,
    book,
    candles,
    product_rules,
    ticker,
)
from trading_coinbase.translate.orders import (
    MAX_CLIENT_ORDER_ID,
    CreateFailure,
    OrderSpec,
    create_failure,
    order_configuration,
    order_request,
    preview_request,
    spec_from_configuration,
    spec_from_request,
)
from trading_coinbase.translate.scalars import (
    NS_PER_S,
    decimal_or_zero,
    format_decimal,
    format_rfc3339,
    parse_decimal,
    parse_optional_decimal,
    parse_optional_rfc3339_ns,
    parse_rfc3339_ns,
    parse_wire_int,
)
from trading_coinbase.translate.state import (
    Balance,
    FeeRates,
    FillDelta,
    FillRecord,
    OrderState,
    UserOrderState,
    balance,
    fee_rates,
    fill_delta,
    fill_record,
    order_state,
    server_time_ns,
    user_order_state,
)

__all__ = [
    "MAX_CANDLES",
    "MAX_CLIENT_ORDER_ID",
    "NS_PER_S",
    "TERMINAL_STATUSES",
    "Balance",
    "Book",
    "BookLevel",
    "CreateFailure",
    "FeeRates",
    "FillDelta",
    "FillRecord",
    "FutureTerms",
    "Granularity",
    "Ohlcv",
    "OrderKind",
    "OrderSpec",
    "OrderState",
    "ProductRules",
    "PublicTrade",
    "Side",
    "StopDirection",
    "Ticker",
    "TimeInForce",
    "UserOrderState",
    "VenueOrderStatus",
    "balance",
    "book",
    "candles",
    "create_failure",
    "decimal_or_zero",
    "fee_rates",
    "fill_delta",
    "fill_record",
    "format_decimal",
    "format_rfc3339",
    "order_configuration",
    "order_request",
    "order_state",
    "order_status",
    "parse_decimal",
    "parse_optional_decimal",
    "parse_optional_rfc3339_ns",
    "parse_rfc3339_ns",
    "parse_side",
    "parse_wire_int",
    "preview_request",
    "product_rules",
    "server_time_ns",
    "spec_from_configuration",
    "spec_from_request",
    "ticker",
    "user_order_state",
]
