"""Read-only queries over gate.db, for the console: the trading state and its cause, the
decisions with every check's outcome, orders, fills and the positions they add up to.

The console must never change the gate's journal, so the file is opened through
SQLite's ``mode=ro`` URI with ``PRAGMA query_only``; a missing file is an error, never
a new empty database. `open_gate_db` holds one read transaction, so every query made
through it sees the same snapshot of a gate that keeps writing (WAL).

Rows are decoded leniently (unknown fields ignored) into frozen values with `Decimal`
money: a dashboard must still show an older or newer journal, not crash on it.

Errors::

    GateDbError            gate.db cannot be read; the message names the file and why
        GateDbMissing      there is no gate.db at that path (the gate never ran there)
"""

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Context, Decimal
from pathlib import Path
from typing import Final

import msgspec

from trading_contract import OrderStatus, Side, TradingState
from trading_gate.core.order_fsm import Order, is_live
from trading_gate.core.trading_state import GateMode
from trading_gate.ports import OrderRequest, VenueFill

__all__ = [
    "CheckView",
    "CodeCount",
    "DecisionView",
    "FillView",
    "GateCounts",
    "GateDbError",
    "GateDbMissing",
    "KillView",
    "ModeChange",
    "ModeView",
    "OrderView",
    "PositionView",
    "counts",
    "decisions",
    "fills",
    "last_kill",
    "mode",
    "mode_history",
    "open_gate_db",
    "open_orders",
    "positions",
    "positions_from_fills",
    "recent_orders",
    "rejections_by_code",
]

_BUSY_TIMEOUT_S: Final = 1.0
_PRICE: Final = Context(prec=34)  # averages and partial cost shares: display only
_EXACT: Final = Context(prec=300)  # sums and products of journal decimals: exact
_ZERO: Final = Decimal(0)
# order_fsm.TERMINAL as SQL; every other status is live (a test writes one order of each).
_OPEN_ORDERS: Final = (
    "SELECT request, state, venue_order_id FROM orders WHERE "
    "json_extract(state, '$.status') NOT IN ('filled', 'cancelled', 'rejected', 'expired') "
    "ORDER BY rowid"
)
_ORDER_COUNTS: Final = (
    "SELECT count(*), coalesce(sum("
    "json_extract(state, '$.status') NOT IN ('filled', 'cancelled', 'rejected', 'expired')"
    "), 0) FROM orders"
)
_DECISIONS: Final = (
    "SELECT seq, ts_wall_ns, payload FROM audit WHERE event_type IN (?, ?) "
    "ORDER BY seq DESC LIMIT ?"
)


class GateDbError(Exception):
    """gate.db cannot be read; the message names the file and what is wrong."""


class GateDbMissing(GateDbError):
    """There is no gate.db at the path: the gate has not run in this data directory."""


# ---------------------------------------------------------------- values


class ModeView(msgspec.Struct, frozen=True, kw_only=True):
    """The trading state the gate journaled last, the first cause, and who set it."""

    state: TradingState
    cause: str
    detail: str
    since_ns: int
    set_by: str
    later_causes: tuple[str, ...]


class ModeChange(msgspec.Struct, frozen=True, kw_only=True):
    """One journaled change of trading state (an audit ``gate.mode`` row)."""

    seq: int
    ts_ns: int
    state: TradingState
    cause: str
    detail: str
    set_by: str


class CheckView(msgspec.Struct, frozen=True, kw_only=True):
    """One check's outcome on one order: passed, or the code and limit that refused."""

    name: str
    passed: bool
    code: str | None = None
    message: str = ""
    fired_by: str = ""


class DecisionView(msgspec.Struct, frozen=True, kw_only=True):
    """One order decision as audited: the request, the verdict and every check."""

    seq: int
    ts_ns: int
    intent_id: str
    strategy_id: str
    product_id: str
    side: str
    order_type: str
    size: Decimal
    size_in: str
    limit_price: Decimal | None
    reduce_only: bool
    accepted: bool
    code: str | None  # None when accepted
    message: str
    fired_by: str
    refused_by: tuple[str, ...]  # names of every check that refused, in check order
    checks: tuple[CheckView, ...]
    mode: str
    config_sha256: str
    regime: str
    note: str


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """An approved order's journaled lifecycle value."""

    client_order_id: str
    intent_id: str
    product_id: str
    side: Side
    order_type: str
    time_in_force: str
    size: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    live: bool
    filled_size: Decimal
    average_price: Decimal | None
    fees: Decimal
    created_ns: int
    updated_ns: int
    venue_order_id: str | None


