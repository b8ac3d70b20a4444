"""`te status` as one value: what the gate says, what the databases say, what is wrong.

`build_report` is pure: the shell (`status.py`) asks the socket, reads the two databases
through their read modules (`trading_gate.read`, `trading_agent.store.read`), verifies
the audit chain and reads the clock, and passes what it found. One `StatusReport` feeds
both the tables for people and `--json` for scripts, so the two never disagree.

The console has no live mid, so the gate's open positions are valued at each product's
last fill price: "P&L at last fill" is the fills' cash flow (less fees) plus those
positions, not a marked-to-market figure.
"""

from collections.abc import Iterable, Sequence
from decimal import Context, Decimal
from typing import Final

import msgspec

from trading_agent.store.read import PnlSummary
from trading_console.anomalies import GateFacts, status_anomalies
from trading_contract import AdminStatusReply, Side, TradingState
from trading_gate.read import FillView, ModeView, OrderView, PositionView

__all__ = [
    "AgentPnl",
    "AuditSummary",
    "GatePnl",
    "GateRecord",
    "GateSummary",
    "StatusReport",
    "build_report",
    "gate_pnl",
]

_EXACT: Final = Context(prec=300)
_NS_PER_S: Final = 1_000_000_000


class GateSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The trading state from the running gate (`source` "admin socket") or, when it is
    not running, as gate.db last recorded it (`source` "gate.db")."""

    running: bool
    unreachable: str | None = None
    source: str | None = None
    state: TradingState | None = None
    cause: str | None = None
    since_ns: int | None = None
    since_age_s: float | None = None
    agent_connected: bool | None = None
    last_heartbeat_ns: int | None = None
    heartbeat_age_s: float | None = None
    heartbeat_timeout_s: float | None = None
    unknown_orders: int | None = None
    config_hash: str | None = None


class GatePnl(msgspec.Struct, frozen=True, kw_only=True):
    fills: int
    cash_flow_usd: Decimal  # minus buys, plus sells, minus fees
    fees_usd: Decimal
    pnl_at_last_fill_usd: Decimal  # cash flow + positions at their last fill price


class AgentPnl(msgspec.Struct, frozen=True, kw_only=True):
    """agent.db's P&L (`trading_agent.store.read.pnl`) and today's closed trades."""

    summary: PnlSummary
    trades_closed: int
    today_trades_closed: int  # closed (exit) since 00:00 UTC
    today_realized_net_usd: Decimal


class AuditSummary(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    rows_checked: int = 0
    head_seq: int = 0
    anchored: bool = False
    first_problem: str | None = None
    error: str | None = None  # the log could not be read at all


class StatusReport(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str
    as_of_ns: int
    gate: GateSummary
    positions: tuple[PositionView, ...] = ()  # every product the gate has filled
    open_orders: tuple[OrderView, ...] = ()
    gate_pnl: GatePnl | None = None
    agent_pnl: AgentPnl | None = None
    audit: AuditSummary | None = None
    anomalies: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def gate_pnl(fills: Sequence[FillView]) -> GatePnl:
    """Cash flow and fees of the gate's fills, exactly, and the P&L with every open
    position valued at its product's last fill price."""
    flow = fees = Decimal(0)
    base: dict[str, Decimal] = {}
    last: dict[str, Decimal] = {}
    for fill in fills:
        notional = _EXACT.multiply(fill.size, fill.price)
        # copy_negate: unary minus would round to the thread's (28-digit) context.
        buy = fill.side is Side.BUY
        flow = _EXACT.subtract(
            _EXACT.add(flow, notional.copy_negate() if buy else notional), fill.fee
        )
        fees = _EXACT.add(fees, fill.fee)
        signed = fill.size if buy else fill.size.copy_negate()
        base[fill.product_id] = _EXACT.add(base.get(fill.product_id, Decimal(0)), signed)
        last[fill.product_id] = fill.price
    held = Decimal(0)
    for product, size in base.items():
        held = _EXACT.add(held, _EXACT.multiply(size, last[product]))
    return GatePnl(
        fills=len(fills),
        cash_flow_usd=flow,
        fees_usd=fees,
        pnl_at_last_fill_usd=_EXACT.add(flow, held),
    )


