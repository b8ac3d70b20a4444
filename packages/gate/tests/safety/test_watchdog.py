"""The dead man's watchdog on real threads, and the halt latch the decision path reads.

Timeouts are small (0.2 s, ticks of 0.01 s) so the suite stays fast. Delay bounds are
generous for CI: a firing must come within timeout + 250 ms (G13), and an EOF within
50 ms.
"""

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from trading_gate.core.deadman import CancelAll, DeadManAction, Halt
from trading_gate.core.trading_state import Cause
from trading_gate.watchdog import DeadMansWatchdog, HaltLatch

TIMEOUT_S = 0.2
TICK_S = 0.01
MS = 1_000_000
TIMEOUT_NS = round(TIMEOUT_S * 1e9)
SLACK_NS = 250 * MS


class Firings:
    """An on_fire that records each firing's actions, its time and its thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[tuple[DeadManAction, ...], int, str]] = []
        self.event = threading.Event()

    def __call__(self, actions: tuple[DeadManAction, ...]) -> None:
        with self.lock:
            self.calls.append((actions, time.monotonic_ns(), threading.current_thread().name))
        self.event.set()

    def wait(self, timeout_s: float = 2.0) -> int:
        """Block until the first firing; its monotonic time."""
        assert self.event.wait(timeout_s), "the watchdog never fired"
        return self.at(0)

    def at(self, n: int) -> int:
        with self.lock:
            return self.calls[n][1]

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.calls)


@pytest.fixture
def fired() -> Firings:
    return Firings()


@pytest.fixture
def watchdog(fired: Firings) -> Iterator[DeadMansWatchdog]:
    dog = DeadMansWatchdog(timeout_s=TIMEOUT_S, tick_s=TICK_S, on_fire=fired)
    dog.start()
    yield dog
    dog.stop()


# ---------------------------------------------------------------- when it must not fire


def test_watchdog_when_never_armed_then_never_fires(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """Before a handshake there is nothing to guard: silence, heartbeats and EOF do nothing."""
    watchdog.heartbeat()
    watchdog.disconnect("EOF before handshake")

    time.sleep(2 * TIMEOUT_S)

    assert fired.count == 0
    assert not watchdog.armed


def test_watchdog_when_heartbeats_every_50ms_for_500ms_then_no_fire(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """Heartbeats well inside the timeout keep it quiet."""
    watchdog.arm()
    end = time.monotonic() + 0.5

    while time.monotonic() < end:
        time.sleep(0.05)
        watchdog.heartbeat()

    assert fired.count == 0
    assert not watchdog.fired


# ---------------------------------------------------------------- when it must fire


def test_watchdog_when_silent_then_fires_once_within_timeout_plus_slack(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """Silence after the last heartbeat fires halt then cancel-all on the watchdog thread."""
    watchdog.arm()
    time.sleep(0.05)
    watchdog.heartbeat()
    last_heartbeat_ns = time.monotonic_ns()

    delay_ns = fired.wait() - last_heartbeat_ns
    time.sleep(3 * TIMEOUT_S)

    assert TIMEOUT_NS <= delay_ns <= TIMEOUT_NS + SLACK_NS
    assert fired.count == 1
    ((halt, cancel_all), _, thread) = fired.calls[0]
    assert isinstance(halt, Halt)
    assert halt.cause is Cause.DEAD_MAN
    assert isinstance(cancel_all, CancelAll)
    assert thread == "dead-mans-watchdog"
    assert watchdog.fired


def test_watchdog_when_disconnected_then_fires_within_50ms(fired: Firings) -> None:
    """EOF fires at once (the thread is woken, no tick wait), naming the reason."""
    slow = DeadMansWatchdog(timeout_s=60.0, tick_s=10.0, on_fire=fired, name="slow-ticks")
    slow.start()
    try:
        slow.arm()
        before_ns = time.monotonic_ns()
        slow.disconnect("EOF on agent socket")

        delay_ns = fired.wait() - before_ns
        assert slow.fired  # marked fired by disconnect() itself
    finally:
        slow.stop()

    assert delay_ns <= 50 * MS
    ((halt, cancel_all), _, thread) = fired.calls[0]
    assert isinstance(halt, Halt)
    assert halt.cause is Cause.AGENT_DISCONNECTED
    assert halt.detail.endswith(": EOF on agent socket")
    assert isinstance(cancel_all, CancelAll)
    assert cancel_all.reason.endswith(": EOF on agent socket")
    assert thread == "slow-ticks"
    assert fired.count == 1


def test_watchdog_when_event_loop_blocked_by_sleep_then_fires_before_it_wakes(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """G14: the loop thread is stuck in time.sleep(1.0); the watchdog fires on time anyway."""

    async def stuck_gate() -> tuple[int, int]:
        watchdog.arm()
        armed_ns = time.monotonic_ns()
        time.sleep(1.0)  # noqa: ASYNC251 - the stall under test: the loop is blocked
        return armed_ns, time.monotonic_ns()

    armed_ns, woke_ns = asyncio.run(stuck_gate())

    assert fired.count == 1
    assert fired.at(0) < woke_ns
    assert TIMEOUT_NS <= fired.at(0) - armed_ns <= TIMEOUT_NS + SLACK_NS


def test_watchdog_when_event_loop_spins_on_cpu_then_fires_on_time(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """A pure-Python CPU stall holds the GIL only in slices, so the thread still fires."""

    async def spinning_gate() -> tuple[int, int]:
        watchdog.arm()
        armed_ns = time.monotonic_ns()
        end_ns = armed_ns + 600 * MS
        spins = 0
        while time.monotonic_ns() < end_ns:
            spins += 1
        return armed_ns, time.monotonic_ns()

    armed_ns, woke_ns = asyncio.run(spinning_gate())

    assert fired.count == 1
    assert fired.at(0) < woke_ns
    assert fired.at(0) - armed_ns <= TIMEOUT_NS + SLACK_NS


def test_watchdog_when_heartbeat_after_firing_then_still_fired_once(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """Once fired it stays fired: late heartbeats and EOF add nothing."""
    watchdog.arm()
    fired.wait()

    watchdog.heartbeat()
    watchdog.disconnect("EOF after firing")
    time.sleep(2 * TIMEOUT_S)

    assert fired.count == 1


def test_watchdog_when_rearmed_after_firing_then_fires_again(
    watchdog: DeadMansWatchdog, fired: Firings
) -> None:
    """A new handshake re-arms the switch, and a new silence fires again."""
    watchdog.arm()
    fired.wait()

    watchdog.arm()
    rearmed_ns = time.monotonic_ns()
    deadline = time.monotonic() + 2.0
    while fired.count < 2 and time.monotonic() < deadline:
        time.sleep(TICK_S)

    assert fired.count == 2
    assert TIMEOUT_NS <= fired.at(1) - rearmed_ns <= TIMEOUT_NS + SLACK_NS


def test_watchdog_when_disconnect_then_rearm_at_once_then_the_firing_is_not_lost(
    fired: Firings,
) -> None:
    """EOF immediately followed by a new agent's handshake: the old firing still arrives."""
    dog = DeadMansWatchdog(timeout_s=60.0, tick_s=10.0, on_fire=fired)
    dog.start()
    try:
        dog.arm()
        dog.disconnect("EOF")
        dog.arm()
        fired.wait()
        assert dog.armed
        assert not dog.fired
    finally:
        dog.stop()

    assert fired.count == 1


