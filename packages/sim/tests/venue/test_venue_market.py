"""The replay as a market: schedule, laps, candles (never the future), book and ticker.

References are independent: the candle file parsed with the csv module (conftest),
pandas resampling for aggregated candles, and brute-force scans for `Replay.visible`.
"""

import asyncio
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_coinbase import BadRequest, Granularity, RestClient
from trading_coinbase import translate as t
from trading_sim.matching.model import Bar
from trading_sim.venue import Replay, ReplayError, VenueSettings, aggregate
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness

D = Decimal
NS = 10**9
CENT = D("0.01")


def bars(n: int, *, step_s: int = 60, start_s: int = 600, product: str = "BTC-USD") -> list[Bar]:
    return [
        Bar(
            product_id=product,
            open_ns=(start_s + i * step_s) * NS,
            close_ns=(start_s + (i + 1) * step_s) * NS,
            open=D(100 + i),
            high=D(102 + i),
            low=D(99 + i),
            close=D(101 + i),
            volume=D(1 + i),
        )
        for i in range(n)
    ]


# ---------------------------------------------------------------- the schedule, pure


def test_schedule_when_bar_arrives_then_due_exactly_then_and_not_one_ns_before() -> None:
    """Bar i is the market from start + (i - history) x bar_ns on, and not before."""
    replay = Replay({"BTC-USD": bars(5)}, start_ns=10 * NS, bar_ns=NS // 2, history_bars=2)
    for i in range(2, 9):
        arrival = 10 * NS + (i - 2) * NS // 2
        assert replay.arrival_ns(i) == arrival
        assert replay.due_index(arrival) == i
        assert replay.due_index(arrival - 1) == i - 1


def test_laps_when_the_file_ends_then_it_repeats_shifted_by_its_span() -> None:
    """Lap k is the file moved k x (last open - first open + step), so time keeps rising."""
    replay = Replay({"BTC-USD": bars(4)}, start_ns=0, bar_ns=NS)
    span = 4 * 60 * NS
    assert replay.bar("BTC-USD", 9) == Bar(
        product_id="BTC-USD",
        open_ns=(600 + 60) * NS + 2 * span,
        close_ns=(600 + 120) * NS + 2 * span,
        open=D(101),
        high=D(103),
        low=D(100),
        close=D(102),
        volume=D(2),
    )
    opens = [replay.bar("BTC-USD", i).open_ns for i in range(12)]
    assert opens == sorted(set(opens))


def test_engine_bar_when_restamped_then_spans_the_step_before_its_arrival() -> None:
    """The engine sees bar i on the venue clock, ending at its arrival, prices unchanged."""
    replay = Replay({"BTC-USD": bars(3)}, start_ns=50 * NS, bar_ns=NS, history_bars=1)
    engine_bar = replay.engine_bar("BTC-USD", 2)
    assert (engine_bar.open_ns, engine_bar.close_ns) == (50 * NS, 51 * NS)
    assert engine_bar.close == replay.bar("BTC-USD", 2).close


def test_align_to_start_when_set_then_the_current_bar_ends_at_the_start() -> None:
    """Aligned, the market timeline is the venue clock at the start."""
    replay = Replay({"BTC-USD": bars(3)}, start_ns=10**6 * NS, bar_ns=60 * NS, align_to_start=True)
    assert replay.market_time_ns("BTC-USD", 0) == 10**6 * NS


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=6),
    index=st.integers(min_value=-1, max_value=20),
    start=st.integers(min_value=0, max_value=2000),
    width=st.integers(min_value=0, max_value=2000),
)
def test_visible_when_any_window_then_equals_a_brute_force_scan(
    n: int, index: int, start: int, width: int
) -> None:
    """`visible` is exactly the bars 0..index (over laps) opening inside the window."""
    replay = Replay({"BTC-USD": bars(n)}, start_ns=0, bar_ns=NS)
    start_ns, end_ns = start * NS, (start + width) * NS
    expected = [
        replay.bar("BTC-USD", i)
        for i in range(index + 1)
        if start_ns <= replay.bar("BTC-USD", i).open_ns <= end_ns
    ]
    assert replay.visible("BTC-USD", index, start_ns, end_ns) == expected


