"""BarBuilder: trades into candles equal to a groupby; empty minutes, repeats, late trades."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.candles import CandleSeries
from trading_agent.marketdata.trade_bars import BarBuilder, BarStats, Trade

T0_NS = 1_704_067_200 * NS_PER_S  # on the minute grid
MINUTE_NS = 60 * NS_PER_S
END_OF_TIME = T0_NS + 10**6 * MINUTE_NS


def trade(trade_id: str, ts_ns: int, price: str = "100", size: str = "1") -> Trade:
    return Trade(
        product_id="BTC-USD",
        trade_id=trade_id,
        price=Decimal(price),
        size=Decimal(size),
        ts_ns=ts_ns,
    )


def feed(builder: BarBuilder, trades: list[Trade]) -> list[Candle]:
    out = [c for t in trades if (c := builder.add(t)) is not None]
    last = builder.close_until(END_OF_TIME)
    return out + ([] if last is None else [last])


@st.composite
def trade_stream(draw: st.DrawFn) -> list[Trade]:
    """Trades in arrival order: buckets never go back, times inside a bucket may."""
    minutes = sorted(draw(st.lists(st.integers(0, 30), min_size=1, max_size=60)))
    trades = []
    for i, minute in enumerate(minutes):
        offset = draw(st.integers(0, 2) | st.integers(0, MINUTE_NS - 1))  # ties too
        price = Decimal(draw(st.integers(1, 10**6))).scaleb(-2)
        size = Decimal(draw(st.integers(1, 10**8))).scaleb(-8)
        trades.append(trade(str(i), T0_NS + minute * MINUTE_NS + offset, str(price), str(size)))
    return trades


def reference_bars(trades: list[Trade]) -> list[tuple[object, ...]]:
    """Plain-python groupby: open/close by ts with arrival order breaking ties."""
    buckets: dict[int, list[tuple[int, int, Trade]]] = {}
    for arrival, t in enumerate(trades):
        buckets.setdefault(t.ts_ns // MINUTE_NS, []).append((t.ts_ns, arrival, t))
    rows: list[tuple[object, ...]] = []
    for key in sorted(buckets):
        ordered = [t for _, _, t in sorted(buckets[key])]
        rows.append(
            (
                key * MINUTE_NS,
                ordered[0].price,
                max(t.price for t in ordered),
                min(t.price for t in ordered),
                ordered[-1].price,
                sum((t.size for t in ordered), Decimal(0)),
            )
        )
    return rows


@given(trade_stream())
def test_add_when_random_trades_then_bars_equal_reference_groupby(trades: list[Trade]) -> None:
    """Every bar's OHLC equals the groupby and its volume is the exact Decimal sum."""
    builder = BarBuilder("BTC-USD", 60)

    bars = feed(builder, trades)

    assert [(c.start_ns, c.open, c.high, c.low, c.close, c.volume) for c in bars] == (
        reference_bars(trades)
    )
    assert builder.stats == BarStats(accepted=len(trades))
    assert sum((c.volume for c in bars), Decimal(0)) == sum((t.size for t in trades), Decimal(0))


@given(trade_stream(), st.data())
def test_add_when_trades_repeated_then_dropped_and_counted(
    trades: list[Trade], data: st.DataObject
) -> None:
    """Repeats of a trade id (re-sent soon after) change no bar and are counted."""
    repeat = data.draw(st.lists(st.booleans(), min_size=len(trades), max_size=len(trades)))
    stream = [x for t, again in zip(trades, repeat, strict=True) for x in [t] * (1 + again)]

    bars = feed(builder := BarBuilder("BTC-USD", 60), stream)

    assert bars == feed(BarBuilder("BTC-USD", 60), trades)
    assert builder.stats.duplicates == sum(repeat)


