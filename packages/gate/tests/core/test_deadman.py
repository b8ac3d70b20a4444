"""The dead man's switch: fires at the timeout, once, at once on EOF, never unarmed."""

import pytest

from trading_gate.core.deadman import (
    CancelAll,
    DeadMan,
    Halt,
    arm,
    on_disconnect,
    on_heartbeat,
    on_tick,
)
from trading_gate.core.trading_state import Cause

T0 = 7_000_000_000  # a monotonic reading, ns
TIMEOUT = 3_000_000_000


def armed(at: int = T0) -> DeadMan:
    return arm(DeadMan(timeout_ns=TIMEOUT), at)


def test_on_tick_when_silence_one_ns_short_of_timeout_then_nothing() -> None:
    """At timeout - 1 ns of silence the switch holds."""
    switch = armed()

    after, actions = on_tick(switch, T0 + TIMEOUT - 1)

    assert actions == ()
    assert after is switch


def test_on_tick_when_silence_reaches_timeout_then_halt_then_cancel_all() -> None:
    """At exactly the timeout (>=) it fires: halt first, then cancel everything."""
    switch = armed()

    after, actions = on_tick(switch, T0 + TIMEOUT)

    assert after.fired
    assert actions == (
        Halt(cause=Cause.DEAD_MAN, detail=f"no agent heartbeat for {TIMEOUT} ns"),
        CancelAll(reason=f"dead man: no agent heartbeat for {TIMEOUT} ns"),
    )


def test_on_tick_when_already_fired_then_no_more_actions() -> None:
    """It fires exactly once until re-armed."""
    fired, _ = on_tick(armed(), T0 + TIMEOUT)

    after, actions = on_tick(fired, T0 + 10 * TIMEOUT)

    assert actions == ()
    assert after is fired


def test_on_heartbeat_when_armed_then_silence_restarts() -> None:
    """A heartbeat moves the deadline: silence counts from the latest heartbeat."""
    switch = on_heartbeat(armed(), T0 + 500)

    _, early = on_tick(switch, T0 + 500 + TIMEOUT - 1)
    _, due = on_tick(switch, T0 + 500 + TIMEOUT)

    assert early == ()
    assert [type(a) for a in due] == [Halt, CancelAll]


def test_on_heartbeat_when_stamped_earlier_then_deadline_not_moved_back() -> None:
    """A heartbeat older than the last one never shortens the silence."""
    switch = on_heartbeat(armed(), T0 + 500)

    after = on_heartbeat(switch, T0 + 100)

    assert after.last_heartbeat_ns == T0 + 500


def test_on_tick_when_clock_reads_before_last_heartbeat_then_nothing() -> None:
    """A tick stamped before the last heartbeat is negative silence: no firing."""
    switch = on_heartbeat(armed(), T0 + 500)

    _, actions = on_tick(switch, T0)

    assert actions == ()


def test_on_heartbeat_when_fired_then_stays_fired() -> None:
    """A heartbeat after firing does not un-fire the switch or restart the silence."""
    fired, _ = on_tick(armed(), T0 + TIMEOUT)

    after = on_heartbeat(fired, T0 + TIMEOUT + 1)
    _, actions = on_tick(after, T0 + 10 * TIMEOUT)

    assert after is fired
    assert actions == ()


def test_on_disconnect_when_armed_then_fires_at_once() -> None:
    """EOF on the agent socket fires immediately, whatever the silence."""
    switch = armed()

    after, actions = on_disconnect(switch, T0 + 1)

    assert after.fired
    assert actions == (
        Halt(cause=Cause.AGENT_DISCONNECTED, detail=f"agent disconnected at {T0 + 1} ns"),
        CancelAll(reason=f"dead man: agent disconnected at {T0 + 1} ns"),
    )


def test_on_disconnect_when_already_fired_then_nothing() -> None:
    """A disconnect after a timeout firing does not fire a second time."""
    fired, _ = on_tick(armed(), T0 + TIMEOUT)

    after, actions = on_disconnect(fired, T0 + TIMEOUT + 1)

    assert actions == ()
    assert after is fired


def test_switch_when_not_armed_then_never_fires() -> None:
    """Before the first handshake, silence, heartbeats and EOF do nothing."""
    switch = DeadMan(timeout_ns=TIMEOUT)

    after_beat = on_heartbeat(switch, T0)
    after_tick, tick_actions = on_tick(switch, T0 + 100 * TIMEOUT)
    after_eof, eof_actions = on_disconnect(switch, T0)

    assert (tick_actions, eof_actions) == ((), ())
    assert after_beat is switch
    assert after_tick is switch
    assert after_eof is switch
    assert not switch.armed


def test_arm_when_fired_then_watching_again_from_handshake() -> None:
    """A new handshake re-arms: the silence counts from it and the switch can fire again."""
    fired, _ = on_disconnect(armed(), T0)

    rearmed = arm(fired, T0 + 50)
    _, early = on_tick(rearmed, T0 + 50 + TIMEOUT - 1)
    _, due = on_tick(rearmed, T0 + 50 + TIMEOUT)

    assert (rearmed.armed, rearmed.fired, rearmed.last_heartbeat_ns) == (True, False, T0 + 50)
    assert early == ()
    assert [type(a) for a in due] == [Halt, CancelAll]


@pytest.mark.parametrize("timeout_ns", [0, -1])
def test_dead_man_when_timeout_not_positive_then_value_error(timeout_ns: int) -> None:
    """A zero or negative timeout is a configuration bug."""
    with pytest.raises(ValueError, match="timeout"):
        DeadMan(timeout_ns=timeout_ns)
