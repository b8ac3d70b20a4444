"""ACTIVE, REDUCING and HALTED: what the gate lets through, and who may change it.

    ACTIVE    every order the checks allow
    REDUCING  risk-reducing orders and cancels only
    HALTED    cancels only; latched until a human resumes

Automatic changes only ever go up (`escalate`). Down is a human's call
(`human_resume`), with one exception: REDUCING whose every cause is `reconciling` is
cleared by the gate itself once a reconciliation succeeds (`on_reconciled`). That
cause means "we do not know the book yet" and a clean reconciliation is exactly the
proof that we do. Nothing the gate does by itself ever clears HALTED.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

import msgspec

from trading_contract import RejectCode, Side, TradingState

__all__ = [
    "SYSTEM",
    "Action",
    "Cause",
    "GateMode",
    "Permission",
    "ResumeRefused",
    "escalate",
    "human_resume",
    "on_reconciled",
    "permits",
    "reduces_position",
]

# `set_by` of every change the gate makes by itself; humans are named by operator.
SYSTEM: Final = "gate"


class Cause(StrEnum):
    """Why the gate is in its current state."""

    RECONCILING = "reconciling"  # startup, or a websocket gap: the book is not yet known
    RECONCILIATION_FAILED = "reconciliation_failed"
    KILL_SWITCH = "kill_switch"
    DEAD_MAN = "dead_man"  # agent heartbeats stopped
    AGENT_DISCONNECTED = "agent_disconnected"  # EOF on the agent socket: the agent died
    REPEATED_EXECUTION = "repeated_execution"  # K fills within T (RTS 6 Art 15(3))
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    RULE_HALT = "rule_halt"  # a core rule's `halt` effect fired
    JOURNAL_FAILURE = "journal_failure"  # a gate that cannot journal must not send
    EXCHANGE_AUTH = "exchange_auth"  # 401/403: the key was refused or its scope changed
    OPERATOR = "operator"  # a human raised the state by hand
    OPERATOR_RESUME = "operator_resume"  # a human lowered it
    RECONCILED = "reconciled"  # the gate cleared REDUCING after reconciling


# Causes the gate may clear by itself. Only for REDUCING; never for HALTED.
_SELF_CLEARING: Final = frozenset({Cause.RECONCILING})

_RANK: Final = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


class GateMode(msgspec.Struct, frozen=True, kw_only=True):
    """The trading state, the cause that put the gate there, when, and by whom."""

    state: TradingState
    cause: Cause  # the first cause: a later escalation never overwrites it
    since_ns: int
    set_by: str
    detail: str = ""
    # Causes that arrived while already at (or above) their level, each noted once so the
    # tuple stays bounded; an operator sees everything that happened before resuming.
    later_causes: tuple[Cause, ...] = ()


class Action(StrEnum):
    """What a request would do to risk, which is all the trading state looks at."""

    INCREASE_RISK = "increase_risk"  # any new order that is not risk-reducing
    REDUCE_RISK = "reduce_risk"  # see `reduces_position`
    CANCEL = "cancel"


class Permission(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the state permits an action, and if not, the code to reject it with."""

    allowed: bool
    code: RejectCode | None = None


class ResumeRefused(msgspec.Struct, frozen=True, kw_only=True):
    """A human resume the gate will not carry out, and why."""

    reason: str


_ALLOWED: Final = Permission(allowed=True)
_PERMITTED: Final = {
    TradingState.ACTIVE: frozenset(Action),
    TradingState.REDUCING: frozenset({Action.REDUCE_RISK, Action.CANCEL}),
    TradingState.HALTED: frozenset({Action.CANCEL}),
}
_DENIED: Final = {
    TradingState.REDUCING: Permission(allowed=False, code=RejectCode.REDUCING_ONLY),
    TradingState.HALTED: Permission(allowed=False, code=RejectCode.HALTED),
}


def permits(mode: GateMode, action: Action) -> Permission:
    """Whether `mode` lets `action` through: ACTIVE all, REDUCING reduce and cancel,
    HALTED cancel only."""
    if action in _PERMITTED[mode.state]:
        return _ALLOWED
    return _DENIED[mode.state]


def escalate(
    mode: GateMode,
    to: Literal[TradingState.REDUCING, TradingState.HALTED],
    cause: Cause,
    now_ns: int,
    *,
    set_by: str = SYSTEM,
    detail: str = "",
) -> GateMode:
    """`mode` raised to `to`. Already at or above `to`, the state and its first cause
    stay, and `cause` is noted in `later_causes`: HALTED stays HALTED."""
    if _RANK[to] > _RANK[mode.state]:
        return GateMode(state=to, cause=cause, since_ns=now_ns, set_by=set_by, detail=detail)
    if cause == mode.cause or cause in mode.later_causes:
        return mode
    return msgspec.structs.replace(mode, later_causes=(*mode.later_causes, cause))


def human_resume(
    mode: GateMode,
    to: Literal[TradingState.ACTIVE, TradingState.REDUCING],
    operator: str,
    reason: str,
    now_ns: int,
) -> GateMode | ResumeRefused:
    """`mode` lowered to `to` by `operator`: the only way out of HALTED.

    Refused, as a value for the admin reply, without an operator, without a reason, or
    if `to` is not below the current state.
    """
    if not operator.strip():
        return ResumeRefused(reason="a resume needs the operator's name")
    if not reason.strip():
        return ResumeRefused(reason="a resume needs a reason")
    if _RANK[to] >= _RANK[mode.state]:
        return ResumeRefused(reason=f"{to.value} is not below {mode.state.value}")
    return GateMode(
        state=to, cause=Cause.OPERATOR_RESUME, since_ns=now_ns, set_by=operator, detail=reason
    )


def on_reconciled(mode: GateMode, now_ns: int) -> GateMode:
    """ACTIVE again if the gate was REDUCING only for reconciling; otherwise `mode`."""
    if mode.state is not TradingState.REDUCING:
        return mode
    if not _SELF_CLEARING.issuperset((mode.cause, *mode.later_causes)):
        return mode
    return GateMode(
        state=TradingState.ACTIVE, cause=Cause.RECONCILED, since_ns=now_ns, set_by=SYSTEM
    )


def reduces_position(side: Side, size_base: Decimal, current_position_base: Decimal) -> bool:
    """True only if the order moves the position toward zero without crossing it.

    Closing exactly to zero reduces; going past zero (a sell of 2 when long 1) flips
    the position and does not; at zero nothing reduces. Fails closed: a size that is
    not positive reduces nothing.

    Raises:
        decimal.InvalidOperation: an argument is NaN (the edge refuses NaN first).
    """
    if size_base <= 0:
        return False
    if current_position_base > 0:
        return side is Side.SELL and size_base <= current_position_base
    if current_position_base < 0:
        # copy_negate is exact; unary minus would round to the ambient context's precision.
        return side is Side.BUY and size_base <= current_position_base.copy_negate()
    return False
