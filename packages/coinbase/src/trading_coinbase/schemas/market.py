"""Market data payloads (§2, §2.5): products, books, candles, public trades."""

from trading_coinbase.schemas.base import Response

__all__ = [
    "BestBidAskResponse",
    "Candle",
    "CandlesResponse",
    "FcmTradingSessionDetails",
    "FutureProductDetails",
    "ListProductsResponse",
    "MarketTrade",
    "PerpetualDetails",
    "PriceBook",
    "PriceLevel",
    "Product",
    "ProductBookResponse",
    "TickerResponse",
]


# ---------------------------------------------------------------- products, market data


class PerpetualDetails(Response, frozen=True, kw_only=True):
    """Perpetual-specific terms inside future_product_details."""

    open_interest: str = ""
    funding_rate: str = ""
    funding_time: str | None = None
    max_leverage: str = ""


class FutureProductDetails(Response, frozen=True, kw_only=True):
    """Futures terms (§5): funding, open interest, index price, contract size."""

    venue: str = ""
    contract_code: str = ""
    contract_expiry: str | None = None
    contract_size: str = ""
    contract_root_unit: str = ""
    contract_expiry_type: str = ""
    funding_interval: str | None = None
    open_interest: str = ""
    funding_rate: str = ""
    funding_time: str | None = None
    index_price: str = ""
    settlement_price: str = ""
    display_name: str = ""
    perpetual_details: PerpetualDetails | None = None


class FcmTradingSessionDetails(Response, frozen=True, kw_only=True):
    """Derivatives trading session state."""

    is_session_open: bool = False
    open_time: str | None = None
    close_time: str | None = None
    session_state: str = ""


class Product(Response, frozen=True, kw_only=True):
    """A product (§2); the gate enforces its increments, sizes and the four flags."""

    product_id: str
    price: str = ""
    price_percentage_change_24h: str = ""
    volume_24h: str = ""
    base_increment: str = ""
    quote_increment: str = ""
    price_increment: str = ""
    base_min_size: str = ""
    base_max_size: str = ""
    quote_min_size: str = ""
    quote_max_size: str = ""
    base_currency_id: str = ""
    quote_currency_id: str = ""
    status: str = ""
    cancel_only: bool = False
    limit_only: bool = False
    post_only: bool = False
    trading_disabled: bool = False
    auction_mode: bool = False
    is_disabled: bool = False
    view_only: bool = False
    product_type: str = ""
    product_venue: str = ""
    display_name: str = ""
    mid_market_price: str = ""
    alias: str = ""
    alias_to: tuple[str, ...] = ()
    new_at: str | None = None
    fcm_trading_session_details: FcmTradingSessionDetails | None = None
    future_product_details: FutureProductDetails | None = None


class ListProductsResponse(Response, frozen=True, kw_only=True):
    """GET /products and /market/products."""

    products: tuple[Product, ...] = ()
    num_products: int = 0


class PriceLevel(Response, frozen=True, kw_only=True):
    """One book level: `{"price":"68923.66","size":"0.17189468"}`."""

    price: str
    size: str


class PriceBook(Response, frozen=True, kw_only=True):
    """A product's book: bids best first, asks best first."""

    product_id: str
    bids: tuple[PriceLevel, ...] = ()
    asks: tuple[PriceLevel, ...] = ()
    time: str = ""


class ProductBookResponse(Response, frozen=True, kw_only=True):
    """GET /product_book and /market/product_book."""

    pricebook: PriceBook
    last: str = ""
    mid_market: str = ""
    spread_bps: str = ""
    spread_absolute: str = ""


class BestBidAskResponse(Response, frozen=True, kw_only=True):
    """GET /best_bid_ask: top of book per product."""

    pricebooks: tuple[PriceBook, ...] = ()


class Candle(Response, frozen=True, kw_only=True):
    """One candle row (§2.5): `start` is epoch seconds as a string; all strings."""

    start: str
    low: str
    high: str
    open: str
    close: str
    volume: str


class CandlesResponse(Response, frozen=True, kw_only=True):
    """GET /products/{id}/candles: rows newest first; the forming bucket may be there."""

    candles: tuple[Candle, ...] = ()


class MarketTrade(Response, frozen=True, kw_only=True):
    """A public trade; `side` is the maker side since 2025-07-30 [C8]."""

    trade_id: str
    product_id: str
    price: str
    size: str
    time: str
    side: str
    bid: str = ""
    ask: str = ""
    exchange: str = ""


class TickerResponse(Response, frozen=True, kw_only=True):
    """GET /products/{id}/ticker: recent trades, newest first, and the top of book."""

    trades: tuple[MarketTrade, ...] = ()
    best_bid: str = ""
    best_ask: str = ""
