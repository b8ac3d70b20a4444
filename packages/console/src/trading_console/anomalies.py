"""What `te status` and the dashboard flag as anomalies, decided in one place.

Two kinds. Standing conditions come from the trading state and the audit chain as the
caller found them (`status_anomalies`, pure): the gate not ACTIVE, no agent heartbeat
for longer than the dead man's timeout, an audit chain that does not verify. Past
events come from gate.db's audit log (`audit_anomalies`, over a read-only connection
the caller opened with `trading_gate.read.open_gate_db`): a suspect exchange stream, a
reconciliation that found problems, a refused rules or config reload, a fill for an
order the gate never placed, a kill switch that could not verify the book empty.

Each `Anomaly` says when (ns since the epoch; None when not tied to a moment), where
(`source`: "gate" for the trading state, "agent" for its heartbeat as the gate sees
it, "audit" for the chain and the audit log's events) and what, in words.
"""

import sqlite3
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final

import msgspec

from trading_contract import TradingState

__all__ = [
    "AUDIT_EVENT_TYPES",
    "Anomaly",
    "GateFacts",
    "audit_anomalies",
    "newest_first",
    "status_anomalies",
]

_LIST_CAP: Final = 5  # problems quoted in one anomaly's text; the audit row has them all

# Only the rows that are anomalies, so LIMIT bounds what is shown: a clean reconciliation
# and a verified kill are routine. json_extract gives a JSON false as 0.
_AUDIT_ANOMALIES: Final = (
    "SELECT seq, ts_wall_ns, event_type, payload FROM audit "
    "WHERE event_type IN ('exchange.stream_suspect', 'rules.reload_refused', "
    "'config.reload_refused', 'fill.external') "
    "OR (event_type = 'reconcile.done' AND json_array_length(payload, '$.problems') > 0) "
    "OR (event_type = 'kill.report' AND json_extract(payload, '$.verified_empty') = 0) "
    "ORDER BY seq DESC LIMIT ?"
)


class Anomaly(msgspec.Struct, frozen=True, kw_only=True):
    """One thing an operator should look at. `kind` names the check that found it;
    `seq` is the audit row it was read from, if any."""

    ts_ns: int | None
    source: str  # "gate" | "agent" | "audit"
    kind: str
    text: str
    seq: int | None = None


class GateFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The gate as the caller found it: live (`running`) or as gate.db last recorded
    it. The heartbeat's age is known only from a running gate's status reply."""

    state: TradingState | None
    running: bool
    cause: str | None
    since_ns: int | None = None
    last_heartbeat_ns: int | None = None
    heartbeat_age_s: float | None = None
    heartbeat_timeout_s: float | None = None


def status_anomalies(
    gate: GateFacts, audit_problem: str | None, *, audit_checked_ns: int | None = None
) -> tuple[Anomaly, ...]:
    """The standing conditions, in `te status`'s order and words. `audit_problem` is
    why the chain does not verify (None: it verifies, or was not checked)."""
    found: list[Anomaly] = []
    if gate.state is not None and gate.state is not TradingState.ACTIVE:
        where = "" if gate.running else " (as gate.db last recorded it)"
        text = f"gate {gate.state.value.upper()}{where}: {gate.cause}"
        found.append(Anomaly(ts_ns=gate.since_ns, source="gate", kind="gate_state", text=text))
    if (
        gate.heartbeat_age_s is not None
        and gate.heartbeat_timeout_s is not None
        and gate.heartbeat_age_s > gate.heartbeat_timeout_s
    ):
        text = (
            f"no agent heartbeat for {gate.heartbeat_age_s:.1f} s"
            f" (dead man's timeout {gate.heartbeat_timeout_s:g} s)"
        )
        found.append(
            Anomaly(ts_ns=gate.last_heartbeat_ns, source="agent", kind="heartbeat", text=text)
        )
    if audit_problem is not None:
        found.append(
            Anomaly(
                ts_ns=audit_checked_ns,
                source="audit",
                kind="audit_chain",
                text=f"audit chain does not verify: {audit_problem}",
            )
        )
    return tuple(found)


# ---------------------------------------------------------------- the audit log's events


class _StreamSuspect(msgspec.Struct, frozen=True):
    reason: str = ""


class _Problems(msgspec.Struct, frozen=True):
    problems: tuple[str, ...] = ()


class _ExternalFill(msgspec.Struct, frozen=True):
    trade_id: str = ""
    client_order_id: str = ""
    product_id: str = ""
    side: str = ""
    size: Decimal | None = None
    price: Decimal | None = None


class _Kill(msgspec.Struct, frozen=True):
    remaining: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    auth_refused: bool = False


def _listed(items: tuple[str, ...]) -> str:
    shown = "; ".join(items[:_LIST_CAP])
    more = len(items) - _LIST_CAP
    return f"{shown}; and {more} more" if more > 0 else shown


def _stream_suspect(payload: str) -> str:
    why = msgspec.json.decode(payload, type=_StreamSuspect).reason
    return f"exchange stream suspect{': ' + why if why else ''}; the gate reconciles"


def _reconcile(payload: str) -> str:
    found = msgspec.json.decode(payload, type=_Problems).problems
    return f"reconciliation found {len(found)} problem(s): {_listed(found)}"


def _refused(what: str) -> Callable[[str], str]:
    def text(payload: str) -> str:
        found = msgspec.json.decode(payload, type=_Problems).problems
        return f"{what} reload refused, the one in force stays: {_listed(found)}"

    return text


def _external_fill(payload: str) -> str:
    f = msgspec.json.decode(payload, type=_ExternalFill)
    return (
        f"fill {f.trade_id} for an order the gate never placed ({f.client_order_id}):"
        f" {f.side} {f.size} {f.product_id} at {f.price}"
    )


def _kill(payload: str) -> str:
    k = msgspec.json.decode(payload, type=_Kill)
    why = [f"still open: {', '.join(k.remaining)}"] if k.remaining else []
    if k.auth_refused:
        why.append("the venue refused the key")
    why += k.errors[:_LIST_CAP]
    return "kill switch could not verify the book empty" + (f": {'; '.join(why)}" if why else "")


# event type -> (Anomaly.kind, its text from the payload)
_AUDIT_EVENTS: Final[dict[str, tuple[str, Callable[[str], str]]]] = {
    "exchange.stream_suspect": ("stream_suspect", _stream_suspect),
    "reconcile.done": ("reconcile_problems", _reconcile),
    "rules.reload_refused": ("rules_reload_refused", _refused("rules")),
    "config.reload_refused": ("config_reload_refused", _refused("safety config")),
    "fill.external": ("external_fill", _external_fill),
    "kill.report": ("kill_not_verified", _kill),
}
AUDIT_EVENT_TYPES: Final = tuple(_AUDIT_EVENTS)


def _from_row(seq: int, ts_ns: int, event_type: str, payload: str) -> Anomaly:
    kind, text = _AUDIT_EVENTS[event_type]
    return Anomaly(ts_ns=ts_ns, source="audit", kind=kind, text=text(payload), seq=seq)


def audit_anomalies(conn: sqlite3.Connection, limit: int = 50) -> tuple[Anomaly, ...]:
    """The last `limit` anomalous rows of gate.db's audit log, newest first.

    Raises:
        ValueError: `limit` is below 1.
        sqlite3.Error, msgspec.DecodeError: the log cannot be read (the caller's
            `open_gate_db` turns these into `GateDbError`).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = conn.execute(_AUDIT_ANOMALIES, (limit,))
    return tuple(_from_row(int(s), int(t), str(e), str(p)) for s, t, e, p in rows)


def newest_first(found: Iterable[Anomaly], limit: int) -> tuple[Anomaly, ...]:
    """At most `limit` anomalies, newest first; undated ones (standing conditions not
    tied to a moment) lead. Ties keep their given order."""
    ordered = sorted(found, key=lambda a: (a.ts_ns is not None, -(a.ts_ns or 0)))
    return tuple(ordered[:limit])