def _live_summary(reply: AdminStatusReply, timeout_s: float | None) -> GateSummary:
    heartbeat_age = (
        None
        if reply.last_heartbeat_ns is None
        else (reply.as_of_ns - reply.last_heartbeat_ns) / _NS_PER_S
    )
    return GateSummary(
        running=True,
        source="admin socket",
        state=reply.state,
        cause=reply.cause,
        since_ns=reply.since_ns,
        since_age_s=(reply.as_of_ns - reply.since_ns) / _NS_PER_S,
        agent_connected=reply.agent_connected,
        last_heartbeat_ns=reply.last_heartbeat_ns,
        heartbeat_age_s=heartbeat_age,
        heartbeat_timeout_s=timeout_s,
        unknown_orders=reply.unknown_orders,
        config_hash=reply.config_hash,
    )


def _recorded_summary(
    unreachable: str, mode: ModeView | None, now_ns: int, timeout_s: float | None
) -> GateSummary:
    if mode is None:
        return GateSummary(running=False, unreachable=unreachable, heartbeat_timeout_s=timeout_s)
    return GateSummary(
        running=False,
        unreachable=unreachable,
        source="gate.db",
        state=mode.state,
        cause=f"{mode.cause}: {mode.detail}" if mode.detail else mode.cause,
        since_ns=mode.since_ns,
        since_age_s=(now_ns - mode.since_ns) / _NS_PER_S,
        heartbeat_timeout_s=timeout_s,
    )


def _anomalies(gate: GateSummary, audit: AuditSummary | None) -> tuple[str, ...]:
    # The dashboard's Anomalies panel flags the same conditions: one rule, two views.
    facts = GateFacts(
        state=gate.state,
        running=gate.running,
        cause=gate.cause,
        since_ns=gate.since_ns,
        last_heartbeat_ns=gate.last_heartbeat_ns,
        heartbeat_age_s=gate.heartbeat_age_s,
        heartbeat_timeout_s=gate.heartbeat_timeout_s,
    )
    problem = None if audit is None or audit.ok else str(audit.error or audit.first_problem)
    return tuple(a.text for a in status_anomalies(facts, problem))


class GateRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What gate.db holds, as read through `trading_gate.read` in one snapshot."""

    mode: ModeView | None
    open_orders: tuple[OrderView, ...]
    positions: tuple[PositionView, ...]
    fills: tuple[FillView, ...]


def build_report(
    *,
    data_dir: str,
    now_ns: int,
    live: AdminStatusReply | None,
    unreachable: str | None,
    record: GateRecord | None,
    agent: AgentPnl | None,
    audit: AuditSummary | None,
    heartbeat_timeout_s: float | None,
    notes: Iterable[str] = (),
    logged: Iterable[str] = (),
) -> StatusReport:
    """Everything `te status` shows. `live` is the running gate's reply, or None with
    `unreachable` saying why; `record` is gate.db, or None when there is none."""
    if live is not None:
        gate = _live_summary(live, heartbeat_timeout_s)
    else:
        why = unreachable or "gate not running"
        mode = record.mode if record is not None else None
        gate = _recorded_summary(why, mode, now_ns, heartbeat_timeout_s)
    return StatusReport(
        data_dir=data_dir,
        as_of_ns=live.as_of_ns if live is not None else now_ns,
        gate=gate,
        positions=record.positions if record is not None else (),
        open_orders=record.open_orders if record is not None else (),
        gate_pnl=gate_pnl(record.fills) if record is not None else None,
        agent_pnl=agent,
        audit=audit,
        anomalies=(*_anomalies(gate, audit), *logged),
        notes=tuple(notes),
    )
