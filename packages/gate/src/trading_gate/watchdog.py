"""The dead man's switch, run on its own thread so that it fires even when the event loop is stuck.

Advanced Trade has no cancel-on-disconnect, so the gate itself is the switch
(RELIABILITY §1.1). A switch driven by the event loop would be silent exactly when the
loop is stalled (§4 row 4: a heavy DSL rule, a slow fsync). `DeadMansWatchdog` runs the
pure `core.deadman` on a daemon thread. Every `tick_s` it calls `on_tick` under a lock.
When the switch fires, the thread calls `on_fire(actions)` with `(Halt, CancelAll)`,
once per arming. `on_fire` always runs on the watchdog thread, so it never runs
concurrently with itself. It runs outside the lock, so it may call back into the
watchdog.

`disconnect(reason)` (EOF on the agent socket, §4 row 2) applies the firing to the
switch at once, in the calling thread, and wakes the watchdog thread, which delivers
`on_fire` within a thread wake-up (well under a millisecond) rather than on the next
tick. A re-arm that follows straight away cannot swallow the firing.

`HaltLatch` is the one bit that the decision path reads before every order. Once
tripped it stays tripped; only `reset()`, called for a human resume, clears it.

Typical wiring in the gate's app:

    latch = HaltLatch()
    loop = asyncio.get_running_loop()

    def on_fire(actions: tuple[DeadManAction, ...]) -> None:
        # Watchdog thread. Trip the latch first: no order passes from here on, even
        # while the loop is still blocked. Then let the loop start the kill.
        for action in actions:
            if isinstance(action, Halt):
                latch.trip(action.cause, action.detail, time.monotonic_ns())
        loop.call_soon_threadsafe(start_kill)  # start_kill: task_group.create_task(
                                               #     kill_and_verify(exchange, latch=...))

    watchdog = DeadMansWatchdog(timeout_s=3.0, on_fire=on_fire)
    watchdog.start()
    # after the agent's handshake: watchdog.arm(); each heartbeat: watchdog.heartbeat();
    # on EOF: watchdog.disconnect("EOF"); at shutdown: watchdog.stop().

The kill's own `latch` callable trips the same latch (that trip returns False, because
the latch is already set). The gate's systemd `WATCHDOG=1` ping must also check
`watchdog.running`. If the thread has died (for example, `on_fire` raised, which
`threading.excepthook` reports), the switch is gone and the process must be restarted.
A C call that holds the GIL for seconds also stalls this thread. systemd's
`WatchdogSec=` covers that case, which no thread in the same process can.
"""

import threading
import time
from collections.abc import Callable
from typing import Final

import msgspec

from trading_gate.core.deadman import (
    DeadMan,
    DeadManAction,
    Halt,
    arm,
    on_disconnect,
    on_heartbeat,
    on_tick,
)

__all__ = ["DeadMansWatchdog", "HaltLatch"]

_NS_PER_S: Final = 1_000_000_000


class HaltLatch:
    """A thread-safe latch: once tripped it stays tripped until a human's `reset()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tripped = False
        self._cause: str | None = None
        self._detail = ""
        self._at_ns: int | None = None

    def trip(self, cause: str, detail: str, at_ns: int) -> bool:
        """Trip the latch; True only for the trip that set it. Later trips change nothing."""
        with self._lock:
            if self._tripped:
                return False
            self._tripped, self._cause, self._detail, self._at_ns = True, cause, detail, at_ns
            return True

    @property
    def tripped(self) -> bool:
        with self._lock:
            return self._tripped

    @property
    def cause(self) -> str | None:
        """The first trip's cause; None while the latch is not tripped."""
        with self._lock:
            return self._cause

    @property
    def detail(self) -> str:
        with self._lock:
            return self._detail

    @property
    def at_ns(self) -> int | None:
        with self._lock:
            return self._at_ns

    def reset(self) -> None:
        """Clear the latch, for an operator's explicit resume only; nothing else clears it."""
        with self._lock:
            self._tripped, self._cause, self._detail, self._at_ns = False, None, "", None


class DeadMansWatchdog:
    """`core.deadman` on a daemon thread that ticks every `tick_s` and calls `on_fire` there.

    All methods are thread-safe and cheap (a lock plus a pure function), so the event
    loop can call them directly.

    Raises:
        ValueError: timeout_s or tick_s is not > 0.
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        on_fire: Callable[[tuple[DeadManAction, ...]], None],
        tick_s: float = 0.05,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        name: str = "dead-mans-watchdog",
    ) -> None:
        if not (timeout_s > 0 and tick_s > 0):
            raise ValueError(f"need timeout_s > 0 and tick_s > 0, got {timeout_s=} {tick_s=}")
        self._on_fire = on_fire
        self._tick_s = tick_s
        self._monotonic_ns = monotonic_ns
        self._lock = threading.Lock()
        self._state = DeadMan(timeout_ns=max(1, round(timeout_s * _NS_PER_S)))
        # Firings decided but not yet delivered, oldest first; only the thread pops them.
        self._due: list[tuple[DeadManAction, ...]] = []
        self._stopping = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # ------------------------------------------------------------ event-loop side

    def start(self) -> None:
        """Start the watchdog thread. Until then nothing fires.

        Raises:
            RuntimeError: it was already started.
        """
        self._thread.start()

    def arm(self) -> None:
        """Arm after a handshake: silence counts from now. This clears an earlier firing
        from the switch, not from the latch."""
        with self._lock:
            self._state = arm(self._state, self._monotonic_ns())

    def heartbeat(self) -> None:
        """Restart the silence. Does nothing unless the switch is armed and has not fired."""
        with self._lock:
            self._state = on_heartbeat(self._state, self._monotonic_ns())

    def disconnect(self, reason: str) -> None:
        """The agent hung up (EOF). Fire now, without waiting for a tick, if armed.

        The switch is marked fired before this returns. The watchdog thread, woken here,
        calls `on_fire`.
        """
        with self._lock:
            self._state, actions = on_disconnect(self._state, self._monotonic_ns())
            if actions:
                self._due.append(tuple(_with_reason(a, reason) for a in actions))
        self._wake.set()

    def stop(self) -> None:
        """Deliver any firing already decided, then stop and join the thread. Idempotent."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._state.armed

    @property
    def fired(self) -> bool:
        with self._lock:
            return self._state.fired

    @property
    def running(self) -> bool:
        """True while the thread is alive and has not been asked to stop."""
        with self._lock:
            stopping = self._stopping
        return self._thread.is_alive() and not stopping

    # ------------------------------------------------------------ watchdog thread

    def _run(self) -> None:
        while True:
            self._wake.wait(self._tick_s)
            # Clear before reading state: a disconnect after this point sets it again,
            # and a disconnect before it is already in `_due`.
            self._wake.clear()
            with self._lock:
                stopping = self._stopping
                if not stopping:
                    self._state, actions = on_tick(self._state, self._monotonic_ns())
                    if actions:
                        self._due.append(actions)
                due, self._due = self._due, []
            for actions in due:
                self._on_fire(actions)
            if stopping:
                return


def _with_reason(action: DeadManAction, reason: str) -> DeadManAction:
    if isinstance(action, Halt):
        return msgspec.structs.replace(action, detail=f"{action.detail}: {reason}")
    return msgspec.structs.replace(action, reason=f"{action.reason}: {reason}")
