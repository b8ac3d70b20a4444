"""Market data, parsed: candles, books, public trades, product rules (§2, §2.5, §5)."""

import re
from decimal import Decimal
from typing import Final

import msgspec

from trading_coinbase import schemas as w
from trading_coinbase.errors import SchemaError
from trading_coinbase.translate.enums import Side, parse_side
from trading_coinbase.translate.scalars import (
    NS_PER_S,
    parse_decimal,
    parse_optional_decimal,
    parse_optional_rfc3339_ns,
    parse_rfc3339_ns,
)

__all__ = [
    "Book",
    "BookLevel",
    "FutureTerms",
    "Ohlcv",
    "ProductRules",
    "PublicTrade",
    "Ticker",
    "book",
    "candles",
    "product_rules",
    "ticker",
]


_DURATION_S: Final = re.compile(r"(\d+)s")


class Ohlcv(msgspec.Struct, frozen=True, kw_only=True):
    """One candle: bucket start (epoch ns) and exact OHLCV."""

    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def candles(response: w.CandlesResponse) -> tuple[Ohlcv, ...]:
    """The candles oldest first (the venue sends newest first, §2.5).

    Raises:
        SchemaError: a bad start or price, or two rows for one bucket.
    """
    bars = [_ohlcv(row, f"$.candles[{i}]") for i, row in enumerate(response.candles)]
    bars.sort(key=lambda bar: bar.start_ns)
    for i in range(1, len(bars)):
        if bars[i].start_ns == bars[i - 1].start_ns:
            raise SchemaError("$.candles", f"two candles start at {bars[i].start_ns} ns")
    return tuple(bars)


def _ohlcv(row: w.Candle, at: str) -> Ohlcv:
    if not row.start.isdigit():
        raise SchemaError(f"{at}.start", f"expected epoch seconds, got {row.start!r}")
    return Ohlcv(
        start_ns=int(row.start) * NS_PER_S,
        open=parse_decimal(row.open, f"{at}.open"),
        high=parse_decimal(row.high, f"{at}.high"),
        low=parse_decimal(row.low, f"{at}.low"),
        close=parse_decimal(row.close, f"{at}.close"),
        volume=parse_decimal(row.volume, f"{at}.volume"),
    )


class BookLevel(msgspec.Struct, frozen=True):
    """One price level."""

    price: Decimal
    size: Decimal


class Book(msgspec.Struct, frozen=True, kw_only=True):
    """A product book: bids and asks best first; mid and last when the venue gave them."""

    product_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    time_ns: int | None
    mid: Decimal | None
    last: Decimal | None


def book(response: w.ProductBookResponse) -> Book:
    """GET /product_book as a `Book`."""
    pb = response.pricebook
    return Book(
        product_id=pb.product_id,
        bids=_levels(pb.bids, "$.pricebook.bids"),
        asks=_levels(pb.asks, "$.pricebook.asks"),
        time_ns=parse_optional_rfc3339_ns(pb.time, "$.pricebook.time"),
        mid=parse_optional_decimal(response.mid_market, "$.mid_market"),
        last=parse_optional_decimal(response.last, "$.last"),
    )


def _levels(levels: tuple[w.PriceLevel, ...], at: str) -> tuple[BookLevel, ...]:
    return tuple(
        BookLevel(
            parse_decimal(lv.price, f"{at}[{i}].price"), parse_decimal(lv.size, f"{at}[{i}].size")
        )
        for i, lv in enumerate(levels)
    )


class PublicTrade(msgspec.Struct, frozen=True, kw_only=True):
    """A public trade; `maker_side` because the venue reports the maker's side [C8]."""

    trade_id: str
    product_id: str
    price: Decimal
    size: Decimal
    time_ns: int
    maker_side: Side


class Ticker(msgspec.Struct, frozen=True, kw_only=True):
    """Recent trades (newest first, as sent) and the top of book."""

    trades: tuple[PublicTrade, ...]
    best_bid: Decimal | None
    best_ask: Decimal | None


