"""Every real recorded Advanced Trade response decodes with the schemas and translates.

Expected values were read by hand from the JSON files in
shared/data/coinbase_rest/advanced_trade (see shared/data/README.md); times are checked
against `calendar.timegm`, an independent clock arithmetic.
"""

import calendar
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from trading_coinbase import schemas as w
from trading_coinbase import translate as t

NS = 1_000_000_000

# Each recorded file and the schema its endpoint answers with.
SCHEMA_BY_FILE: dict[str, type[Any]] = {
    "candles.json": w.CandlesResponse,
    "ticker.json": w.TickerResponse,
    "product_book.json": w.ProductBookResponse,
    "product.json": w.Product,
    "products.json": w.ListProductsResponse,
    "products_future.json": w.ListProductsResponse,
}


def _decode(directory: Path, name: str) -> Any:
    return msgspec.json.decode((directory / name).read_bytes(), type=SCHEMA_BY_FILE[name])


def _utc_ns(*fields: int, micros: int = 0) -> int:
    return calendar.timegm((*fields,)) * NS + micros * 1000


def test_recorded_files_when_listed_then_each_has_a_schema_here(advanced_trade: Path) -> None:
    """A new recorded file fails this test until it gets a schema and a parsing test."""
    assert {p.name for p in advanced_trade.glob("*.json")} == set(SCHEMA_BY_FILE)


@pytest.mark.parametrize("name", sorted(SCHEMA_BY_FILE))
def test_recorded_file_when_decoded_and_reencoded_then_unchanged(
    advanced_trade: Path, name: str
) -> None:
    """The schemas decode the real bytes (unknown fields tolerated) and can encode them
    back: the loopback venue can serve what it decodes."""
    decoded = _decode(advanced_trade, name)

    again = msgspec.json.decode(msgspec.json.encode(decoded), type=SCHEMA_BY_FILE[name])

    assert again == decoded


def test_candles_when_translated_then_oldest_first_with_exact_values(advanced_trade: Path) -> None:
    """candles.json: two hourly BTC-USD bars, newest first on the wire, oldest first here."""
    bars = t.candles(_decode(advanced_trade, "candles.json"))

    assert [b.start_ns for b in bars] == [1712188800 * NS, 1712192400 * NS]
    assert bars[0].start_ns == _utc_ns(2024, 4, 4, 0, 0, 0)
    first, second = bars
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("65984.18"),
        Decimal("66387.77"),
        Decimal("65857.35"),
        Decimal("66314.59"),
        Decimal("358.74851052"),
    )
    assert second.open == Decimal("66312.4")
    assert second.volume == Decimal("355.82896243")


def test_candles_when_compared_with_json_reference_then_every_field_matches(
    advanced_trade: Path,
) -> None:
    """Independent reference: the stdlib json module with Decimal parsing."""
    raw = json.loads((advanced_trade / "candles.json").read_text(), parse_float=Decimal)
    reference = sorted(raw["candles"], key=lambda row: int(row["start"]))

    bars = t.candles(_decode(advanced_trade, "candles.json"))

    for bar, row in zip(bars, reference, strict=True):
        assert bar.start_ns == int(row["start"]) * NS
        assert [bar.open, bar.high, bar.low, bar.close, bar.volume] == [
            Decimal(row[k]) for k in ("open", "high", "low", "close", "volume")
        ]


def test_ticker_when_translated_then_trades_and_top_of_book(advanced_trade: Path) -> None:
    """ticker.json: three trades newest first, maker side, and best bid/ask."""
    tick = t.ticker(_decode(advanced_trade, "ticker.json"))

    assert len(tick.trades) == 3
    first = tick.trades[0]
    assert first.trade_id == "995098663"
    assert first.product_id == "BTC-USD"
    assert (first.price, first.size) == (Decimal("68923.67"), Decimal("0.00064"))
    assert first.time_ns == _utc_ns(2026, 4, 7, 0, 28, 58, micros=544778)
    assert first.maker_side is t.Side.SELL
    assert tick.trades[2].maker_side is t.Side.BUY
    assert tick.trades[2].price == Decimal("68924.94")
    assert (tick.best_bid, tick.best_ask) == (Decimal("68923.66"), Decimal("68923.67"))


