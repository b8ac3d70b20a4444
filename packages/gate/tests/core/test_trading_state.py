"""ACTIVE, REDUCING, HALTED: what each permits, how the state rises, who may lower it."""

from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_contract import RejectCode, Side, TradingState
from trading_gate.core.trading_state import (
    SYSTEM,
    Action,
    Cause,
    GateMode,
    Permission,
    ResumeRefused,
    escalate,
    human_resume,
    on_reconciled,
    permits,
    reduces_position,
)

T0 = 1_764_614_400_000_000_000
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
Raise = Literal[TradingState.REDUCING, TradingState.HALTED]


def mode(**overrides: Any) -> GateMode:
    fields: dict[str, Any] = {
        "state": ACTIVE,
        "cause": Cause.RECONCILED,
        "since_ns": T0,
        "set_by": SYSTEM,
    }
    return GateMode(**(fields | overrides))


ALLOWED = Permission(allowed=True)
REDUCING_ONLY = Permission(allowed=False, code=RejectCode.REDUCING_ONLY)
HALTED_ONLY = Permission(allowed=False, code=RejectCode.HALTED)


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (ACTIVE, Action.INCREASE_RISK, ALLOWED),
        (ACTIVE, Action.REDUCE_RISK, ALLOWED),
        (ACTIVE, Action.CANCEL, ALLOWED),
        (REDUCING, Action.INCREASE_RISK, REDUCING_ONLY),
        (REDUCING, Action.REDUCE_RISK, ALLOWED),
        (REDUCING, Action.CANCEL, ALLOWED),
        (HALTED, Action.INCREASE_RISK, HALTED_ONLY),
        (HALTED, Action.REDUCE_RISK, HALTED_ONLY),
        (HALTED, Action.CANCEL, ALLOWED),
    ],
)
def test_permits_when_each_state_and_action_then_cell_of_table(
    state: TradingState, action: Action, expected: Permission
) -> None:
    """ACTIVE permits all, REDUCING reducing and cancels, HALTED cancels only."""
    permission = permits(mode(state=state), action)

    assert permission == expected


@pytest.mark.parametrize(
    ("start", "to", "expected"),
    [(ACTIVE, REDUCING, REDUCING), (ACTIVE, HALTED, HALTED), (REDUCING, HALTED, HALTED)],
)
def test_escalate_when_higher_then_new_state_with_cause(
    start: TradingState, to: Raise, expected: TradingState
) -> None:
    """Escalating upward enters the new state with the new cause, time and setter."""
    before = mode(state=start)

    after = escalate(before, to, Cause.DAILY_LOSS, T0 + 7, set_by="ops:ana", detail="-512 USD")

    assert after == GateMode(
        state=expected,
        cause=Cause.DAILY_LOSS,
        since_ns=T0 + 7,
        set_by="ops:ana",
        detail="-512 USD",
    )


def test_escalate_when_halted_again_then_first_cause_kept_and_later_noted() -> None:
    """HALTED stays HALTED with its first cause; later causes are noted once each."""
    halted = escalate(mode(), HALTED, Cause.DEAD_MAN, T0 + 1)

    again = escalate(halted, HALTED, Cause.KILL_SWITCH, T0 + 2)
    lower = escalate(again, REDUCING, Cause.RECONCILING, T0 + 3)
    repeat = escalate(lower, HALTED, Cause.KILL_SWITCH, T0 + 4)

    assert (repeat.state, repeat.cause, repeat.since_ns) == (HALTED, Cause.DEAD_MAN, T0 + 1)
    assert repeat.later_causes == (Cause.KILL_SWITCH, Cause.RECONCILING)
    assert repeat is lower


def test_escalate_when_same_cause_again_then_same_mode() -> None:
    """Repeating the cause that set the state changes nothing."""
    reducing = escalate(mode(), REDUCING, Cause.DRAWDOWN, T0)

    again = escalate(reducing, REDUCING, Cause.DRAWDOWN, T0 + 1)

    assert again is reducing


steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([REDUCING, HALTED]), st.sampled_from(Cause)),
        st.just("reconciled"),
    ),
    max_size=20,
)


@given(steps)
def test_halted_when_any_automatic_steps_then_stays_halted_with_first_cause(
    sequence: list[tuple[Raise, Cause] | str],
) -> None:
    """No escalation and no reconciliation ever clears HALTED or replaces its cause."""
    current = escalate(mode(), HALTED, Cause.KILL_SWITCH, T0)

    for n, step in enumerate(sequence, start=1):
        if isinstance(step, tuple):
            current = escalate(current, step[0], step[1], T0 + n)
        else:
            current = on_reconciled(current, T0 + n)

    assert (current.state, current.cause, current.since_ns) == (HALTED, Cause.KILL_SWITCH, T0)
    assert len(current.later_causes) == len(set(current.later_causes))


