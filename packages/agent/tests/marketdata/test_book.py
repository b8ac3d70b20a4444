"""OrderBook: equals a dict model while live; gaps, crossing and no snapshot make it stale."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.domain.market import TopOfBook
from trading_agent.marketdata.book import (
    BookError,
    BookSide,
    LevelChange,
    OrderBook,
    UpdateResult,
)

D = Decimal
BID, ASK = BookSide.BID, BookSide.ASK

# Bids mostly below 60 and asks mostly above 40, so most random books are uncrossed
# for a while and some cross.
bid_prices = st.integers(1, 60).map(lambda p: D(p).scaleb(-1))
ask_prices = st.integers(40, 100).map(lambda p: D(p).scaleb(-1))
sizes = st.integers(0, 5).map(D)
levels = st.dictionaries(st.integers(1, 40).map(lambda p: D(p).scaleb(-1)), sizes.filter(bool))
changes = st.lists(
    st.one_of(
        st.builds(LevelChange, st.just(BID), bid_prices, sizes),
        st.builds(LevelChange, st.just(ASK), ask_prices, sizes),
    ),
    max_size=4,
)
bid_changes = st.lists(st.builds(LevelChange, st.just(BID), bid_prices, sizes), max_size=4)


def live_book(
    bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal], seq: int = 10
) -> OrderBook:
    book = OrderBook("BTC-USD")
    book.apply_snapshot(bids.items(), asks.items(), sequence=seq, ts_ns=1_000)
    return book


def shifted(side: dict[Decimal, Decimal], by: Decimal) -> dict[Decimal, Decimal]:
    return {p + by: s for p, s in side.items()}


@given(levels, levels, st.lists(changes, max_size=40))
def test_apply_update_when_random_updates_then_book_equals_dict_model(
    bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal], updates: list[list[LevelChange]]
) -> None:
    """While live, levels and best prices equal a dict model; the first cross turns it stale."""
    asks = shifted(asks, D(5))  # snapshot asks 5.1..9.0 above bids 0.1..4.0: uncrossed
    book = live_book(bids, asks)
    model = {BID: dict(bids), ASK: dict(asks)}

    for seq, update in enumerate(updates, start=11):
        result = book.apply_update(update, sequence=seq, ts_ns=seq)
        for ch in update:
            model[ch.side][ch.price] = ch.size
            if ch.size == 0:
                del model[ch.side][ch.price]
        best_bid = max(model[BID], default=None)
        best_ask = min(model[ASK], default=None)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            assert result is UpdateResult.CROSSED
            assert book.stale
            assert book.best_bid is None
            return
        assert result is UpdateResult.APPLIED
        assert book.bids() == sorted(model[BID].items(), reverse=True)
        assert book.asks() == sorted(model[ASK].items())
        assert (book.best_bid, book.best_ask) == (best_bid, best_ask)


@given(levels, st.lists(bid_changes, min_size=2, max_size=20), st.data())
def test_apply_update_when_a_sequence_is_skipped_then_stale_until_next_snapshot(
    bids: dict[Decimal, Decimal], updates: list[list[LevelChange]], data: st.DataObject
) -> None:
    """After a skipped number every update is ignored; a new snapshot makes it live again."""
    book = live_book(bids, {})
    skip_at = data.draw(st.integers(0, len(updates) - 1))
    numbers = [11 + i + (i >= skip_at) for i in range(len(updates))]

    results = [
        book.apply_update(u, sequence=n, ts_ns=n) for u, n in zip(updates, numbers, strict=True)
    ]

    assert set(results[:skip_at]) <= {UpdateResult.APPLIED}  # bids only: never crossed
    assert results[skip_at] is UpdateResult.GAP
    assert set(results[skip_at + 1 :]) <= {UpdateResult.IGNORED_STALE}
    assert book.stale
    assert (book.best_bid, book.best_ask, book.top_of_book()) == (None, None, None)
    book.apply_snapshot([(D(1), D(2))], [(D(3), D(4))], sequence=100, ts_ns=5)
    assert book.stale_reason is None  # live again
    assert (book.bids(), book.asks()) == ([(D(1), D(2))], [(D(3), D(4))])
    assert book.apply_update([], sequence=101, ts_ns=6) is UpdateResult.APPLIED


def test_apply_update_when_sequence_skipped_then_gap_reason_names_both_numbers() -> None:
    """The stale reason says which number was expected and which came."""
    book = live_book({D(1): D(1)}, {D(2): D(1)})

    assert book.apply_update([], sequence=12, ts_ns=2) is UpdateResult.GAP
    assert book.stale_reason == "sequence gap: expected 11, got 12"


def test_apply_update_when_before_any_snapshot_then_stale() -> None:
    """An update with no snapshot cannot be applied and marks the book stale."""
    book = OrderBook("BTC-USD")

    result = book.apply_update([LevelChange(BID, D(1), D(1))], sequence=1, ts_ns=1)

    assert result is UpdateResult.NO_SNAPSHOT
    assert book.stale
    assert book.bids() == []


def test_apply_update_when_sequence_repeats_then_ignored_and_book_unchanged() -> None:
    """A message at or below the last sequence is a repeat: no change, still live."""
    book = live_book({D(1): D(1)}, {D(2): D(1)})
    book.apply_update([LevelChange(BID, D("1.5"), D(3))], sequence=11, ts_ns=2)

    result = book.apply_update([LevelChange(BID, D("1.5"), D(0))], sequence=11, ts_ns=3)

    assert result is UpdateResult.REPEAT
    assert book.best_bid == D("1.5")
    assert book.as_of_ns == 2


def test_apply_update_when_size_zero_then_level_removed_and_next_best_takes_over() -> None:
    """Size 0 deletes the level; deleting a missing level is harmless."""
    book = live_book({D(1): D(1), D(2): D(1)}, {D(3): D(1)})

    book.apply_update([LevelChange(BID, D(2), D(0)), LevelChange(ASK, D(9), D(0))], 11, 2)

    assert book.bids() == [(D(1), D(1))]
    assert book.best_bid == D(1)


def test_apply_snapshot_when_crossed_then_stale() -> None:
    """A snapshot with bid >= ask is wrong data: stale, waiting for the next one."""
    book = live_book({D(3): D(1)}, {D(3): D(1)})

    assert book.stale
    assert book.stale_reason == "snapshot 10 left the book crossed: bid 3 >= ask 3"


@pytest.mark.parametrize(("price", "size"), [(D(0), D(1)), (D(1), D(-1)), (D("NaN"), D(1))])
def test_apply_update_when_level_invalid_then_book_error_and_stale(
    price: Decimal, size: Decimal
) -> None:
    """Non-positive prices and negative sizes are refused and leave the book stale."""
    book = live_book({D(1): D(1)}, {D(2): D(1)})

    with pytest.raises(BookError):
        book.apply_update([LevelChange(BID, price, size)], sequence=11, ts_ns=2)
    assert book.stale


def test_apply_snapshot_when_price_repeats_then_book_error() -> None:
    """A snapshot listing one price twice on a side is refused."""
    with pytest.raises(BookError, match="appears twice"):
        OrderBook("X").apply_snapshot([(D(1), D(1)), (D(1), D(2))], [], sequence=1, ts_ns=0)


def test_top_of_book_when_live_then_best_prices_mid_and_age_from_last_message() -> None:
    """Top of book carries the venue time of the last applied message, so its age is known."""
    book = live_book({D("99.5"): D(1), D(99): D(2)}, {D("100.5"): D(1)})
    book.apply_update([LevelChange(ASK, D("100.25"), D(1))], sequence=11, ts_ns=7_000)

    top = book.top_of_book()

    assert top == TopOfBook(product_id="BTC-USD", bid=D("99.5"), ask=D("100.25"), as_of_ns=7_000)
    assert top.mid == book.mid == D("99.875")
    assert top.age_ns(10_000) == 3_000
    assert book.asks(depth=1) == [(D("100.25"), D(1))]


def test_top_of_book_when_a_side_is_empty_then_none() -> None:
    """No top of book without both sides."""
    book = live_book({D(1): D(1)}, {})

    assert book.top_of_book() is None
    assert book.mid is None


def test_best_when_many_levels_churn_then_still_right() -> None:
    """Thousands of add/delete cycles (heap compaction) keep the best price exact."""
    book = live_book({D(1): D(1)}, {D(10_000): D(1)})
    seq = 10
    for p in range(2, 3_000):
        seq += 1
        book.apply_update([LevelChange(BID, D(p), D(1))], seq, seq)
        seq += 1
        book.apply_update([LevelChange(BID, D(p - 1), D(0))], seq, seq)

    assert book.bids() == [(D(2_999), D(1))]
    assert book.best_bid == D(2_999)
