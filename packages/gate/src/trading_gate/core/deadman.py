"""The dead man's switch as pure logic: agent silence or EOF becomes halt and cancel-all.

Advanced Trade has no exchange-side cancel-on-disconnect, so the gate is the switch
(RELIABILITY §1.1). The shell feeds heartbeats, ticks and disconnects with monotonic
times and carries out the returned actions, in order: `Halt` first, then `CancelAll`,
so no new order can slip in while the cancels go out (§1.6).

    not armed --arm--> armed --silence >= timeout, or EOF--> fired
        ^                                                     |
        +---------------------- arm (new handshake) ----------+

The switch fires when the silence reaches `timeout_ns` (>=, not >): a heartbeat due
"within the timeout" that has not come at exactly the timeout is already late, and a
tie goes to safety. It fires once; a heartbeat after firing changes nothing. Only a new
handshake re-arms it, and that does not lift HALTED: a human resume does.
"""

import msgspec

from trading_gate.core.trading_state import Cause

__all__ = [
    "CancelAll",
    "DeadMan",
    "DeadManAction",
    "Halt",
    "arm",
    "on_disconnect",
    "on_heartbeat",
    "on_tick",
]


class Halt(msgspec.Struct, frozen=True, kw_only=True):
    """Latch HALTED with this cause."""

    cause: Cause
    detail: str


class CancelAll(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel every open order, then list until none remain."""

    reason: str


DeadManAction = Halt | CancelAll


class DeadMan(msgspec.Struct, frozen=True, kw_only=True):
    """The switch: its timeout, whether it is armed, and whether it has fired."""

    timeout_ns: int
    armed: bool = False
    fired: bool = False
    # Meaningful only while armed: `arm` sets it, so no "never heard from" sentinel.
    last_heartbeat_ns: int = 0

    def __post_init__(self) -> None:
        if self.timeout_ns < 1:
            raise ValueError(f"a dead man's timeout must be >= 1 ns, got {self.timeout_ns}")


def _watching(state: DeadMan) -> bool:
    return state.armed and not state.fired


def arm(state: DeadMan, now_ns: int) -> DeadMan:
    """Armed after a handshake, counting silence from `now_ns`; any earlier firing is
    cleared from the switch (not from the trading state)."""
    return msgspec.structs.replace(state, armed=True, fired=False, last_heartbeat_ns=now_ns)


def on_heartbeat(state: DeadMan, now_ns: int) -> DeadMan:
    """`state` with the silence restarted at `now_ns`; unchanged unless armed and unfired."""
    if not _watching(state):
        return state
    # A heartbeat stamped earlier than the last one must not move the deadline back.
    return msgspec.structs.replace(state, last_heartbeat_ns=max(state.last_heartbeat_ns, now_ns))


def on_tick(state: DeadMan, now_ns: int) -> tuple[DeadMan, tuple[DeadManAction, ...]]:
    """Fire (halt, then cancel all) if the silence has reached the timeout; else nothing."""
    if not _watching(state):
        return state, ()
    silence_ns = now_ns - state.last_heartbeat_ns
    if silence_ns < state.timeout_ns:
        return state, ()
    return _fire(state, Cause.DEAD_MAN, f"no agent heartbeat for {silence_ns} ns")


def on_disconnect(state: DeadMan, now_ns: int) -> tuple[DeadMan, tuple[DeadManAction, ...]]:
    """Fire at once: EOF on the agent socket means the agent died (§4 row 2)."""
    if not _watching(state):
        return state, ()
    return _fire(state, Cause.AGENT_DISCONNECTED, f"agent disconnected at {now_ns} ns")


def _fire(state: DeadMan, cause: Cause, detail: str) -> tuple[DeadMan, tuple[DeadManAction, ...]]:
    fired = msgspec.structs.replace(state, fired=True)
    return fired, (Halt(cause=cause, detail=detail), CancelAll(reason=f"dead man: {detail}"))
