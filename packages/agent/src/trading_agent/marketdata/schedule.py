"""Paper mode's market until the loopback Coinbase server exists: the gate's published
replay schedule (data/run/market.json, written by `trading-gate run --exchange paper`).

The gate feeds bar i of each bundled file to its paper venue at start + i x bar_seconds;
`ScheduledReplay` yields the same candle, shifted the same way, a little after that
moment (`lag_s`), so the gate's reference mid is the close the agent decides on. The
file's shape mirrors the gate's `MarketSchedule`; the agent cannot import the gate.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Final

import msgspec

from trading_agent.domain.market import Candle
from trading_agent.marketdata.replay import read_candle_csv

__all__ = ["MarketSchedule", "ScheduleError", "ScheduledProduct", "ScheduledReplay"]

DEFAULT_LAG_S: Final = 0.1


class ScheduleError(Exception):
    """The schedule file is missing or unreadable; the message says which and why."""


class ScheduledProduct(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    lap_shift_ns: int
    base_increment: Decimal
    base_min_size: Decimal


class MarketSchedule(msgspec.Struct, frozen=True, kw_only=True):
    start_wall_ns: int
    bar_seconds: float
    bars_per_lap: int
    products: dict[str, ScheduledProduct]


def read_schedule(path: Path) -> MarketSchedule:
    """Raises ScheduleError naming the file."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=MarketSchedule)
    except (OSError, msgspec.DecodeError) as exc:
        raise ScheduleError(f"{path}: cannot read the paper market schedule: {exc}") from exc


class ScheduledReplay:
    """An async candle source following the gate's schedule, in completion order."""

    def __init__(
        self,
        schedule: MarketSchedule,
        *,
        lag_s: float = DEFAULT_LAG_S,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.schedule = schedule
        self._lag_s = lag_s
        self._now_ns = now_ns
        self._series = {
            p: read_candle_csv(Path(s.file), p)[: schedule.bars_per_lap]
            for p, s in sorted(schedule.products.items())
        }

    def __aiter__(self) -> AsyncIterator[Candle]:
        return self._candles()

    async def _candles(self) -> AsyncIterator[Candle]:
        s = self.schedule
        # Join where the gate is now: bars already shown are history, not news.
        elapsed = (self._now_ns() - s.start_wall_ns) / 1e9
        index = max(0, int(elapsed / s.bar_seconds))
        while True:
            due = s.start_wall_ns / 1e9 + index * s.bar_seconds + self._lag_s
            await asyncio.sleep(max(0.0, due - self._now_ns() / 1e9))
            lap, position = divmod(index, s.bars_per_lap)
            for product, candles in self._series.items():
                shift = lap * s.products[product].lap_shift_ns
                candle = candles[position]
                yield (
                    candle
                    if not shift
                    else msgspec.structs.replace(candle, start_ns=candle.start_ns + shift)
                )
            index += 1
