"""The admin protocol: what the console asks the gate on the admin socket, and the answers.

Same framing and the same strict codec as the agent protocol, on a separate socket with
its own allow-list. There is no handshake: each frame is one request, answered by one
reply with the same `request_id`. A frame the gate cannot decode is answered with the
agent protocol's `Error`, so `AdminReply` includes it.
"""

from typing import Annotated

import msgspec
from msgspec import Meta

from trading_contract.messages import Error
from trading_contract.types import (
    Count,
    Sha256Hex,
    Text,
    TimestampNs,
    TradingState,
    WireRequestId,
)

# Who asked, as the console reports it (e.g. the login name). Self-declared: the gate
# knows the peer's uid from SO_PEERCRED and records that too.
Operator = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._@\-]{0,63}$")]
NonEmptyText = Annotated[Text, Meta(min_length=1)]


class _AdminMessage(
    msgspec.Struct, tag_field="type", frozen=True, forbid_unknown_fields=True, kw_only=True
):
    """A top-level admin message; its `type` tag is the class's snake_case name."""


# ---------------------------------------------------------------- console -> gate


class AdminStatus(_AdminMessage, tag="admin_status", frozen=True, kw_only=True):
    """What state is the gate in, and is an agent connected?"""

    request_id: WireRequestId


class AdminHalt(_AdminMessage, tag="admin_halt", frozen=True, kw_only=True):
    """Latch HALTED and cancel every open order: the kill switch."""

    request_id: WireRequestId
    operator: Operator
    # May be empty: a kill switch is never refused for want of an explanation.
    reason: Text = ""


class AdminResume(_AdminMessage, tag="admin_resume", frozen=True, kw_only=True):
    """Leave HALTED (or REDUCING) for `to`. Only a human clears a halt, and says why."""

    request_id: WireRequestId
    operator: Operator
    reason: NonEmptyText
    to: TradingState

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("`reason` must say why trading may resume; it is blank")
        if self.to is TradingState.HALTED:
            raise ValueError("`to` must be active or reducing; to halt, send admin_halt")


class AdminReloadConfig(_AdminMessage, tag="admin_reload_config", frozen=True, kw_only=True):
    """Re-read safety.yaml; a bad file keeps the old config and is reported."""

    request_id: WireRequestId
    operator: Operator


class AdminReloadRules(_AdminMessage, tag="admin_reload_rules", frozen=True, kw_only=True):
    """Re-read the rule files; a bad rule keeps the old ruleset and is reported."""

    request_id: WireRequestId
    operator: Operator


# ---------------------------------------------------------------- gate -> console


class AdminAck(_AdminMessage, tag="admin_ack", frozen=True, kw_only=True):
    """The outcome of a halt, resume or reload; `message` says what happened or why not."""

    request_id: WireRequestId
    ok: bool
    message: Text


class AdminStatusReply(_AdminMessage, tag="admin_status_reply", frozen=True, kw_only=True):
    """Everything `te status` shows, as of `as_of_ns`."""

    request_id: WireRequestId
    state: TradingState
    cause: Text
    since_ns: TimestampNs
    agent_connected: bool
    last_heartbeat_ns: TimestampNs | None = None
    open_orders: Count
    # Orders whose venue outcome is not yet known (a timeout after submit): a human
    # looking at a halted gate wants to know whether the book is settled.
    unknown_orders: Count
    config_hash: Sha256Hex
    rules_hash: Sha256Hex
    as_of_ns: TimestampNs


AdminRequest = AdminStatus | AdminHalt | AdminResume | AdminReloadConfig | AdminReloadRules
AdminReply = AdminAck | AdminStatusReply | Error