def test_product_book_when_translated_then_levels_best_first(advanced_trade: Path) -> None:
    """product_book.json: five levels a side, best first; mid is the bid/ask midpoint."""
    bk = t.book(_decode(advanced_trade, "product_book.json"))

    assert bk.product_id == "BTC-USD"
    assert len(bk.bids) == len(bk.asks) == 5
    assert bk.bids[0] == t.BookLevel(Decimal("68923.66"), Decimal("0.17189468"))
    assert bk.asks[0] == t.BookLevel(Decimal("68923.67"), Decimal("0.16987193"))
    assert bk.asks[4] == t.BookLevel(Decimal("68928"), Decimal("0.058"))
    assert [lv.price for lv in bk.bids] == sorted((lv.price for lv in bk.bids), reverse=True)
    assert [lv.price for lv in bk.asks] == sorted(lv.price for lv in bk.asks)
    assert bk.mid == (bk.bids[0].price + bk.asks[0].price) / 2 == Decimal("68923.665")
    assert bk.last == Decimal("68923.665")
    assert bk.time_ns == _utc_ns(2026, 4, 7, 0, 28, 59, micros=662782)


def test_product_when_translated_then_increments_sizes_and_flags(advanced_trade: Path) -> None:
    """product.json: BTC-USD spot rules the gate enforces."""
    rules = t.product_rules(_decode(advanced_trade, "product.json"))

    assert rules.product_id == "BTC-USD"
    assert (rules.product_type, rules.status) == ("SPOT", "online")
    assert rules.price == Decimal("68923.67")
    assert rules.base_increment == Decimal("0.00000001")
    assert rules.quote_increment == rules.price_increment == Decimal("0.01")
    assert (rules.base_min_size, rules.base_max_size) == (Decimal("0.00000001"), Decimal(3400))
    assert (rules.quote_min_size, rules.quote_max_size) == (Decimal(1), Decimal(150000000))
    flags = (rules.cancel_only, rules.limit_only, rules.post_only, rules.trading_disabled)
    assert flags == (False, False, False, False)
    assert rules.alias_to == ("BTC-USDC",)
    assert rules.future is None


def test_products_when_translated_then_both_spot_books_share_one_alias(
    advanced_trade: Path,
) -> None:
    """products.json: BTC-USD and BTC-USDC, each the other's alias."""
    listed = _decode(advanced_trade, "products.json")

    rules = [t.product_rules(p, f"$.products[{i}]") for i, p in enumerate(listed.products)]

    assert listed.num_products == 2
    assert [r.product_id for r in rules] == ["BTC-USD", "BTC-USDC"]
    assert [r.price for r in rules] == [Decimal("68925.98"), Decimal("68923.67")]
    assert rules[1].alias == "BTC-USD"
    assert rules[0].alias_to == ("BTC-USDC",)
    assert listed.products[1].quote_currency_id == "USDC"


def test_products_future_when_translated_then_perp_funding_and_dated_future(
    advanced_trade: Path,
) -> None:
    """products_future.json: a perpetual with funding terms, a dated future without."""
    listed = _decode(advanced_trade, "products_future.json")

    perp, dated = (t.product_rules(p, f"$.products[{i}]") for i, p in enumerate(listed.products))

    assert perp.product_id == "BIP-20DEC30-CDE"
    assert perp.price_increment == Decimal(5)
    assert perp.quote_min_size == Decimal(0)
    assert perp.future == t.FutureTerms(
        contract_size=Decimal("0.01"),
        open_interest=Decimal(183283),
        funding_rate=Decimal("0.000013"),
        funding_time_ns=_utc_ns(2026, 4, 7, 0, 0, 0),
        funding_interval_s=3600,
        index_price=Decimal("68899.882564"),
    )
    assert dated.product_id == "BIT-24APR26-CDE"
    assert dated.future is not None
    assert dated.future.funding_rate is None
    assert dated.future.funding_interval_s is None
    assert dated.future.index_price is None
    assert dated.future.open_interest == Decimal(35445)
    session = listed.products[0].fcm_trading_session_details
    assert session is not None
    assert session.session_state == "FCM_TRADING_SESSION_STATE_OPEN"
