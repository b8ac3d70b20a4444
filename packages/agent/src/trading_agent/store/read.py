"""Read-only queries over agent.db, for the console: P&L and its curve, closed trades,
recent signals and skips, the gate's refusals by code, and each strategy's record.

agent.db is opened through SQLite's ``mode=ro`` URI with ``PRAGMA query_only``, and a
missing file is an error, never a new empty database. `open_agent_db` holds one read
transaction, so every query made through it sees one snapshot of a store the engine
keeps appending to. Bodies are decoded leniently (unknown fields ignored) into frozen
values with `Decimal` money.

P&L is what the fills say: cash moved by fills (less fees) plus every holding at its
latest known price, where a price is known from a fill or a signal's reference price
(the candle close it was decided on). Realized P&L is the sum of closed trades' net
P&L. The store records no starting cash and no per-candle mark, so this is P&L since
the store began, not equity, and it moves between fills only when a signal brings a
new price.

Errors::

    AgentDbError           agent.db cannot be read; the message names the file and why
        AgentDbMissing     there is no agent.db at that path (the agent never ran there)
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Context, Decimal
from pathlib import Path
from typing import Final

import msgspec

__all__ = [
    "AgentDbError",
    "AgentDbMissing",
    "CodeCount",
    "GateStateSeen",
    "PnlPoint",
    "PnlSummary",
    "SignalView",
    "SkipView",
    "StrategyRecord",
    "TradeView",
    "closed_trades",
    "event_counts",
    "gate_state_seen",
    "open_agent_db",
    "pnl",
    "pnl_curve",
    "recent_signals",
    "recent_skips",
    "rejections_by_code",
    "strategy_records",
]

_BUSY_TIMEOUT_S: Final = 1.0
_EXACT: Final = Context(prec=300)
_ZERO: Final = Decimal(0)
_PNL_EVENTS: Final = (
    "SELECT seq, ts_ns, kind, body FROM events "
    "WHERE kind IN ('fill', 'signal', 'trade_closed', 'equity') ORDER BY seq"
)


class AgentDbError(Exception):
    """agent.db cannot be read; the message names the file and what is wrong."""


class AgentDbMissing(AgentDbError):
    """There is no agent.db at the path: the agent has not run in this data directory."""


# ---------------------------------------------------------------- values


class SignalView(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy said at the close of one candle (`ts_ns` is that close)."""

    seq: int
    ts_ns: int
    strategy_id: str
    product_id: str
    action: str
    reference_price: Decimal
    stop_price: Decimal | None
    regime: str
    note: str
    values: dict[str, float]


class SkipView(msgspec.Struct, frozen=True, kw_only=True):
    """A signal the engine did not act on, and why."""

    seq: int
    ts_ns: int
    strategy_id: str
    product_id: str
    action: str
    why: str


class TradeView(msgspec.Struct, frozen=True, kw_only=True):
    """One closed round trip; `net_pnl_usd = gross_pnl_usd - fees_usd`."""

    seq: int
    product_id: str
    strategy_id: str
    entry_ns: int
    exit_ns: int
    entry_price: Decimal
    exit_price: Decimal
    size: Decimal
    gross_pnl_usd: Decimal
    fees_usd: Decimal
    net_pnl_usd: Decimal
    r_multiple: Decimal | None
    fill_count: int