def test_add_when_minutes_have_no_trades_then_no_candle_and_series_shows_the_gap() -> None:
    """Trades in minutes 0 and 3 give two candles; minutes 1-2 stay a visible gap."""
    builder = BarBuilder("BTC-USD", 60)

    first = builder.add(trade("a", T0_NS + 5))
    done = builder.add(trade("b", T0_NS + 3 * MINUTE_NS + 5))
    last = builder.close_until(T0_NS + 4 * MINUTE_NS)

    assert first is None
    assert done is not None
    assert last is not None
    series = CandleSeries.from_candles([done, last])
    assert [(g.start_ns, g.missing) for g in series.gaps] == [(T0_NS + MINUTE_NS, 2)]


def test_add_when_trade_older_than_open_bucket_then_late_and_not_merged() -> None:
    """A trade from a closed minute is refused, counted with its size, and no bar moves."""
    builder = BarBuilder("BTC-USD", 60)
    builder.add(trade("a", T0_NS + 10, price="100"))
    closed = builder.add(trade("b", T0_NS + MINUTE_NS + 10, price="101"))

    late = builder.add(trade("c", T0_NS + 20, price="999", size="2.5"))
    current = builder.close_until(T0_NS + 2 * MINUTE_NS)

    assert late is None
    assert builder.stats == BarStats(accepted=2, late=1, late_volume=Decimal("2.5"))
    assert closed is not None
    assert (closed.high, closed.volume) == (Decimal(100), Decimal(1))
    assert current is not None
    assert current.high == Decimal(101)


def test_close_until_when_bucket_not_over_then_nothing_and_at_its_end_the_candle() -> None:
    """The open bar comes out exactly when the clock reaches its end, not a ns before."""
    builder = BarBuilder("BTC-USD", 60)
    builder.add(trade("a", T0_NS + 10))

    assert builder.close_until(T0_NS + MINUTE_NS - 1) is None
    candle = builder.close_until(T0_NS + MINUTE_NS)

    assert candle is not None
    assert candle.end_ns == T0_NS + MINUTE_NS
    assert builder.open_bucket_start_ns is None


def test_close_until_when_clock_moved_on_then_older_trades_are_late() -> None:
    """After close_until(now) a trade stamped before now's bucket cannot start a bar."""
    builder = BarBuilder("BTC-USD", 60)
    builder.close_until(T0_NS + 5 * MINUTE_NS + 30 * NS_PER_S)

    builder.add(trade("a", T0_NS + 4 * MINUTE_NS + 59 * NS_PER_S))
    builder.add(trade("b", T0_NS + 5 * MINUTE_NS))

    assert builder.stats == BarStats(accepted=1, late=1, late_volume=Decimal(1))
    assert builder.open_bucket_start_ns == T0_NS + 5 * MINUTE_NS


def test_add_when_repeat_outlives_the_dedupe_window_then_refused_as_late() -> None:
    """A very old repeat is still refused (as late), never merged into a new bar."""
    builder = BarBuilder("BTC-USD", 60, dedupe_buckets=1)
    builder.add(trade("a", T0_NS))
    builder.add(trade("b", T0_NS + 5 * MINUTE_NS))

    builder.add(trade("a", T0_NS))

    assert builder.stats == BarStats(accepted=2, late=1, late_volume=Decimal(1))


def test_add_when_other_product_then_value_error() -> None:
    """A trade of another product is a wiring bug, not data."""
    other = Trade(product_id="ETH-USD", trade_id="x", price=Decimal(1), size=Decimal(1), ts_ns=0)
    with pytest.raises(ValueError, match="ETH-USD, not BTC-USD"):
        BarBuilder("BTC-USD").add(other)


@pytest.mark.parametrize(("price", "size"), [("0", "1"), ("1", "0"), ("-1", "1"), ("NaN", "1")])
def test_trade_when_price_or_size_not_positive_then_value_error(price: str, size: str) -> None:
    """Trades need a positive finite price and size."""
    with pytest.raises(ValueError, match="must be positive"):
        trade("x", T0_NS, price=price, size=size)
