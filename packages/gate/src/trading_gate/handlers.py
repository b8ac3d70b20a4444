"""The two socket protocols, translated into Gate calls: agent sessions and the console.

Thin on purpose: every decision is the policy's, every effect the Gate's. These only
route messages, answer queries from the Gate's state, and speak to the dead man's
watchdog on heartbeats, handshakes and disconnects.
"""

import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Final, Protocol

from trading_contract import (
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    AdminAck,
    AdminHalt,
    AdminReloadConfig,
    AdminReloadRules,
    AdminRequest,
    AdminResume,
    AdminStatus,
    AdminStatusReply,
    Balance,
    BalancesResult,
    CancelAll,
    CancelOrder,
    Currency,
    Error,
    GateId,
    GateMessage,
    GateStateResult,
    Heartbeat,
    Hello,
    LimitInForce,
    LimitsResult,
    OpenOrder,
    OpenOrdersResult,
    OrderStatus,
    PlaceOrder,
    Position,
    PositionsResult,
    ProductId,
    Query,
    QueryKind,
    QueryReply,
    QueryResult,
    RequestId,
    SessionId,
    Welcome,
)
from trading_gate.config import settings_table
from trading_gate.core.trading_state import Cause
from trading_gate.ipc_server import SessionMessage
from trading_gate.ipc_socket import PeerCredentials
from trading_gate.journal import JournalOrder
from trading_gate.service import Gate

HEARTBEAT_INTERVAL_MS: Final = 1000
_MAX_ITEMS: Final = 100


class Watchdog(Protocol):
    def arm(self) -> None: ...

    def heartbeat(self) -> None: ...

    def disconnect(self, reason: str) -> None: ...


class AgentSession:
    """The AgentHandler: one agent at a time, its heartbeats feeding the watchdog."""

    def __init__(self, gate: Gate, watchdog: Watchdog, gate_id: str) -> None:
        self._gate = gate
        self._watchdog = watchdog
        self._gate_id = gate_id
        self.connected = False

    async def on_hello(self, hello: Hello, peer: PeerCredentials) -> Welcome | Error:
        self.connected = True
        self._watchdog.arm()
        self._gate.last_heartbeat_ns = self._gate.clock_now()
        self._gate.audit_event(
            "agent.connected", {"agent_id": hello.agent_id, "uid": peer.uid, "pid": peer.pid}
        )
        timeout_ms = self._gate.config.config.dead_man.heartbeat_timeout_s * 1000
        return Welcome(
            protocol_version=PROTOCOL_VERSION,
            gate_id=GateId(self._gate_id),
            session_id=SessionId(f"s-{secrets.token_hex(8)}"),
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            heartbeat_timeout_ms=timeout_ms,
            max_frame_bytes=MAX_FRAME_BYTES,
            state=self._gate.mode.state,
            sent_ns=self._gate.clock_now(),
        )

    async def on_message(self, message: SessionMessage) -> Sequence[GateMessage]:
        gate = self._gate
        match message:
            case Heartbeat():
                self._watchdog.heartbeat()
                gate.last_heartbeat_ns = gate.clock_now()
                return [Heartbeat(seq=message.seq, sent_ns=gate.clock_now())]
            case PlaceOrder():
                return [await gate.place(message)]
            case CancelOrder():
                return [gate.cancel(message)]
            case CancelAll():
                return [gate.cancel_all(message)]
            case Query():
                result = await query_result(gate, message.kind)
                return [
                    QueryReply(
                        request_id=message.request_id, result=result, as_of_ns=gate.clock_now()
                    )
                ]

    async def on_disconnect(self, reason: str) -> None:
        self.connected = False
        self._gate.audit_event("agent.disconnected", {"reason": reason[:200]})
        # EOF means the agent died: the watchdog fires at once (halt, cancel, verify).
        self._watchdog.disconnect(reason)


