"""The order journal in gate.db: what the gate has decided and sent, written before it
acts, in the same transaction as the audit rows that describe it.

Tables (created if absent, next to the audit table):
- `intents`: one row per intent id, with the Decision the agent was given, so a
  replayed intent gets the same answer and never a second order;
- `orders`: the lifecycle value of every approved order (trading_gate.core.order_fsm);
- `fills`: every fill applied, keyed by trade id, so a repeated fill is never counted
  twice, even across restarts;
- `gate_mode`: the trading state, so HALTED survives a restart.

Reads load everything into memory at start; the gate is the only writer.
"""

import sqlite3
from typing import Final

import msgspec

from trading_contract import ClientOrderId, Decision, IntentId, VenueOrderId
from trading_gate.audit import AuditTransaction
from trading_gate.core.order_fsm import Order
from trading_gate.core.trading_state import GateMode
from trading_gate.ports import OrderRequest, VenueFill

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS intents (
    intent_id TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    client_order_id TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    venue_order_id TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS fills (
    trade_id TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    fill TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS gate_mode (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL
) STRICT;
"""

_encode: Final = msgspec.json.Encoder()


class JournalOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An approved order as the journal holds it."""

    request: OrderRequest
    order: Order
    venue_order_id: VenueOrderId | None = None


class JournalSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    decisions: dict[IntentId, Decision]
    orders: dict[ClientOrderId, JournalOrder]
    fills: tuple[VenueFill, ...]
    mode: GateMode | None


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the journal's tables if absent (idempotent; run once at open)."""
    conn.executescript(_SCHEMA)


def load(conn: sqlite3.Connection) -> JournalSnapshot:
    """Everything the journal holds, for the gate to rebuild its state at start."""
    decisions = {
        IntentId(intent): msgspec.json.decode(decision, type=Decision)
        for intent, decision in conn.execute("SELECT intent_id, decision FROM intents")
    }
    orders: dict[ClientOrderId, JournalOrder] = {}
    for coid, request, state, venue_id in conn.execute(
        "SELECT client_order_id, request, state, venue_order_id FROM orders"
    ):
        orders[ClientOrderId(coid)] = JournalOrder(
            request=msgspec.json.decode(request, type=OrderRequest),
            order=msgspec.json.decode(state, type=Order),
            venue_order_id=None if venue_id is None else VenueOrderId(venue_id),
        )
    fills = tuple(
        msgspec.json.decode(row[0], type=VenueFill)
        for row in conn.execute("SELECT fill FROM fills ORDER BY rowid")
    )
    mode_row = conn.execute("SELECT mode FROM gate_mode WHERE id = 1").fetchone()
    mode = None if mode_row is None else msgspec.json.decode(mode_row[0], type=GateMode)
    return JournalSnapshot(decisions=decisions, orders=orders, fills=fills, mode=mode)


def record_decision(txn: AuditTransaction, decision: Decision, coid: ClientOrderId | None) -> None:
    if decision.intent_id is None:
        return
    txn.execute(
        "INSERT INTO intents (intent_id, decision, client_order_id) VALUES (?, ?, ?)",
        (decision.intent_id, _encode.encode(decision).decode(), coid),
    )


def insert_order(txn: AuditTransaction, entry: JournalOrder) -> None:
    txn.execute(
        "INSERT INTO orders (client_order_id, intent_id, request, state, venue_order_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            entry.order.client_order_id,
            entry.order.intent_id,
            _encode.encode(entry.request).decode(),
            _encode.encode(entry.order).decode(),
            entry.venue_order_id,
        ),
    )


def update_order(txn: AuditTransaction, entry: JournalOrder) -> None:
    txn.execute(
        "UPDATE orders SET state = ?, venue_order_id = ? WHERE client_order_id = ?",
        (_encode.encode(entry.order).decode(), entry.venue_order_id, entry.order.client_order_id),
    )


def insert_fill(txn: AuditTransaction, fill: VenueFill) -> None:
    txn.execute(
        "INSERT INTO fills (trade_id, client_order_id, fill) VALUES (?, ?, ?)",
        (fill.trade_id, fill.client_order_id, _encode.encode(fill).decode()),
    )


def save_mode(txn: AuditTransaction, mode: GateMode) -> None:
    txn.execute(
        "INSERT INTO gate_mode (id, mode) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET mode = excluded.mode",
        (_encode.encode(mode).decode(),),
    )