def test_watchdog_when_clock_injected_then_it_decides_the_timeout(fired: Firings) -> None:
    """Time comes from monotonic_ns: the fake clock, not the wall, decides when to fire."""
    now = [1_000 * MS]
    dog = DeadMansWatchdog(timeout_s=1.0, tick_s=TICK_S, on_fire=fired, monotonic_ns=lambda: now[0])
    dog.start()
    try:
        dog.arm()
        now[0] += 999 * MS
        time.sleep(0.1)
        assert fired.count == 0

        now[0] += 1 * MS
        fired.wait()
    finally:
        dog.stop()

    assert fired.count == 1


# ---------------------------------------------------------------- lifecycle


def test_watchdog_when_stopped_then_thread_joined_and_stop_is_idempotent(fired: Firings) -> None:
    dog = DeadMansWatchdog(timeout_s=TIMEOUT_S, tick_s=TICK_S, on_fire=fired)
    dog.start()
    running_before = dog.running

    dog.stop()
    dog.stop()

    assert (running_before, dog.running) == (True, False)
    assert not any(t.name == "dead-mans-watchdog" for t in threading.enumerate())


def test_watchdog_when_started_twice_then_runtime_error(watchdog: DeadMansWatchdog) -> None:
    with pytest.raises(RuntimeError):
        watchdog.start()


@pytest.mark.parametrize(("timeout_s", "tick_s"), [(0.0, 0.01), (1.0, 0.0), (float("nan"), 0.01)])
def test_watchdog_when_timeout_or_tick_not_positive_then_value_error(
    timeout_s: float, tick_s: float, fired: Firings
) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        DeadMansWatchdog(timeout_s=timeout_s, tick_s=tick_s, on_fire=fired)


# ---------------------------------------------------------------- the halt latch


def test_halt_latch_when_tripped_twice_then_first_cause_kept_and_never_untrips() -> None:
    """Only the first trip counts; nothing but reset() clears it."""
    latch = HaltLatch()
    assert (latch.tripped, latch.cause, latch.at_ns) == (False, None, None)

    first = latch.trip(Cause.DEAD_MAN, "no heartbeat", 5)
    second = latch.trip(Cause.KILL_SWITCH, "operator kill", 6)
    time.sleep(0.01)

    assert (first, second) == (True, False)
    assert (latch.tripped, latch.cause, latch.detail, latch.at_ns) == (
        True,
        Cause.DEAD_MAN,
        "no heartbeat",
        5,
    )


def test_halt_latch_when_reset_then_clear_and_can_trip_again() -> None:
    """reset() is the human resume: it clears everything, and the latch works again."""
    latch = HaltLatch()
    latch.trip(Cause.DEAD_MAN, "no heartbeat", 5)

    latch.reset()

    assert (latch.tripped, latch.cause, latch.detail, latch.at_ns) == (False, None, "", None)
    assert latch.trip(Cause.OPERATOR, "drill", 7)


def test_halt_latch_when_many_threads_trip_at_once_then_exactly_one_wins() -> None:
    """64 threads released together: exactly one trip returns True, and its cause is kept."""
    latch = HaltLatch()
    n = 64
    barrier = threading.Barrier(n)
    wins: list[int] = []
    wins_lock = threading.Lock()

    def racer(i: int) -> None:
        barrier.wait()
        if latch.trip(f"cause-{i}", f"racer {i}", i):
            with wins_lock:
                wins.append(i)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(wins) == 1
    assert latch.cause == f"cause-{wins[0]}"
    assert latch.at_ns == wins[0]