class FillView(msgspec.Struct, frozen=True, kw_only=True):
    """One fill the gate applied (price and fee in USD, size in base)."""

    trade_id: str
    client_order_id: str
    venue_order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: str
    ts_ns: int


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    """A product's position from the gate's fills alone, at average cost.

    `realized_pnl_usd` is before fees (they are in `fees_usd`); `average_entry_usd` is
    None when flat.
    """

    product_id: str
    base: Decimal
    average_entry_usd: Decimal | None
    last_price_usd: Decimal
    realized_pnl_usd: Decimal
    fees_usd: Decimal
    fill_count: int


class CodeCount(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    count: int


class GateCounts(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int
    rejected: int
    orders: int
    open_orders: int
    fills: int
    audit_rows: int
    last_audit_ns: int | None


class KillView(msgspec.Struct, frozen=True, kw_only=True):
    """The last kill switch report: whether the book was verified empty afterwards."""

    seq: int
    ts_ns: int
    verified_empty: bool
    cancels_sent: int
    remaining: tuple[str, ...]
    errors: tuple[str, ...]


# ---------------------------------------------------------------- audit payloads (lenient)


class _Verdict(msgspec.Struct, frozen=True):
    outcome: str
    code: str | None = None
    message: str = ""
    fired_by: str = ""


class _Decision(msgspec.Struct, frozen=True):
    verdict: _Verdict


class _Reason(msgspec.Struct, frozen=True):
    regime: str = ""
    note: str = ""


class _Request(msgspec.Struct, frozen=True):
    intent_id: str
    product_id: str
    side: str
    order_type: str
    size: Decimal
    size_in: str
    limit_price: Decimal | None = None
    reduce_only: bool = False
    strategy_id: str = ""
    reason: _Reason = _Reason()


class _Rejection(msgspec.Struct, frozen=True):
    code: str
    message: str = ""
    fired_by: str = ""


class _Check(msgspec.Struct, frozen=True):
    name: str
    rejection: _Rejection | None = None


class _DecisionPayload(msgspec.Struct, frozen=True):
    request: _Request
    decision: _Decision
    checks: tuple[_Check, ...] = ()
    config_sha256: str = ""
    mode: str = ""


class _KillPayload(msgspec.Struct, frozen=True):
    verified_empty: bool
    cancels_sent: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


# ---------------------------------------------------------------- opening


@contextmanager
def open_gate_db(path: Path) -> Iterator[sqlite3.Connection]:
    """gate.db, read-only, inside one read transaction (one consistent snapshot).

    Raises:
        GateDbMissing: there is no file at `path`.
        GateDbError: it cannot be opened or read, or is not a gate database.
    """
    if not path.is_file():
        raise GateDbMissing(f"no gate.db at {path}: the gate has not run in this data directory")
    # as_uri() percent-encodes the path, so '?' or '#' in a folder name cannot add options.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with _translated(path):
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        with _translated(path):
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            missing = _missing_tables(conn)
            if missing:
                raise GateDbError(f"{path} is not a gate journal: no {', '.join(missing)} table")
        with _translated(path):
            yield conn
    finally:
        conn.close()


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    # The one place a sqlite3 failure becomes an error a console can show.
    try:
        yield
    except sqlite3.Error as exc:
        raise GateDbError(f"cannot read {path}: {exc}") from exc
    except msgspec.ValidationError as exc:
        raise GateDbError(f"{path} holds a row this console cannot read: {exc}") from exc


def _missing_tables(conn: sqlite3.Connection) -> list[str]:
    present = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
    }
    return [t for t in ("audit", "orders", "fills", "gate_mode") if t not in present]


# ---------------------------------------------------------------- the trading state


def mode(conn: sqlite3.Connection) -> ModeView | None:
    """The trading state last journaled; None before the gate ever saved one."""
    row = conn.execute("SELECT mode FROM gate_mode WHERE id = 1").fetchone()
    if row is None:
        return None
    m = msgspec.json.decode(row[0], type=GateMode)
    return ModeView(
        state=m.state,
        cause=m.cause.value,
        detail=m.detail,
        since_ns=m.since_ns,
        set_by=m.set_by,
        later_causes=tuple(c.value for c in m.later_causes),
    )


def mode_history(conn: sqlite3.Connection, limit: int = 20) -> tuple[ModeChange, ...]:
    """The last `limit` changes of trading state, newest first."""
    rows = conn.execute(
        "SELECT seq, ts_wall_ns, payload FROM audit WHERE event_type = 'gate.mode' "
        "ORDER BY seq DESC LIMIT ?",
        (limit,),
    )
    changes = []
    for seq, ts, payload in rows:
        m = msgspec.json.decode(payload, type=GateMode)
        changes.append(
            ModeChange(
                seq=seq,
                ts_ns=ts,
                state=m.state,
                cause=m.cause.value,
                detail=m.detail,
                set_by=m.set_by,
            )
        )
    return tuple(changes)


def last_kill(conn: sqlite3.Connection) -> KillView | None:
    """The most recent kill switch report, or None if the gate never ran one."""
    row = conn.execute(
        "SELECT seq, ts_wall_ns, payload FROM audit WHERE event_type = 'kill.report' "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    report = msgspec.json.decode(row[2], type=_KillPayload)
    return KillView(
        seq=row[0],
        ts_ns=row[1],
        verified_empty=report.verified_empty,
        cancels_sent=len(report.cancels_sent),
        remaining=report.remaining,
        errors=report.errors,
    )


# ---------------------------------------------------------------- decisions


def decisions(
    conn: sqlite3.Connection, limit: int = 50, *, rejected_only: bool = False
) -> tuple[DecisionView, ...]:
    """The last `limit` order decisions, newest first, each with every check's outcome."""
    accepted = "order.rejected" if rejected_only else "order.accepted"
    rows = conn.execute(_DECISIONS, (accepted, "order.rejected", limit))
    return tuple(_decision(seq, ts, payload) for seq, ts, payload in rows)


def _decision(seq: int, ts_ns: int, payload: str) -> DecisionView:
    p = msgspec.json.decode(payload, type=_DecisionPayload)
    verdict, request = p.decision.verdict, p.request
    checks = tuple(
        CheckView(name=c.name, passed=True)
        if c.rejection is None
        else CheckView(
            name=c.name,
            passed=False,
            code=c.rejection.code,
            message=c.rejection.message,
            fired_by=c.rejection.fired_by,
        )
        for c in p.checks
    )
    return DecisionView(
        seq=seq,
        ts_ns=ts_ns,
        intent_id=request.intent_id,
        strategy_id=request.strategy_id,
        product_id=request.product_id,
        side=request.side,
        order_type=request.order_type,
        size=request.size,
        size_in=request.size_in,
        limit_price=request.limit_price,
        reduce_only=request.reduce_only,
        accepted=verdict.outcome == "accepted",
        code=verdict.code,
        message=verdict.message,
        fired_by=verdict.fired_by,
        refused_by=tuple(c.name for c in checks if not c.passed),
        checks=checks,
        mode=p.mode,
        config_sha256=p.config_sha256,
        regime=request.reason.regime,
        note=request.reason.note,
    )


def rejections_by_code(conn: sqlite3.Connection) -> tuple[CodeCount, ...]:
    """How many orders the gate refused, per reject code, most frequent first."""
    rows = conn.execute(
        "SELECT json_extract(payload, '$.decision.verdict.code') AS code, count(*) AS n "
        "FROM audit WHERE event_type = 'order.rejected' GROUP BY code ORDER BY n DESC, code"
    )
    return tuple(CodeCount(code=str(code), count=n) for code, n in rows)


def counts(conn: sqlite3.Connection) -> GateCounts:
    """Totals for the headline numbers: decisions, orders, open orders, fills."""
    accepted, rejected, rows, last = conn.execute(
        "SELECT sum(event_type = 'order.accepted'), sum(event_type = 'order.rejected'), "
        "count(*), max(ts_wall_ns) FROM audit"
    ).fetchone()
    orders, live = conn.execute(_ORDER_COUNTS).fetchone()
    (fill_count,) = conn.execute("SELECT count(*) FROM fills").fetchone()
    return GateCounts(
        accepted=accepted or 0,
        rejected=rejected or 0,
        orders=orders,
        open_orders=live,
        fills=fill_count,
        audit_rows=rows,
        last_audit_ns=last,
    )


# ---------------------------------------------------------------- orders and fills


def open_orders(conn: sqlite3.Connection) -> tuple[OrderView, ...]:
    """Every order still live (not filled, cancelled, rejected or expired), oldest first."""
    return tuple(_order(*row) for row in conn.execute(_OPEN_ORDERS))


def recent_orders(conn: sqlite3.Connection, limit: int = 50) -> tuple[OrderView, ...]:
    """The last `limit` approved orders, newest first, whatever their status."""
    rows = conn.execute(
        "SELECT request, state, venue_order_id FROM orders ORDER BY rowid DESC LIMIT ?", (limit,)
    )
    return tuple(_order(*row) for row in rows)


def _order(request_json: str, state_json: str, venue_order_id: str | None) -> OrderView:
    request = msgspec.json.decode(request_json, type=OrderRequest)
    order = msgspec.json.decode(state_json, type=Order)
    return OrderView(
        client_order_id=order.client_order_id,
        intent_id=order.intent_id,
        product_id=order.product_id,
        side=order.side,
        order_type=request.order_type.value,
        time_in_force=request.time_in_force.value,
        size=order.size,
        limit_price=request.limit_price,
        status=order.status,
        live=is_live(order.status),
        filled_size=order.filled_size,
        average_price=order.average_price,
        fees=order.fees,
        created_ns=order.created_ns,
        updated_ns=order.updated_ns,
        venue_order_id=venue_order_id,
    )


def fills(conn: sqlite3.Connection, limit: int | None = None) -> tuple[FillView, ...]:
    """The fills the gate applied, in the order applied; with `limit`, only the last ones."""
    if limit is None:
        rows = conn.execute("SELECT fill FROM fills ORDER BY rowid").fetchall()
    else:
        rows = conn.execute(
            "SELECT fill FROM (SELECT rowid, fill FROM fills ORDER BY rowid DESC LIMIT ?) "
            "ORDER BY rowid",
            (limit,),
        ).fetchall()
    return tuple(_fill(msgspec.json.decode(row[0], type=VenueFill)) for row in rows)


def _fill(f: VenueFill) -> FillView:
    return FillView(
        trade_id=f.trade_id,
        client_order_id=f.client_order_id,
        venue_order_id=f.venue_order_id,
        product_id=f.product_id,
        side=f.side,
        price=f.price,
        size=f.size,
        fee=f.fee,
        liquidity=f.liquidity.value,
        ts_ns=f.ts_ns,
    )


def positions(conn: sqlite3.Connection) -> tuple[PositionView, ...]:
    """Every product the gate has filled, with its position folded from all its fills."""
    return positions_from_fills(fills(conn))


# ---------------------------------------------------------------- positions (pure)


class _Book(msgspec.Struct, kw_only=True):
    base: Decimal = _ZERO
    cost: Decimal = _ZERO  # what the open position cost, signed like `base`
    last: Decimal = _ZERO
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    count: int = 0


def positions_from_fills(fills: Iterable[FillView]) -> tuple[PositionView, ...]:
    """Positions at average cost, by product id.

    A fill that adds to the position adds its notional to the cost; one that reduces it
    realizes its proceeds less the cost share it closes; one that crosses zero opens the
    rest at its own price. Closing a whole position takes its whole cost, so a round trip
    back to flat realizes exactly (sells - buys), with no rounding.
    """
    books: dict[str, _Book] = {}
    for f in fills:
        book = books.setdefault(f.product_id, _Book())
        _apply(book, f.size if f.side is Side.BUY else f.size.copy_negate(), f.price)
        book.fees = _EXACT.add(book.fees, f.fee)
        book.last = f.price
        book.count += 1
    return tuple(
        PositionView(
            product_id=product,
            base=_tidy(b.base),
            average_entry_usd=_tidy(_PRICE.divide(b.cost, b.base)) if b.base else None,
            last_price_usd=b.last,
            realized_pnl_usd=_tidy(b.realized),
            fees_usd=b.fees,
            fill_count=b.count,
        )
        for product, b in sorted(books.items())
    )


def _apply(book: _Book, signed: Decimal, price: Decimal) -> None:
    held = book.base
    book.base = _EXACT.add(held, signed)
    if held == 0 or (held > 0) == (signed > 0):
        book.cost = _EXACT.add(book.cost, _EXACT.multiply(signed, price))
        return
    closed = min(abs(held), abs(signed))
    share = (
        book.cost
        if closed == abs(held)
        else _PRICE.divide(_EXACT.multiply(book.cost, closed), abs(held))
    )
    proceeds = _EXACT.multiply(closed if held > 0 else closed.copy_negate(), price)
    book.realized = _EXACT.add(book.realized, _EXACT.subtract(proceeds, share))
    book.cost = _EXACT.subtract(book.cost, share)
    if book.base != 0 and (book.base > 0) != (held > 0):
        book.cost = _EXACT.multiply(book.base, price)


def _tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros, never in exponent form ("0E-8" is 0)."""
    if not value:
        return _ZERO
    normal = value.normalize(_EXACT)
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]
