"""The one clock protocol: every time the gate uses arrives as integer ns from here."""

from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Wall-clock time, integer nanoseconds since the Unix epoch, UTC."""
        ...

    def monotonic_ns(self) -> int:
        """A clock that never goes backwards, for timeouts and rate windows."""
        ...