@pytest.mark.parametrize(
    ("start", "to"), [(HALTED, ACTIVE), (HALTED, REDUCING), (REDUCING, ACTIVE)]
)
def test_human_resume_when_lower_with_reason_then_resumed_by_operator(
    start: TradingState, to: Literal[TradingState.ACTIVE, TradingState.REDUCING]
) -> None:
    """An operator with a reason lowers the state; the mode records who and why."""
    before = escalate(mode(), HALTED if start is HALTED else REDUCING, Cause.DEAD_MAN, T0)

    after = human_resume(before, to, "ops:ana", "agent restarted, book verified empty", T0 + 9)

    assert after == GateMode(
        state=to,
        cause=Cause.OPERATOR_RESUME,
        since_ns=T0 + 9,
        set_by="ops:ana",
        detail="agent restarted, book verified empty",
    )


@pytest.mark.parametrize(
    ("start", "to", "operator", "reason", "why"),
    [
        (HALTED, ACTIVE, "ops:ana", "", "needs a reason"),
        (HALTED, ACTIVE, "ops:ana", "  \t", "needs a reason"),
        (HALTED, ACTIVE, "", "checked", "operator's name"),
        (HALTED, ACTIVE, " ", "checked", "operator's name"),
        (REDUCING, REDUCING, "ops:ana", "checked", "reducing is not below reducing"),
        (ACTIVE, ACTIVE, "ops:ana", "checked", "active is not below active"),
        (ACTIVE, REDUCING, "ops:ana", "checked", "reducing is not below active"),
    ],
)
def test_human_resume_when_invalid_then_refused_and_mode_kept(
    start: TradingState,
    to: Literal[TradingState.ACTIVE, TradingState.REDUCING],
    operator: str,
    reason: str,
    why: str,
) -> None:
    """No reason, no operator, or not a step down: refused as a value."""
    before = mode(state=start)

    result = human_resume(before, to, operator, reason, T0 + 1)

    assert isinstance(result, ResumeRefused)
    assert why in result.reason


def test_on_reconciled_when_reducing_only_for_reconciling_then_active() -> None:
    """REDUCING whose every cause is reconciling clears itself after a reconciliation."""
    reducing = escalate(mode(), REDUCING, Cause.RECONCILING, T0)

    after = on_reconciled(reducing, T0 + 5)

    assert after == GateMode(state=ACTIVE, cause=Cause.RECONCILED, since_ns=T0 + 5, set_by=SYSTEM)


@pytest.mark.parametrize(
    ("before"),
    [
        mode(state=REDUCING, cause=Cause.DAILY_LOSS),
        mode(state=REDUCING, cause=Cause.RECONCILING, later_causes=(Cause.DAILY_LOSS,)),
        mode(state=REDUCING, cause=Cause.OPERATOR_RESUME),
        mode(state=HALTED, cause=Cause.RECONCILING),
        mode(state=ACTIVE),
    ],
    ids=["other-cause", "reconciling-plus-other", "operator", "halted", "active"],
)
def test_on_reconciled_when_not_only_reconciling_then_unchanged(before: GateMode) -> None:
    """Any other cause, HALTED, or ACTIVE: reconciliation changes nothing."""
    after = on_reconciled(before, T0 + 5)

    assert after is before


@pytest.mark.parametrize(
    ("side", "size", "position", "expected"),
    [
        (Side.SELL, "1", "1", True),  # exact close
        (Side.SELL, "0.4", "1", True),
        (Side.SELL, "2", "1", False),  # flips through zero
        (Side.SELL, "1.00000001", "1", False),  # flips by one satoshi
        (Side.BUY, "0.4", "1", False),  # adds to a long
        (Side.BUY, "1", "-1", True),  # exact close of a short
        (Side.BUY, "0.4", "-1", True),
        (Side.BUY, "2", "-1", False),
        (Side.SELL, "0.4", "-1", False),  # adds to a short
        (Side.SELL, "1", "0", False),  # flat: nothing reduces
        (Side.BUY, "1", "0", False),
        (Side.SELL, "1", "-0", False),
        (Side.SELL, "0.00000001", "0.00000001", True),  # tiny exact close
        (Side.SELL, "0.00000001", "0.000000009", False),  # tiny flip
        # 31 significant digits: exact, not rounded to the default 28-digit context.
        (Side.BUY, "1.000000000000000000000000000001", "-1.000000000000000000000000000001", True),
        (Side.SELL, "0", "1", False),  # zero size fails closed
        (Side.SELL, "-1", "1", False),
    ],
)
def test_reduces_position_when_boundary_case_then_expected(
    side: Side, size: str, position: str, expected: bool
) -> None:
    """Toward zero without crossing it reduces; a flip, a flat book or no size does not."""
    reduces = reduces_position(side, Decimal(size), Decimal(position))

    assert reduces is expected


amounts = st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("1000"), places=8, allow_nan=False
)


@given(st.sampled_from(Side), amounts, amounts)
def test_reduces_position_when_any_order_then_abs_shrinks_without_sign_change(
    side: Side, size: Decimal, position: Decimal
) -> None:
    """Reducing means: a positive size, and the new position is smaller, same sign or 0."""
    after = position - size if side is Side.SELL else position + size
    shrinks = abs(after) < abs(position) and after * position >= 0

    reduces = reduces_position(side, size, position)

    assert reduces is (size > 0 and shrinks)
