"""The agent's live candle source against the loopback Coinbase venue: the real public
REST and websocket protocol, no keys."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import trading_sim as sim
from trading_agent.domain.market import Candle
from trading_agent.marketdata.live import LiveCandles, LiveTradeBars
from trading_coinbase.translate import Granularity
from trading_sim.venue import VenueSettings
from trading_sim.venue.testing import KEY_NAME, Harness, harness

REPO_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BARS = sim.read_bars(sim.bundled_bars_path("BTC-USD"), "BTC-USD")[:400]
HISTORY = 100  # bars already traded when the venue starts
WARMUP = 30


async def _collect(h: Harness, steps: int, faults: dict[str, int] | None = None) -> list[Candle]:
    """Follow the live source while the venue trades `steps` more bars."""
    got: list[Candle] = []
    async with h.rest(keyless=True) as rest:
        source = LiveCandles(
            rest=rest,
            feed=h.market_feed(),
            products=["BTC-USD"],
            granularity=Granularity.FIFTEEN_MINUTE,
            history_bars=WARMUP,
        )

        async def follow(candles: AsyncIterator[Candle]) -> None:
            async for candle in candles:
                got.append(candle)

        task = asyncio.create_task(follow(aiter(source)))
        try:
            await _until(lambda: len(got) >= WARMUP)
            for step in range(steps):
                if faults and step == steps // 2:
                    h.set_faults(**faults)
                h.next_bar()
                expected = WARMUP + step + 1
                await _until(lambda n=expected: len(got) >= n)  # type: ignore[misc]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return got


async def _until(condition: object, timeout_s: float = 10.0) -> None:
    """Poll: the source has no event to wait on, and that is the point of the test."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _expected(first: int, count: int) -> list[tuple[int, object, object, object, object]]:
    return [(b.open_ns, b.open, b.high, b.low, b.close) for b in BARS[first : first + count]]


def _seen(candles: list[Candle]) -> list[tuple[int, object, object, object, object]]:
    return [(c.start_ns, c.open, c.high, c.low, c.close) for c in candles]


def test_live_when_following_the_venue_then_history_then_each_bar_as_it_completes() -> None:
    """The warm-up history comes over REST, then every completed bar once, in order,
    equal to the recorded file; the forming bar is never delivered."""
    settings = VenueSettings(key_name=KEY_NAME, history_bars=HISTORY, bar_seconds=60.0)

    async def scenario() -> list[Candle]:
        async with harness({"BTC-USD": BARS}, settings=settings) as h:
            return await _collect(h, steps=5)

    got = asyncio.run(scenario())

    # Bars 0..HISTORY-1 have traded; the venue's current candle (index HISTORY) counts
    # as forming until the next one starts, as a live candle would.
    first = HISTORY - WARMUP
    assert _seen(got) == _expected(first, WARMUP + 5)


def test_live_when_the_stream_drops_then_the_missed_bars_come_from_rest_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A dropped websocket and a sequence gap lose nothing and repeat nothing."""
    caplog.set_level(logging.WARNING, logger="trading_agent.marketdata.live")
    settings = VenueSettings(key_name=KEY_NAME, history_bars=HISTORY, bar_seconds=60.0)

    async def scenario() -> list[Candle]:
        async with harness({"BTC-USD": BARS}, settings=settings) as h:
            return await _collect(h, steps=8, faults={"ws_drop_next": 1, "ws_gap_next": 1})

    got = asyncio.run(scenario())

    first = HISTORY - WARMUP
    assert _seen(got) == _expected(first, WARMUP + 8)
    reconnects = [r.getMessage() for r in caplog.records]
    assert any("sequence gap" in m or "session ended" in m for m in reconnects), reconnects


MINUTE_BARS = sim.read_bars(
    REPO_DATA / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz", "BTC-USD"
)[:300]


def test_trade_bars_when_following_trades_then_history_then_bars_built_from_trades(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1-minute bars from the trade stream: the warm-up and the bucket joined mid-way
    come from REST (the recorded bars), later ones are built from the venue's trades
    (its one trade per replayed bar: the bar's volume at its close, at its end), in
    order, never twice, across a dropped stream."""
    caplog.set_level(logging.WARNING, logger="trading_agent.marketdata.live")
    settings = VenueSettings(key_name=KEY_NAME, history_bars=HISTORY, bar_seconds=60.0)
    by_end = {b.close_ns: b for b in MINUTE_BARS}

    async def scenario() -> list[Candle]:
        got: list[Candle] = []
        async with (
            harness({"BTC-USD": MINUTE_BARS}, settings=settings) as h,
            h.rest(keyless=True) as rest,
        ):
            source = LiveTradeBars(
                rest=rest, feed=h.market_feed(), products=["BTC-USD"], history_bars=WARMUP
            )

            async def follow() -> None:
                async for candle in source:
                    got.append(candle)

            task = asyncio.create_task(follow())
            try:
                await _until(lambda: len(got) >= WARMUP)
                for step in range(8):
                    if step == 4:
                        h.set_faults(ws_drop_next=1)
                    h.next_bar()
                    await asyncio.sleep(0.05)
                await _until(lambda: len(got) >= WARMUP + 6)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return got

    got = asyncio.run(scenario())

    starts = [c.start_ns for c in got]
    assert starts == sorted(set(starts))  # in order, never twice
    assert all(s % 60_000_000_000 == 0 for s in starts)
    recorded = {b.open_ns: b for b in MINUTE_BARS}
    history = got[:WARMUP]
    assert [(c.open, c.close) for c in history] == [
        (recorded[c.start_ns].open, recorded[c.start_ns].close) for c in history
    ]
    built = [c for c in got[WARMUP:] if c.open == c.close == c.high == c.low]
    assert built, got[WARMUP:]
    for candle in built:  # the trade of the bar that ended inside this bucket
        source_bar = by_end[candle.start_ns]
        assert (candle.close, candle.volume) == (source_bar.close, source_bar.volume)