def test_aggregate_when_five_minute_buckets_then_matches_pandas_resample() -> None:
    """OHLCV of 5-minute buckets equals pandas' first/max/min/last/sum resample."""
    minute_bars = bars(23, start_s=1_700_000_040)
    frame = pd.DataFrame(
        {
            "open": [float(b.open) for b in minute_bars],
            "high": [float(b.high) for b in minute_bars],
            "low": [float(b.low) for b in minute_bars],
            "close": [float(b.close) for b in minute_bars],
            "volume": [float(b.volume) for b in minute_bars],
        },
        index=pd.to_datetime([b.open_ns for b in minute_bars], unit="ns"),
    )
    reference = frame.resample("300s").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    got = aggregate(minute_bars, 300)
    assert [b.start_s for b in got] == [int(ts.value // NS) for ts in reference.index]
    assert [
        (float(b.open), float(b.high), float(b.low), float(b.close), float(b.volume)) for b in got
    ] == [tuple(row) for row in reference.itertuples(index=False)]


def test_replay_when_bars_are_unusable_then_replay_error() -> None:
    """No products, one bar, or bars without a close cannot be replayed."""
    no_close = [
        Bar(
            product_id="X-USD",
            open_ns=i * NS,
            open=D(1),
            high=D(1),
            low=D(1),
            close=D(1),
            volume=D(0),
        )
        for i in range(3)
    ]
    for series in ({}, {"X-USD": bars(1)}, {"X-USD": no_close}):
        with pytest.raises(ReplayError):
            Replay(series, start_ns=0, bar_ns=NS)


# ---------------------------------------------------------------- served


def served(series: dict[str, Any], key_pair: KeyPair, scenario: Any, **overrides: Any) -> None:
    async def go() -> None:
        chosen = VenueSettings(key_name=KEY_NAME, **overrides)
        async with harness(series, settings=chosen, key_pair=key_pair) as h, h.rest() as client:
            await scenario(h, client)

    asyncio.run(go())


def test_candles_when_asked_for_everything_then_never_a_bar_past_the_replay_clock(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """With bars 0..3 replayed, candles are exactly rows 3..0; 2.5 bars later, rows 5..0."""

    async def candles(client: RestClient) -> list[tuple[int, Decimal, Decimal]]:
        reply = await client.get_candles(
            "BTC-USD", start_s=rows[0].ts, end_s=rows[-1].ts, granularity=Granularity.ONE_MINUTE
        )
        return [(int(c.start), D(c.open), D(c.close)) for c in reply.candles]

    def expected(last: int) -> list[tuple[int, Decimal, Decimal]]:
        return [(r.ts, r.open, r.close) for r in rows[: last + 1]][::-1]

    async def scenario(h: Harness, client: RestClient) -> None:
        assert await candles(client) == expected(3)
        h.clock.advance(2.5)
        assert await candles(client) == expected(5)
        async with h.rest(keyless=True) as public:
            assert [
                int(c.start)
                for c in (
                    await public.get_candles(
                        "BTC-USD",
                        start_s=rows[0].ts,
                        end_s=rows[-1].ts,
                        granularity=Granularity.ONE_MINUTE,
                    )
                ).candles
            ] == [r.ts for r in rows[:6]][::-1]

    served(series, key_pair, scenario, history_bars=3)


def test_candles_when_coarser_granularity_then_buckets_with_the_forming_one_last(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """FIVE_MINUTE over 7 replayed minutes: the first full bucket, then the forming one."""

    async def scenario(h: Harness, client: RestClient) -> None:
        reply = await client.get_candles(
            "BTC-USD",
            start_s=rows[0].ts - 300,
            end_s=rows[0].ts + 3000,
            granularity=Granularity.FIVE_MINUTE,
        )
        got = t.candles(reply)
        replayed = rows[:7]
        buckets: dict[int, list[Any]] = {}
        for r in replayed:
            buckets.setdefault(r.ts // 300 * 300, []).append(r)
        want = [
            (start * NS, g[0].open, max(x.high for x in g), min(x.low for x in g), g[-1].close)
            for start, g in sorted(buckets.items())
        ]
        assert [(c.start_ns, c.open, c.high, c.low, c.close) for c in got] == want

    served(series, key_pair, scenario, history_bars=6)


def test_candles_when_window_too_wide_or_granularity_too_fine_then_400(
    key_pair: KeyPair,
) -> None:
    """351 buckets, or ONE_MINUTE over 15-minute data, are INVALID_ARGUMENT."""

    async def scenario(h: Harness, client: RestClient) -> None:
        async with httpx.AsyncClient(base_url=h.venue.base_url) as raw:
            wide = await raw.get(
                "/api/v3/brokerage/market/products/BTC-USD/candles",
                params={"start": "0", "end": str(351 * 900), "granularity": "FIFTEEN_MINUTE"},
            )
        with pytest.raises(BadRequest, match="finer"):
            await client.get_candles(
                "BTC-USD", start_s=0, end_s=600, granularity=Granularity.ONE_MINUTE
            )
        assert wide.status_code == 400
        assert wide.json()["error"] == "INVALID_ARGUMENT"

    served({"BTC-USD": bars(10, step_s=900)}, key_pair, scenario)


def test_stale_fault_when_set_then_the_market_stands_still_until_unset(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """Stale: no bar arrives however far the clock moves; unset, the missed bars arrive."""

    async def last_close(client: RestClient) -> Decimal:
        return D((await client.get_product_book("BTC-USD")).last)

    async def scenario(h: Harness, client: RestClient) -> None:
        h.set_faults(stale=True)
        h.clock.advance(5.0)
        assert await last_close(client) == rows[0].close
        h.set_faults(stale=False)
        assert await last_close(client) == rows[5].close

    served(series, key_pair, scenario)


def test_book_when_a_bar_is_the_market_then_one_level_each_side_of_the_close(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """Bid and ask are close x (1 -+ 1 bp) on the cent; the size is 10 % of the volume."""
    close = rows[2].close
    bid = (close * D("0.9999")).quantize(CENT, rounding=ROUND_FLOOR)
    ask = (close * D("1.0001")).quantize(CENT, rounding=ROUND_CEILING)

    async def scenario(h: Harness, client: RestClient) -> None:
        h.next_bar(2)
        book = t.book(await client.get_product_book("BTC-USD"))
        best = (await client.get_best_bid_ask(["BTC-USD"])).pricebooks[0]
        ticker = await client.get_market_trades("BTC-USD", limit=2)

        assert [(lv.price, lv.size) for lv in book.bids] == [(bid, rows[2].volume / 10)]
        assert [(lv.price, lv.size) for lv in book.asks] == [(ask, rows[2].volume / 10)]
        assert (book.mid, book.last) == ((bid + ask) / 2, close)
        assert (D(best.bids[0].price), D(best.asks[0].price)) == (bid, ask)
        assert [(D(x.price), D(x.size)) for x in ticker.trades] == [
            (rows[2].close, rows[2].volume),
            (rows[1].close, rows[1].volume),
        ]
        assert (D(ticker.best_bid), D(ticker.best_ask)) == (bid, ask)

    served(series, key_pair, scenario)


def test_products_when_listed_then_the_engine_increments_and_the_last_price(
    series: dict[str, Any], key_pair: KeyPair, rows: list[Any]
) -> None:
    """Products carry the engine's increments (min size one increment) and the last close."""

    async def scenario(h: Harness, client: RestClient) -> None:
        listed = await client.list_products()
        rules = t.product_rules(await client.get_product("BTC-USD"))
        futures = await client.list_products(product_type="FUTURE")

        assert [p.product_id for p in listed.products] == ["BTC-USD"]
        assert (rules.price_increment, rules.base_increment, rules.base_min_size) == (
            D("0.01"),
            D("1e-8"),
            D("1e-8"),
        )
        assert (rules.price, rules.status, rules.trading_disabled) == (
            rows[0].close,
            "online",
            False,
        )
        assert futures.products == ()

    served(series, key_pair, scenario)