class CodeCount(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    count: int


class GateStateSeen(msgspec.Struct, frozen=True, kw_only=True):
    """The trading state the gate last pushed to the agent."""

    seq: int
    ts_ns: int
    state: str
    cause: str


class PnlPoint(msgspec.Struct, frozen=True, kw_only=True):
    """P&L after one event: realized (closed trades) and total (marked to market)."""

    seq: int
    ts_ns: int
    realized_usd: Decimal
    total_usd: Decimal


class PnlSummary(msgspec.Struct, frozen=True, kw_only=True):
    """P&L as of the last event read; `total_usd = realized_usd + unrealized_usd`."""

    as_of_seq: int
    fills: int
    realized_usd: Decimal
    unrealized_usd: Decimal
    total_usd: Decimal
    fees_usd: Decimal
    holdings: dict[str, Decimal]
    marks: dict[str, Decimal]


# ---------------------------------------------------------------- event bodies (lenient)


class _Signal(msgspec.Struct, frozen=True):
    strategy_id: str
    product_id: str
    action: str
    reference_price: Decimal
    stop_price: Decimal | None = None
    regime: str = ""
    note: str = ""
    values: dict[str, float] = {}


class _Skip(msgspec.Struct, frozen=True):
    strategy_id: str
    product_id: str
    action: str
    why: str = ""


class _Fill(msgspec.Struct, frozen=True):
    product_id: str
    side: str
    price: Decimal
    size: Decimal
    fee: Decimal


class _Trade(msgspec.Struct, frozen=True):
    product_id: str
    strategy_id: str
    entry_ns: int
    exit_ns: int
    entry_price: Decimal
    exit_price: Decimal
    size: Decimal
    gross_pnl_usd: Decimal
    fees_usd: Decimal
    net_pnl_usd: Decimal
    r_multiple: Decimal | None = None
    fill_count: int = 0


class _GateState(msgspec.Struct, frozen=True):
    state: str
    cause: str = ""


# ---------------------------------------------------------------- opening


@contextmanager
def open_agent_db(path: Path) -> Iterator[sqlite3.Connection]:
    """agent.db, read-only, inside one read transaction (one consistent snapshot).

    Raises:
        AgentDbMissing: there is no file at `path`.
        AgentDbError: it cannot be opened or read, or has no events table.
    """
    if not path.is_file():
        raise AgentDbMissing(f"no agent.db at {path}: the agent has not run in this data directory")
    # as_uri() percent-encodes the path, so '?' or '#' in a folder name cannot add options.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with _translated(path):
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        with _translated(path):
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            found = conn.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'events'"
            ).fetchone()
            if found is None:
                raise AgentDbError(f"{path} is not an agent store: no events table")
        with _translated(path):
            yield conn
    finally:
        conn.close()


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    # The one place a sqlite3 or decoding failure becomes an error a console can show.
    try:
        yield
    except sqlite3.Error as exc:
        raise AgentDbError(f"cannot read {path}: {exc}") from exc
    except msgspec.ValidationError as exc:
        raise AgentDbError(f"{path} holds an event this console cannot read: {exc}") from exc


def _latest(conn: sqlite3.Connection, kind: str, limit: int) -> list[tuple[int, int, str]]:
    return conn.execute(
        "SELECT seq, ts_ns, body FROM events WHERE kind = ? ORDER BY seq DESC LIMIT ?",
        (kind, limit),
    ).fetchall()


# ---------------------------------------------------------------- queries


def recent_signals(conn: sqlite3.Connection, limit: int = 50) -> tuple[SignalView, ...]:
    """The last `limit` signals, newest first."""
    views = []
    for seq, ts, body in _latest(conn, "signal", limit):
        s = msgspec.json.decode(body, type=_Signal)
        views.append(
            SignalView(
                seq=seq,
                ts_ns=ts,
                strategy_id=s.strategy_id,
                product_id=s.product_id,
                action=s.action,
                reference_price=s.reference_price,
                stop_price=s.stop_price,
                regime=s.regime,
                note=s.note,
                values=s.values,
            )
        )
    return tuple(views)


def recent_skips(conn: sqlite3.Connection, limit: int = 50) -> tuple[SkipView, ...]:
    """The last `limit` signals the engine skipped, newest first, with the reason."""
    views = []
    for seq, ts, body in _latest(conn, "skipped", limit):
        s = msgspec.json.decode(body, type=_Skip)
        views.append(
            SkipView(
                seq=seq,
                ts_ns=ts,
                strategy_id=s.strategy_id,
                product_id=s.product_id,
                action=s.action,
                why=s.why,
            )
        )
    return tuple(views)


def closed_trades(conn: sqlite3.Connection, limit: int | None = None) -> tuple[TradeView, ...]:
    """Closed round trips, newest first (all of them without `limit`)."""
    rows = _latest(conn, "trade_closed", -1 if limit is None else limit)
    return tuple(_trade(seq, msgspec.json.decode(body, type=_Trade)) for seq, _, body in rows)


def _trade(seq: int, t: _Trade) -> TradeView:
    return TradeView(
        seq=seq,
        product_id=t.product_id,
        strategy_id=t.strategy_id,
        entry_ns=t.entry_ns,
        exit_ns=t.exit_ns,
        entry_price=t.entry_price,
        exit_price=t.exit_price,
        size=t.size,
        gross_pnl_usd=t.gross_pnl_usd,
        fees_usd=t.fees_usd,
        net_pnl_usd=t.net_pnl_usd,
        r_multiple=t.r_multiple,
        fill_count=t.fill_count,
    )


def rejections_by_code(conn: sqlite3.Connection) -> tuple[CodeCount, ...]:
    """How many of the agent's orders the gate refused, per code, most frequent first."""
    rows = conn.execute(
        "SELECT json_extract(body, '$.verdict.code') AS code, count(*) AS n FROM events "
        "WHERE kind = 'rejected' GROUP BY code ORDER BY n DESC, code"
    )
    return tuple(CodeCount(code=str(code), count=n) for code, n in rows)


