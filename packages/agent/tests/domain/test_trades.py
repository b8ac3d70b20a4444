"""Round trips from fills: open on flat, close on flat, P&L in dollars and R."""

from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_stubs import T0_NS, candle, fill
from trading_agent.domain.portfolio import OversellError, apply_fill, open_portfolio
from trading_agent.domain.trades import (
    EntryTag,
    TradeLog,
    UnknownIntentError,
    on_candle,
    on_fill,
)
from trading_contract import Fill, Side

TAGS = {
    "in-1": EntryTag(strategy_id="breakout", risk_per_unit_usd=Decimal(1000)),
    "in-2": EntryTag(strategy_id="meanrev"),
}


def fold(fills: Sequence[Fill], tags: dict[str, EntryTag] = TAGS) -> TradeLog:
    log = TradeLog()
    for f in fills:
        log = on_fill(log, f, tags)
    return log


def at(i: int, side: Side, price: str, size: str, fee: str = "0", **kw: object) -> Fill:
    fields: dict[str, object] = {"intent_id": "in-1", "event_ns": T0_NS + i * 60 * 10**9} | kw
    return fill(
        trade_id=f"t{i}",
        side=side,
        price=Decimal(price),
        size=Decimal(size),
        fee=Decimal(fee),
        **fields,
    )


def test_on_fill_when_bought_and_sold_back_then_one_trade_with_r_multiple() -> None:
    """0.01 @ 50,000 out @ 51,000, fees 3 + 3.06: gross 10, net 3.94, R 3.94 / 10."""
    log = fold(
        [
            at(0, Side.BUY, "50000", "0.01", "3"),
            at(5, Side.SELL, "51000", "0.01", "3.06", intent_id="out-1"),
        ]
    )

    (trade,) = log.closed
    assert log.open == {}
    assert (trade.strategy_id, trade.entry_intent_id, trade.exit_intent_id) == (
        "breakout",
        "in-1",
        "out-1",
    )
    assert trade.gross_pnl_usd == Decimal(10)
    assert trade.fees_usd == Decimal("6.06")
    assert trade.net_pnl_usd == Decimal("3.94")
    assert trade.risk_usd == Decimal(10)
    assert trade.r_multiple == Decimal("0.394")
    assert trade.holding_ns == 5 * 60 * 10**9


def test_on_fill_when_scaled_in_and_out_then_average_prices_and_span() -> None:
    """Buys 1 @ 100 and 1 @ 110, sells 1 @ 120 and 1 @ 130: entry 105, exit 125, +40."""
    log = fold(
        [
            at(0, Side.BUY, "100", "1"),
            at(1, Side.BUY, "110", "1"),
            at(2, Side.SELL, "120", "1"),
            at(3, Side.SELL, "130", "1"),
        ]
    )

    (trade,) = log.closed
    assert (trade.entry_price, trade.exit_price, trade.size) == (
        Decimal(105),
        Decimal(125),
        Decimal(2),
    )
    assert trade.gross_pnl_usd == Decimal(40)
    assert (trade.entry_ns, trade.exit_ns, trade.fill_count) == (T0_NS, T0_NS + 180 * 10**9, 4)


def test_on_fill_when_partially_sold_then_trade_still_open() -> None:
    """A round trip closes only on flat."""
    log = fold([at(0, Side.BUY, "100", "2"), at(1, Side.SELL, "120", "1")])

    assert log.closed == ()
    assert log.open["BTC-USD"].base_size == Decimal(1)


def test_on_fill_when_entry_had_no_stop_then_r_multiple_is_none() -> None:
    """No stop, no R."""
    log = fold([at(0, Side.BUY, "100", "1", intent_id="in-2"), at(1, Side.SELL, "90", "1")])

    (trade,) = log.closed
    assert trade.strategy_id == "meanrev"
    assert (trade.risk_usd, trade.r_multiple) == (None, None)
    assert trade.net_pnl_usd == Decimal(-10)


def test_on_fill_when_opening_intent_untagged_then_unknown_intent_error() -> None:
    """The opener decides whose trade it is, so its intent must be tagged."""
    with pytest.raises(UnknownIntentError, match="intent nope"):
        fold([at(0, Side.BUY, "100", "1", intent_id="nope")])


def test_on_fill_when_adding_or_exiting_with_untagged_intent_then_accepted() -> None:
    """Only the opening fill needs a tag; exits and adds may come from any intent."""
    log = fold(
        [
            at(0, Side.BUY, "100", "1"),
            at(1, Side.BUY, "100", "1", intent_id="x"),
            at(2, Side.SELL, "100", "2", intent_id="y"),
        ]
    )

    assert len(log.closed) == 1


def test_on_fill_when_selling_more_than_open_then_oversell_error() -> None:
    """No shorts: selling past flat is a broken book."""
    with pytest.raises(OversellError, match="open trade holds 1"):
        fold([at(0, Side.BUY, "100", "1"), at(1, Side.SELL, "100", "1.5")])


