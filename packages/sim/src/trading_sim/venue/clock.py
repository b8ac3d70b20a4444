"""The venue's wall clock, injected: the system's in the process, a manual one in tests.

Everything the venue stamps (orders, fills, frames, `GET /time`) and every check it
makes against time (JWT `nbf`/`exp`, rate buckets, the replay schedule) reads this one
clock, so a test that moves a `ManualClock` moves the whole venue with it.
"""

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]

_NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """Epoch nanoseconds now."""

    def now_ns(self) -> int: ...


class SystemClock:
    """The machine's wall clock (UTC epoch ns), for the venue as a process."""

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told to, and never backwards.

    Raises:
        ValueError: a negative step, or `set` to a time before now.
    """

    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def now_s(self) -> float:
        """Now in float seconds, the shape `trading_coinbase.Signer` takes as its clock."""
        return self._now_ns / _NS_PER_S

    def advance(self, seconds: float) -> None:
        """Move forward by `seconds` (rounded to the nanosecond)."""
        if seconds < 0:
            raise ValueError(f"a manual clock cannot go back ({seconds} s)")
        self._now_ns += round(seconds * _NS_PER_S)

    def set(self, now_ns: int) -> None:
        """Jump to `now_ns`, which must not be in the past."""
        if now_ns < self._now_ns:
            raise ValueError(f"a manual clock cannot go back to {now_ns} from {self._now_ns}")
        self._now_ns = now_ns
