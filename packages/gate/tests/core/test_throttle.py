"""Sliding-window throttles: exactly N per window, half-open, and safe on a backwards clock."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_gate.core.throttle import SlidingWindow, admit

T0 = 5_000_000_000  # a monotonic reading, ns
SECOND = 1_000_000_000


def run(window: SlidingWindow, times: list[int]) -> tuple[list[bool], SlidingWindow]:
    verdicts = []
    for now in times:
        admitted, window = admit(window, now)
        verdicts.append(admitted)
    return verdicts, window


def test_admit_when_burst_of_n_plus_one_in_window_then_exactly_n_admitted() -> None:
    """101 attempts within one window at 100 per second: 100 through, the last denied."""
    window = SlidingWindow(limit=100, window_ns=SECOND)
    times = [T0 + n * (SECOND // 101) for n in range(101)]

    verdicts, _ = run(window, times)

    assert verdicts == [True] * 100 + [False]


def test_admit_when_same_instant_burst_then_limit_admitted() -> None:
    """Simultaneous attempts count like any others."""
    verdicts, _ = run(SlidingWindow(limit=3, window_ns=SECOND), [T0] * 4)

    assert verdicts == [True, True, True, False]


@pytest.mark.parametrize(("offset", "expected"), [(SECOND - 1, False), (SECOND, True)])
def test_admit_when_oldest_event_at_window_boundary_then_half_open(
    offset: int, expected: bool
) -> None:
    """An event exactly window_ns old has left the window; 1 ns younger still counts."""
    _, full = run(SlidingWindow(limit=2, window_ns=SECOND), [T0, T0 + 1])

    admitted, _ = admit(full, T0 + offset)

    assert admitted is expected


def test_admit_when_window_rolls_over_then_admits_again() -> None:
    """After a whole window has passed, a full burst is admitted again."""
    _, full = run(SlidingWindow(limit=3, window_ns=SECOND), [T0] * 3)

    verdicts, _ = run(full, [T0 + SECOND] * 4)

    assert verdicts == [True, True, True, False]


def test_admit_when_denied_then_attempt_not_counted() -> None:
    """Hammering a full window does not extend it: denials leave no timestamps."""
    _, full = run(SlidingWindow(limit=1, window_ns=SECOND), [T0])

    verdicts, after = run(full, [T0 + 10, T0 + SECOND // 2, T0 + SECOND - 1, T0 + SECOND])

    assert verdicts == [False, False, False, True]
    assert after.admitted_ns == (T0 + SECOND,)


def test_admit_when_clock_steps_back_then_treated_as_last_seen() -> None:
    """A reading earlier than one seen counts as that later time: no extra admits."""
    window = SlidingWindow(limit=2, window_ns=100)

    verdicts, after = run(window, [1000, 0, 1050, 1099, 1100])

    # 0 counts as 1000, so 1050 and 1099 fall in a window holding two; 1100 is clear.
    assert verdicts == [True, True, False, False, True]
    assert after.last_ns == 1100


def test_admit_when_denied_after_step_back_then_last_seen_kept() -> None:
    """A denied attempt still records the latest time, so the next step back is held."""
    _, full = run(SlidingWindow(limit=1, window_ns=100), [1000])

    verdicts, after = run(full, [1090, 10, 1099])

    assert verdicts == [False, False, False]
    assert after.last_ns == 1099


@pytest.mark.parametrize(("limit", "window_ns"), [(0, SECOND), (-1, SECOND), (1, 0), (1, -5)])
def test_sliding_window_when_limit_or_window_not_positive_then_value_error(
    limit: int, window_ns: int
) -> None:
    """A throttle that admits nothing or has no window is a configuration bug."""
    with pytest.raises(ValueError, match="throttle"):
        SlidingWindow(limit=limit, window_ns=window_ns)


steps = st.lists(st.integers(min_value=-50, max_value=80), min_size=1, max_size=200)


@given(st.integers(1, 8), st.integers(1, 200), steps)
def test_admit_when_any_sequence_then_no_window_holds_more_than_limit(
    limit: int, window_ns: int, deltas: list[int]
) -> None:
    """Over random times, some going back: any window_ns holds at most `limit` admits,
    and an attempt is denied only when its window already holds `limit`."""
    times, now = [], T0
    for delta in deltas:
        now += delta
        times.append(now)
    window = SlidingWindow(limit=limit, window_ns=window_ns)
    effective = [max(times[: i + 1]) for i in range(len(times))]

    verdicts, _ = run(window, times)

    admitted = [t for t, ok in zip(effective, verdicts, strict=True) if ok]
    for t, ok in zip(effective, verdicts, strict=True):
        in_window = sum(1 for a in admitted if t - window_ns < a <= t)
        assert in_window <= limit
        assert ok or in_window == limit