def test_on_fill_when_fill_repeated_then_same_log() -> None:
    """Duplicates by (product, trade id) are ignored."""
    first = at(0, Side.BUY, "100", "1")
    log = fold([first])

    assert on_fill(log, first, TAGS) is log


def test_entry_tag_when_risk_not_positive_then_value_error() -> None:
    """A stop at or above the entry is not a stop."""
    with pytest.raises(ValueError, match="risk per unit for s"):
        EntryTag(strategy_id="s", risk_per_unit_usd=Decimal(0))


def test_on_candle_when_trade_open_then_excursions_from_lows_and_highs() -> None:
    """Entry 100 x 2; a later candle trades 90..120: MAE 20 USD, MFE 40 USD."""
    log = fold([at(0, Side.BUY, "100", "2")])
    bar = candle(
        start_ns=T0_NS + 60 * 10**9,
        open=Decimal(100),
        high=Decimal(120),
        low=Decimal(90),
        close=Decimal(110),
    )
    log = on_candle(log, bar)
    log = on_fill(log, at(3, Side.SELL, "105", "2"), TAGS)

    (trade,) = log.closed
    assert (trade.max_adverse_usd, trade.max_favourable_usd) == (Decimal(20), Decimal(40))


def test_on_candle_when_candle_starts_before_entry_or_other_product_then_ignored() -> None:
    """A bar that may hold pre-entry prices, or another product's bar, changes nothing."""
    log = fold([at(1, Side.BUY, "100", "1")])
    early = candle(start_ns=T0_NS, low=Decimal(1), open=Decimal(2), close=Decimal(3))
    other = candle(product_id="ETH-USD", start_ns=T0_NS + 10**12)

    assert on_candle(log, early) is log
    assert on_candle(log, other) is log


def test_on_fill_when_only_fills_seen_then_excursions_from_fill_prices() -> None:
    """Without candles the fills bound the excursions: 2 in at avg 90, prices 80..100."""
    log = fold(
        [at(0, Side.BUY, "100", "1"), at(1, Side.BUY, "80", "1"), at(2, Side.SELL, "95", "2")]
    )

    (trade,) = log.closed
    assert (trade.max_adverse_usd, trade.max_favourable_usd) == (Decimal(20), Decimal(20))


# ---------------------------------------------------------------- properties

round_trip = st.tuples(
    st.lists(st.integers(1, 10**6), min_size=1, max_size=4),  # buy lots
    st.lists(st.integers(1, 10**6), min_size=1, max_size=4),  # sell weights
    st.lists(st.integers(1, 10**7), min_size=8, max_size=8),  # prices in cents
    st.integers(0, 10**4),  # fee per fill in 1e-4 USD
)


def _split(total: int, weights: list[int]) -> list[int]:
    # Sells in proportion to the weights; the last takes the rest, so they sum to `total`.
    parts = [q for q in (total * w // sum(weights) for w in weights[:-1]) if q > 0]
    return [*parts, total - sum(parts)]


def _fills(trips: list[tuple[list[int], list[int], list[int], int]]) -> list[Fill]:
    fills: list[Fill] = []
    for buys, weights, cents, fee in trips:
        legs = [(Side.BUY, q) for q in buys] + [(Side.SELL, q) for q in _split(sum(buys), weights)]
        for (side, lots), c in zip(legs, cents, strict=False):  # at most 8 legs, 8 prices
            price, size = Decimal(c).scaleb(-2), Decimal(lots).scaleb(-8)
            fills.append(at(len(fills), side, str(price), str(size), str(Decimal(fee).scaleb(-4))))
    return fills


@settings(max_examples=100, deadline=None)
@given(trips=st.lists(round_trip, max_size=5))
def test_on_fill_when_round_trips_then_pnl_agrees_with_portfolio_and_cash_flows(
    trips: list[tuple[list[int], list[int], list[int], int]],
) -> None:
    """One trade per flat-to-flat cycle; net P&L sums to cash flows and to realized."""
    fills = _fills(trips)

    log = fold(fills)
    book = open_portfolio(Decimal(0))
    for f in fills:
        book = apply_fill(book, f)

    assert len(log.closed) == len(trips)
    assert log.open == {}
    for trade in log.closed:
        assert trade.net_pnl_usd == trade.gross_pnl_usd - trade.fees_usd
    sells = sum((f.price * f.size for f in fills if f.side is Side.SELL), Decimal(0))
    buys = sum((f.price * f.size for f in fills if f.side is Side.BUY), Decimal(0))
    fees = sum((f.fee for f in fills), Decimal(0))
    assert sum((t.net_pnl_usd for t in log.closed), Decimal(0)) == sells - buys - fees
    assert sum((t.net_pnl_usd for t in log.closed), Decimal(0)) == book.realized_pnl_usd
