"""Sliding-window message throttles as immutable values (RELIABILITY §2, RTS 6 Art 15).

A window admits at most `limit` events in any interval of `window_ns`. The interval is
half-open: at time `now` it holds the events in (now - window_ns, now], so an event
exactly `window_ns` old has already left it, and with limit 1 events at t and
t + window_ns are both admitted. Times are monotonic ns; a denied attempt is not
counted, so hammering a full window does not keep it shut.
"""

from bisect import bisect_right

import msgspec

__all__ = ["SlidingWindow", "admit"]


class SlidingWindow(msgspec.Struct, frozen=True, kw_only=True):
    """A throttle's limit, window and the admitted events still inside the window."""

    limit: int
    window_ns: int
    # Ascending admit times, at most `limit` of them: the only events that still count.
    admitted_ns: tuple[int, ...] = ()
    # The latest time seen, admitted or not: a clock that steps back is held here.
    last_ns: int | None = None

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a throttle limit must be >= 1, got {self.limit}")
        if self.window_ns < 1:
            raise ValueError(f"a throttle window must be >= 1 ns, got {self.window_ns}")


def admit(state: SlidingWindow, now_ns: int) -> tuple[bool, SlidingWindow]:
    """Whether an event at `now_ns` is admitted, and the window after the attempt.

    A `now_ns` earlier than one already seen counts as that later time, so a clock
    stepping back can never reopen a full window.
    """
    now = now_ns if state.last_ns is None else max(now_ns, state.last_ns)
    # Keep only the events newer than now - window_ns: half-open, see the module doc.
    kept = state.admitted_ns[bisect_right(state.admitted_ns, now - state.window_ns) :]
    if len(kept) < state.limit:
        return True, msgspec.structs.replace(state, admitted_ns=(*kept, now), last_ns=now)
    return False, msgspec.structs.replace(state, admitted_ns=kept, last_ns=now)
