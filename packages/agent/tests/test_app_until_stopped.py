"""`trading-agent run` stops its trading loop at `--duration` or on SIGTERM, whatever the
loop is doing, and a loop that fails fails the run."""

import asyncio
import os
import signal
import time

import pytest

from trading_agent.app import _until_stopped


async def _forever(finished: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        finished.append("cancelled")
        raise


def test_until_stopped_when_duration_passes_then_work_cancelled_and_awaited() -> None:
    """The work is cancelled at the duration and has finished when the call returns."""
    finished: list[str] = []
    started = time.monotonic()
    asyncio.run(_until_stopped(_forever(finished), 0.05))
    assert finished == ["cancelled"]
    assert time.monotonic() - started < 5


def test_until_stopped_when_sigterm_then_work_cancelled() -> None:
    """SIGTERM cancels the work; the call returns instead of raising."""
    finished: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await _until_stopped(_forever(finished), None)

    asyncio.run(main())
    assert finished == ["cancelled"]


def test_until_stopped_when_work_fails_then_its_error_is_raised() -> None:
    """A failing loop is not mistaken for a stop."""

    async def failing() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("the market source broke")

    with pytest.raises(RuntimeError, match="market source broke"):
        asyncio.run(_until_stopped(failing(), 10))


def test_until_stopped_when_work_ends_first_then_returns_at_once() -> None:
    """Work that ends before the duration ends the call."""
    started = time.monotonic()
    asyncio.run(_until_stopped(asyncio.sleep(0), 3600))
    assert time.monotonic() - started < 5