def event_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many events of each kind the store holds."""
    rows = conn.execute("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind")
    return {kind: n for kind, n in rows}


def gate_state_seen(conn: sqlite3.Connection) -> GateStateSeen | None:
    """The last trading state the gate pushed to the agent, or None if none arrived."""
    rows = _latest(conn, "gate_state", 1)
    if not rows:
        return None
    seq, ts, body = rows[0]
    g = msgspec.json.decode(body, type=_GateState)
    return GateStateSeen(seq=seq, ts_ns=ts, state=g.state, cause=g.cause)


# ---------------------------------------------------------------- P&L


class _Equity(msgspec.Struct, frozen=True):
    marks: dict[str, Decimal] = {}


class _Fold:
    """Cash, holdings, marks and realized P&L, advanced one event at a time."""

    def __init__(self) -> None:
        self.cash = _ZERO
        self.fees = _ZERO
        self.realized = _ZERO
        self.fills = 0
        self.holdings: dict[str, Decimal] = {}
        self.marks: dict[str, Decimal] = {}

    def apply(self, kind: str, body: str) -> None:
        if kind == "signal":
            s = msgspec.json.decode(body, type=_Signal)
            self.marks[s.product_id] = s.reference_price
        elif kind == "fill":
            f = msgspec.json.decode(body, type=_Fill)
            notional = _EXACT.multiply(f.size, f.price)
            buy = f.side == "buy"
            self.cash = _EXACT.subtract(
                _EXACT.add(self.cash, notional.copy_negate() if buy else notional), f.fee
            )
            held = self.holdings.get(f.product_id, _ZERO)
            self.holdings[f.product_id] = _EXACT.add(held, f.size if buy else f.size.copy_negate())
            self.marks[f.product_id] = f.price
            self.fees = _EXACT.add(self.fees, f.fee)
            self.fills += 1
        elif kind == "trade_closed":
            t = msgspec.json.decode(body, type=_Trade)
            self.realized = _EXACT.add(self.realized, t.net_pnl_usd)
        elif kind == "equity":
            # The engine's periodic marks (candle closes): the curve is marked to market
            # between fills, not only at them.
            self.marks.update(msgspec.json.decode(body, type=_Equity).marks)

    def total(self) -> Decimal:
        total = self.cash
        for product, base in self.holdings.items():
            if base:
                total = _EXACT.add(total, _EXACT.multiply(base, self.marks[product]))
        return total


def pnl(conn: sqlite3.Connection) -> PnlSummary:
    """P&L now: closed trades' net P&L, and the open holdings at their latest prices."""
    fold, last_seq = _Fold(), 0
    for seq, _, kind, body in conn.execute(_PNL_EVENTS):
        fold.apply(kind, body)
        last_seq = seq
    total = fold.total()
    return PnlSummary(
        as_of_seq=last_seq,
        fills=fold.fills,
        realized_usd=fold.realized,
        unrealized_usd=_EXACT.subtract(total, fold.realized),
        total_usd=total,
        fees_usd=fold.fees,
        holdings={p: b for p, b in sorted(fold.holdings.items()) if b},
        marks=dict(sorted(fold.marks.items())),
    )


def pnl_curve(conn: sqlite3.Connection, max_points: int = 2000) -> tuple[PnlPoint, ...]:
    """P&L after every fill and every closed trade, oldest first, thinned to at most
    `max_points` (evenly, always keeping the last point).

    Raises:
        ValueError: `max_points` is below 2.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    fold, points = _Fold(), []
    for seq, ts, kind, body in conn.execute(_PNL_EVENTS):
        fold.apply(kind, body)
        if kind != "signal":
            points.append(
                PnlPoint(seq=seq, ts_ns=ts, realized_usd=fold.realized, total_usd=fold.total())
            )
    if len(points) <= max_points:
        return tuple(points)
    step = (len(points) - 1) / (max_points - 1)
    return tuple(points[round(i * step)] for i in range(max_points))


# ---------------------------------------------------------------- per strategy and product


class StrategyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One (strategy, product) the agent signalled or traded, as its events say.

    `confidence` (Loop 1's size multiplier), `trade_count`, `win_rate` and
    `expectancy_bps` are what the agent last reported with an intent of this pair, exact
    as it wrote them: None before its first intent, and win rate and expectancy also
    before the strategy's first closed trade. The agent keeps that record per strategy
    across all its products, so `trade_count` may exceed `trades_closed`, which (with
    `net_pnl_usd`) counts this pair's own closed trades. `refusals` are the gate's
    rejections of this pair's intents.
    """

    strategy_id: str
    product_id: str
    confidence: Decimal | None
    trade_count: Decimal | None
    win_rate: Decimal | None
    expectancy_bps: Decimal | None
    last_intent_seq: int | None
    last_intent_ns: int | None
    last_intent_side: str | None
    last_regime: str | None
    orders_sent: int
    refusals: int
    trades_closed: int
    net_pnl_usd: Decimal
    signals: int
    last_signal_ns: int | None


