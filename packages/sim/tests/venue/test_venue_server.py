"""`serve_venue` ends cleanly: a failing poll is raised, and a cancel is never swallowed."""

import asyncio

import pytest

from trading_sim.matching.model import Bar
from trading_sim.venue.clock import ManualClock
from trading_sim.venue.config import VenueSettings
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.server import build_exchange, serve_venue
from trading_sim.venue.testing import KEY_NAME


def _exchange(series: dict[str, list[Bar]]) -> Exchange:
    start = series["BTC-USD"][0].open_ns
    return build_exchange(VenueSettings(key_name=KEY_NAME), series, ManualClock(start))


def test_serve_venue_when_poll_fails_then_its_error_is_raised_at_exit(
    series: dict[str, list[Bar]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing poll is a bug: the server stops and leaving the block raises it."""

    async def broken(self: Exchange) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("poll broke")

    monkeypatch.setattr(Exchange, "poll", broken)

    async def go() -> None:
        async with serve_venue(_exchange(series)):
            await asyncio.sleep(0.2)

    with pytest.raises(RuntimeError, match="poll broke"):
        asyncio.run(go())


def test_serve_venue_when_cancelled_while_the_poll_stops_then_cancelled(
    series: dict[str, list[Bar]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's cancel, arriving while the block waits for the poll to stop, is the
    caller's: it is not taken for the poll's own cancel and dropped.

    The poll takes 1 s to stop and the cancel comes 0.5 s into that, long after uvicorn
    (no connections) has shut down. Were the server slower, the cancel would reach it
    instead and the test would pass without testing: it cannot fail wrongly."""
    stopping = asyncio.Event()

    async def slow_to_stop(self: Exchange) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            stopping.set()
            await asyncio.sleep(1.0)
            raise

    monkeypatch.setattr(Exchange, "poll", slow_to_stop)
    after: list[str] = []

    async def served() -> None:
        async with serve_venue(_exchange(series)):
            await asyncio.sleep(0)
        after.append("went on after the block")

    async def go() -> bool:
        task = asyncio.create_task(served())
        await stopping.wait()
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.wait({task})
        return task.cancelled()

    assert asyncio.run(go())
    assert after == []