def ticker(response: w.TickerResponse) -> Ticker:
    """GET /products/{id}/ticker as a `Ticker`."""
    trades = tuple(
        PublicTrade(
            trade_id=t.trade_id,
            product_id=t.product_id,
            price=parse_decimal(t.price, f"$.trades[{i}].price"),
            size=parse_decimal(t.size, f"$.trades[{i}].size"),
            time_ns=parse_rfc3339_ns(t.time, f"$.trades[{i}].time"),
            maker_side=parse_side(t.side, f"$.trades[{i}].side"),
        )
        for i, t in enumerate(response.trades)
    )
    return Ticker(
        trades=trades,
        best_bid=parse_optional_decimal(response.best_bid, "$.best_bid"),
        best_ask=parse_optional_decimal(response.best_ask, "$.best_ask"),
    )


class FutureTerms(msgspec.Struct, frozen=True, kw_only=True):
    """Derivative terms the agent reads (§5); unset values are None."""

    contract_size: Decimal | None
    open_interest: Decimal | None
    funding_rate: Decimal | None
    funding_time_ns: int | None
    funding_interval_s: int | None
    index_price: Decimal | None


class ProductRules(msgspec.Struct, frozen=True, kw_only=True):
    """What the gate enforces about a product: increments, sizes and the four flags."""

    product_id: str
    product_type: str
    status: str
    price: Decimal | None
    base_increment: Decimal
    quote_increment: Decimal
    price_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    quote_min_size: Decimal
    quote_max_size: Decimal
    cancel_only: bool
    limit_only: bool
    post_only: bool
    trading_disabled: bool
    alias: str
    alias_to: tuple[str, ...]
    future: FutureTerms | None


def product_rules(product: w.Product, at: str = "$") -> ProductRules:
    """A product as `ProductRules`; `at` is its path (`$.products[1]`) for errors."""
    p = product
    return ProductRules(
        product_id=p.product_id,
        product_type=p.product_type,
        status=p.status,
        price=parse_optional_decimal(p.price, f"{at}.price"),
        base_increment=parse_decimal(p.base_increment, f"{at}.base_increment"),
        quote_increment=parse_decimal(p.quote_increment, f"{at}.quote_increment"),
        price_increment=parse_decimal(p.price_increment, f"{at}.price_increment"),
        base_min_size=parse_decimal(p.base_min_size, f"{at}.base_min_size"),
        base_max_size=parse_decimal(p.base_max_size, f"{at}.base_max_size"),
        quote_min_size=parse_decimal(p.quote_min_size, f"{at}.quote_min_size"),
        quote_max_size=parse_decimal(p.quote_max_size, f"{at}.quote_max_size"),
        cancel_only=p.cancel_only,
        limit_only=p.limit_only,
        post_only=p.post_only,
        trading_disabled=p.trading_disabled,
        alias=p.alias,
        alias_to=p.alias_to,
        future=None
        if p.future_product_details is None
        else _future_terms(p.future_product_details, f"{at}.future_product_details"),
    )


def _future_terms(d: w.FutureProductDetails, at: str) -> FutureTerms:
    return FutureTerms(
        contract_size=parse_optional_decimal(d.contract_size, f"{at}.contract_size"),
        open_interest=parse_optional_decimal(d.open_interest, f"{at}.open_interest"),
        funding_rate=parse_optional_decimal(d.funding_rate, f"{at}.funding_rate"),
        funding_time_ns=parse_optional_rfc3339_ns(d.funding_time, f"{at}.funding_time"),
        funding_interval_s=_optional_duration_s(d.funding_interval, f"{at}.funding_interval"),
        index_price=parse_optional_decimal(d.index_price, f"{at}.index_price"),
    )


def _optional_duration_s(text: str | None, field: str) -> int | None:
    if not text:
        return None
    match = _DURATION_S.fullmatch(text)
    if match is None:
        raise SchemaError(field, f"expected a duration like '3600s', got {text!r}")
    return int(match[1])