async def query_result(gate: Gate, kind: QueryKind) -> QueryResult:
    """The answer to a Query, bounded to fit one frame."""
    match kind:
        case QueryKind.POSITIONS:
            return PositionsResult(
                positions=tuple(
                    Position(product_id=p, base_size=size, realized_pnl_usd=Decimal(0))
                    for p, size in sorted(gate.ledger.positions_base.items())
                )[:_MAX_ITEMS]
            )
        case QueryKind.BALANCES:
            balances = await gate.balances()
            return BalancesResult(
                balances=tuple(
                    Balance(currency=Currency(b.currency), available=b.available, hold=b.hold)
                    for b in balances
                )[:_MAX_ITEMS]
            )
        case QueryKind.OPEN_ORDERS:
            return OpenOrdersResult(
                orders=tuple(_open_order(e) for e in gate.live_orders())[:_MAX_ITEMS]
            )
        case QueryKind.GATE_STATE:
            return GateStateResult(
                state=gate.mode.state,
                cause=gate.mode.cause.value,
                since_ns=gate.mode.since_ns,
                last_heartbeat_ns=gate.last_heartbeat_ns,
            )
        case QueryKind.LIMITS:
            return LimitsResult(config_hash=gate.config.sha256, limits=limits_in_force(gate))


def _open_order(entry: JournalOrder) -> OpenOrder:
    order, request = entry.order, entry.request
    return OpenOrder(
        client_order_id=order.client_order_id,
        intent_id=order.intent_id,
        product_id=order.product_id,
        side=order.side,
        order_type=request.order_type,
        size=request.size,
        size_in=request.size_in,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        filled_size=order.filled_size,
        status=order.status,
        created_ns=order.created_ns,
    )


def limits_in_force(gate: Gate) -> tuple[LimitInForce, ...]:
    """Every numeric limit of the config in force, as (key, product, value)."""
    limits: list[LimitInForce] = []
    for key, text in settings_table(gate.config.config):
        try:
            value = Decimal(text)
        except ArithmeticError:
            continue
        if not value.is_finite():
            continue
        parts = key.split(".")
        product = ProductId(parts[1]) if parts[0] == "products" and len(parts) == 3 else None
        name = parts[-1] if product else key
        limits.append(LimitInForce(key=name.lower(), product_id=product, value=value))
    return tuple(limits[:_MAX_ITEMS])


def one_line(text: str) -> str:
    """A report as the contract's one-line Text: lines joined with " | ", caret lines
    (which point at nothing once joined) dropped, other control characters as "?"."""
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and set(line) != {"^"}]
    joined = " | ".join(kept)
    return "".join(ch if ch.isprintable() else "?" for ch in joined)[:500]


class ConsoleSession:
    """The AdminHandler: status, halt, resume, reloads; every request audited with its uid."""

    def __init__(self, gate: Gate, agent: AgentSession) -> None:
        self._gate = gate
        self._agent = agent

    async def on_request(
        self, request: AdminRequest, peer: PeerCredentials
    ) -> AdminAck | AdminStatusReply:
        gate = self._gate
        if not isinstance(request, AdminStatus):
            gate.audit_event(
                "admin.request", {"type": type(request).__name__, "uid": peer.uid, "pid": peer.pid}
            )
        match request:
            case AdminStatus():
                return self._status(request.request_id)
            case AdminHalt():
                report = await gate.halt(
                    Cause.KILL_SWITCH, request.reason or "operator kill", set_by=request.operator
                )
                flat = "verified empty" if report.verified_empty else "NOT EMPTY: see alerts"
                return AdminAck(
                    request_id=request.request_id,
                    ok=report.verified_empty,
                    message=f"halted; {len(report.cancels_sent)} cancels sent; book {flat}",
                )
            case AdminResume():
                refused = gate.resume(request.to, request.operator, request.reason)
                return AdminAck(
                    request_id=request.request_id,
                    ok=refused is None,
                    message=refused or f"resumed to {request.to.value}",
                )
            case AdminReloadConfig():
                ok, summary = gate.reload_config()
                return AdminAck(request_id=request.request_id, ok=ok, message=one_line(summary))
            case AdminReloadRules():
                ok, summary = gate.reload_rules()
                return AdminAck(request_id=request.request_id, ok=ok, message=one_line(summary))

    def _status(self, request_id: RequestId) -> AdminStatusReply:
        gate = self._gate
        live = gate.live_orders()
        return AdminStatusReply(
            request_id=request_id,
            state=gate.mode.state,
            cause=(
                f"{gate.mode.cause.value}: {gate.mode.detail}"
                if gate.mode.detail
                else gate.mode.cause.value
            )[:500],
            since_ns=gate.mode.since_ns,
            agent_connected=self._agent.connected,
            last_heartbeat_ns=gate.last_heartbeat_ns,
            open_orders=len(live),
            unknown_orders=sum(1 for e in live if e.order.status is OrderStatus.UNKNOWN),
            config_hash=gate.config.sha256,
            rules_hash=gate.rules.sha256,
            as_of_ns=gate.clock_now(),
        )