class _OrderReason(msgspec.Struct, frozen=True):
    regime: str = ""
    stats: dict[str, Decimal] = {}


class _Order(msgspec.Struct, frozen=True):
    intent_id: str
    strategy_id: str
    product_id: str
    side: str = ""
    reason: _OrderReason = _OrderReason()


class _Refusal(msgspec.Struct, frozen=True):
    intent_id: str | None = None


class _TradeResult(msgspec.Struct, frozen=True):
    strategy_id: str
    product_id: str
    net_pnl_usd: Decimal


_SIGNALS_BY_PAIR: Final = (
    "SELECT json_extract(body, '$.strategy_id') AS s, json_extract(body, '$.product_id') AS p, "
    "count(*), max(ts_ns) FROM events WHERE kind = 'signal' GROUP BY s, p"
)


class _Tally:
    """One pair's counts and sums, filled kind by kind."""

    def __init__(self) -> None:
        self.last: tuple[int, int, _Order] | None = None
        self.orders = 0
        self.refusals = 0
        self.closed = 0
        self.net = _ZERO
        self.signals = 0
        self.last_signal_ns: int | None = None

    def record(self, strategy_id: str, product_id: str) -> StrategyRecord:
        stats = self.last[2].reason.stats if self.last is not None else {}
        return StrategyRecord(
            strategy_id=strategy_id,
            product_id=product_id,
            confidence=stats.get("confidence"),
            trade_count=stats.get("trade_count"),
            win_rate=stats.get("win_rate"),
            expectancy_bps=stats.get("expectancy_bps"),
            last_intent_seq=None if self.last is None else self.last[0],
            last_intent_ns=None if self.last is None else self.last[1],
            last_intent_side=None if self.last is None else self.last[2].side,
            last_regime=None if self.last is None else self.last[2].reason.regime,
            orders_sent=self.orders,
            refusals=self.refusals,
            trades_closed=self.closed,
            net_pnl_usd=self.net,
            signals=self.signals,
            last_signal_ns=self.last_signal_ns,
        )


def strategy_records(conn: sqlite3.Connection) -> tuple[StrategyRecord, ...]:
    """Every (strategy, product) with a signal or an order, sorted by strategy then
    product: what the agent last reported for it, and its orders, refusals, closed
    trades' net P&L (an exact sum) and signals."""
    tallies: dict[tuple[str, str], _Tally] = {}

    def pair(key: tuple[str, str]) -> _Tally:
        return tallies.setdefault(key, _Tally())

    owners: dict[str, tuple[str, str]] = {}
    for seq, ts, body in conn.execute(
        "SELECT seq, ts_ns, body FROM events WHERE kind = 'order' ORDER BY seq"
    ):
        order = msgspec.json.decode(body, type=_Order)
        key = (order.strategy_id, order.product_id)
        owners[order.intent_id] = key
        tally = pair(key)
        tally.orders += 1
        tally.last = (seq, ts, order)
    for (body,) in conn.execute("SELECT body FROM events WHERE kind = 'rejected'"):
        # A refusal of an intent the store never recorded sending has no pair to count for.
        owner = owners.get(msgspec.json.decode(body, type=_Refusal).intent_id or "")
        if owner is not None:
            pair(owner).refusals += 1
    for (body,) in conn.execute("SELECT body FROM events WHERE kind = 'trade_closed'"):
        trade = msgspec.json.decode(body, type=_TradeResult)
        tally = pair((trade.strategy_id, trade.product_id))
        tally.closed += 1
        tally.net = _EXACT.add(tally.net, trade.net_pnl_usd)
    for strategy_id, product_id, n, last_ns in conn.execute(_SIGNALS_BY_PAIR):
        tally = pair((str(strategy_id), str(product_id)))
        tally.signals, tally.last_signal_ns = int(n), int(last_ns)
    return tuple(tallies[key].record(*key) for key in sorted(tallies))
