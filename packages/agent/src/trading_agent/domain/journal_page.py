"""One day of agent.db as the operator's journal page: a pure fold and a markdown renderer.

The shell (`trading_agent.journal`) reads the events and writes the file; this module
only turns `StoredEvent`s into a `JournalPage` (`build_page`) and a page into markdown
(`render_markdown`). Same events in, same bytes out: nothing here reads the clock, and
every list is in `seq` order or sorted on a total key.

A day is 00:00 to 24:00 UTC on the events' own `ts_ns` (the engine's injected clock).
The equity curve is the day's cumulative *realized* net P&L, stepping at each closed
trade: agent.db holds no marks between fills, so an open position's value is not in
it (the gate's status shows positions). An event whose body cannot be decoded is not
dropped silently: it is listed under anomalies with its seq.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final

import msgspec

from trading_agent.domain.trades import Trade
from trading_contract import Decision, Fill, GateState, Rejected, TradingState

__all__ = [
    "NONE_YET",
    "EquityPoint",
    "GateChange",
    "JournalPage",
    "ProposalDecision",
    "ProposalsDay",
    "RejectionNote",
    "RequestFailure",
    "StoredEvent",
    "TradeEntry",
    "UnreadableEvent",
    "build_page",
    "day_bounds_ns",
    "equity_curve",
    "realized_net_usd",
    "rejections_by_code",
    "render_markdown",
]

NS_PER_S: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_S
NONE_YET: Final = "none yet"
# A day of one-minute candles can hold thousands of fills; the page stays readable.
MAX_FILL_ROWS: Final = 200
_CENT: Final = Decimal("0.01")
# Sums are exact whatever the thread's decimal context: 200 digits never round a P&L.
_EXACT: Final = Context(prec=200)
_EPOCH: Final = dt.date(1970, 1, 1)


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One row of agent.db's `events` table, body still as the JSON text stored."""

    seq: int
    ts_ns: int
    kind: str
    body: str


class TradeEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A closed trade and when the agent recorded it."""

    ts_ns: int
    trade: Trade


class RejectionNote(msgspec.Struct, frozen=True, kw_only=True):
    ts_ns: int
    intent_id: str | None
    code: str
    message: str


class GateChange(msgspec.Struct, frozen=True, kw_only=True):
    """A trading state the gate told the agent about."""

    ts_ns: int
    state: TradingState
    cause: str


class RequestFailure(msgspec.Struct, frozen=True, kw_only=True):
    """An order the gate never answered (the link was down or timed out)."""

    ts_ns: int
    intent_id: str
    why: str


class UnreadableEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    kind: str
    problem: str


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True):
    """Cumulative realized net P&L in USD since 00:00 UTC, as of `ts_ns`."""

    ts_ns: int
    pnl_usd: Decimal


class JournalPage(msgspec.Struct, frozen=True, kw_only=True):
    """What one UTC day of agent.db says, in the order it happened."""

    day: dt.date
    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    signals: int = 0
    skipped: int = 0
    orders_sent: int = 0
    accepted: int = 0
    fills: tuple[Fill, ...] = ()
    trades: tuple[TradeEntry, ...] = ()
    rejections: tuple[RejectionNote, ...] = ()
    gate_changes: tuple[GateChange, ...] = ()
    request_failures: tuple[RequestFailure, ...] = ()
    unreadable: tuple[UnreadableEvent, ...] = ()


def day_bounds_ns(day: dt.date) -> tuple[int, int]:
    """[start, end) of `day` in UTC, in ns since the epoch."""
    start = (day - _EPOCH).days * NS_PER_DAY
    return start, start + NS_PER_DAY


class _Fold:
    """The page under construction; one `take` per event, in seq order."""

    def __init__(self) -> None:
        self.counts = {"signal": 0, "skipped": 0, "order": 0, "accepted": 0}
        self.fills: list[Fill] = []
        self.trades: list[TradeEntry] = []
        self.rejections: list[RejectionNote] = []
        self.gate_changes: list[GateChange] = []
        self.failures: list[RequestFailure] = []
        self.unreadable: list[UnreadableEvent] = []

    def take(self, event: StoredEvent) -> None:
        if event.kind in self.counts:
            self.counts[event.kind] += 1
            return
        try:
            self._decode(event)
        except (msgspec.DecodeError, ValueError) as exc:
            self.unreadable.append(
                UnreadableEvent(seq=event.seq, kind=event.kind, problem=str(exc)[:200])
            )

    def _decode(self, event: StoredEvent) -> None:
        body, ts = event.body, event.ts_ns
        match event.kind:
            case "fill":
                self.fills.append(msgspec.json.decode(body, type=Fill))
            case "trade_closed":
                self.trades.append(
                    TradeEntry(ts_ns=ts, trade=msgspec.json.decode(body, type=Trade))
                )
            case "rejected":
                decision = msgspec.json.decode(body, type=Decision)
                if not isinstance(decision.verdict, Rejected):
                    raise ValueError("a `rejected` event whose verdict is not a rejection")
                self.rejections.append(
                    RejectionNote(
                        ts_ns=ts,
                        intent_id=decision.intent_id,
                        code=decision.verdict.code.value,
                        message=decision.verdict.message,
                    )
                )
            case "gate_state":
                state = msgspec.json.decode(body, type=GateState)
                self.gate_changes.append(GateChange(ts_ns=ts, state=state.state, cause=state.cause))
            case "request_failed":
                failure = msgspec.json.decode(body, type=_FailureBody)
                self.failures.append(
                    RequestFailure(ts_ns=ts, intent_id=failure.intent_id, why=failure.why)
                )


class _FailureBody(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: str
    why: str


def build_page(day: dt.date, events: Iterable[StoredEvent]) -> JournalPage:
    """Fold the events of `day` (UTC, on each event's `ts_ns`) into a page.

    Events outside the day are ignored, so the caller may pass more than the day.
    They are folded in `seq` order whatever order they arrive in.
    """
    start, end = day_bounds_ns(day)
    todays = sorted((e for e in events if start <= e.ts_ns < end), key=lambda e: e.seq)
    fold = _Fold()
    for event in todays:
        fold.take(event)
    return JournalPage(
        day=day,
        events=len(todays),
        first_seq=todays[0].seq if todays else None,
        last_seq=todays[-1].seq if todays else None,
        signals=fold.counts["signal"],
        skipped=fold.counts["skipped"],
        orders_sent=fold.counts["order"],
        accepted=fold.counts["accepted"],
        fills=tuple(fold.fills),
        trades=tuple(fold.trades),
        rejections=tuple(fold.rejections),
        gate_changes=tuple(fold.gate_changes),
        request_failures=tuple(fold.failures),
        unreadable=tuple(fold.unreadable),
    )


def realized_net_usd(trades: Iterable[TradeEntry]) -> Decimal:
    """The exact sum of the trades' net P&L (Decimal addition at the operands' scale)."""
    return _total(t.trade.net_pnl_usd for t in trades)


def _total(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


def rejections_by_code(page: JournalPage) -> tuple[tuple[str, int], ...]:
    """(code, count), most frequent first, ties by code: a total order, so stable output."""
    counts: dict[str, int] = {}
    for note in page.rejections:
        counts[note.code] = counts.get(note.code, 0) + 1
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def equity_curve(page: JournalPage) -> tuple[EquityPoint, ...]:
    """From 0 at 00:00 UTC, one step per closed trade, ending at the day's close (or the
    last trade, whichever is later; events at 24:00 belong to the next day)."""
    start, end = day_bounds_ns(page.day)
    points = [EquityPoint(ts_ns=start, pnl_usd=Decimal(0))]
    total = Decimal(0)
    for entry in page.trades:
        total = _EXACT.add(total, entry.trade.net_pnl_usd)
        points.append(EquityPoint(ts_ns=entry.ts_ns, pnl_usd=total))
    points.append(EquityPoint(ts_ns=end, pnl_usd=total))
    return tuple(points)


# ---------------------------------------------------------------- markdown


class ProposalDecision(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the rule directory's decision ledger (`rules/decisions.jsonl`, written
    by `te proposals approve|reject` and `te rules retire`)."""

    ts: str  # ISO 8601, UTC
    id: str
    decision: str  # approved | rejected | retired
    tier: str
    operator: str
    reason: str


class ProposalsDay(msgspec.Struct, frozen=True, kw_only=True):
    """The day's decisions on rule proposals, and the proposals still waiting."""

    decisions: tuple[ProposalDecision, ...] = ()
    pending: tuple[str, ...] = ()


def render_markdown(
    page: JournalPage, *, plot_file: str | None = None, proposals: ProposalsDay | None = None
) -> str:
    """The page as markdown; `plot_file` (relative to the page) is linked if given, and
    `proposals` (None: no rule directory was given) fills the Proposals section."""
    sections = [
        _header(page),
        _summary(page),
        _trades(page),
        _fills(page),
        _pnl(page),
        _equity(page, plot_file),
        _anomalies(page),
        "## Loop findings\n\n" + f"{NONE_YET} (the learning loops are not built yet).",
        _proposals(proposals),
    ]
    return "\n\n".join(sections) + "\n"


def _proposals(proposals: ProposalsDay | None) -> str:
    head = "## Proposals\n\n"
    if proposals is None:
        return head + "Not read: the journal was written without the rule directory."
    parts: list[str] = []
    if proposals.decisions:
        parts.append(
            _table(
                ("time (UTC)", "proposal", "decision", "tier", "by", "reason"),
                [
                    (d.ts[11:19], d.id, d.decision, d.tier, d.operator, d.reason)
                    for d in proposals.decisions
                ],
            )
        )
    else:
        parts.append(f"{NONE_YET}: no proposal was approved, rejected or retired this day.")
    waiting = ", ".join(f"`{p}`" for p in proposals.pending) or "none"
    parts.append(f"Waiting for a human: {waiting}.")
    return head + "\n\n".join(parts)


def _header(page: JournalPage) -> str:
    source = (
        f"agent.db events seq {page.first_seq}..{page.last_seq} ({page.events} events)"
        if page.events
        else "agent.db: no events on this day"
    )
    return f"# Journal {page.day.isoformat()} (UTC)\n\nSource: {source}."


def _summary(page: JournalPage) -> str:
    net = realized_net_usd(page.trades)
    halts = sum(1 for g in page.gate_changes if g.state is TradingState.HALTED)
    rows = [
        ("signals", str(page.signals)),
        ("signals skipped", str(page.skipped)),
        ("orders sent", str(page.orders_sent)),
        ("accepted by the gate", str(page.accepted)),
        ("rejected by the gate", str(len(page.rejections))),
        ("requests unanswered", str(len(page.request_failures))),
        ("fills", str(len(page.fills))),
        ("trades closed", str(len(page.trades))),
        ("realized net P&L (USD)", _usd(net)),
        ("gate halts", str(halts)),
    ]
    return "## Summary\n\n" + _table(("what", "count"), rows, right=(1,))


def _trades(page: JournalPage) -> str:
    if not page.trades:
        return "## Trades\n\nNo trade closed on this day."
    rows = [
        (
            _clock(e.ts_ns, page.day),
            e.trade.strategy_id,
            e.trade.product_id,
            _number(e.trade.size),
            _number(e.trade.entry_price),
            _number(e.trade.exit_price),
            _fee(e.trade.fees_usd),
            _usd(e.trade.net_pnl_usd),
            "n/a" if e.trade.r_multiple is None else _number(e.trade.r_multiple),
        )
        for e in page.trades
    ]
    header = ("closed", "strategy", "product", "size", "entry", "exit", "fees", "net USD", "R")
    return "## Trades\n\n" + _table(header, rows, right=(3, 4, 5, 6, 7, 8))


def _fills(page: JournalPage) -> str:
    if not page.fills:
        return "## Fills\n\nNo fill on this day."
    rows = [
        (
            _clock(f.event_ns, page.day),
            f.product_id,
            f.side.value,
            _number(f.size),
            _number(f.price),
            f"{_number(f.fee)} {f.fee_currency}",
            f.liquidity.value,
        )
        for f in page.fills[:MAX_FILL_ROWS]
    ]
    table = _table(("time", "product", "side", "size", "price", "fee", "liquidity"), rows)
    more = len(page.fills) - MAX_FILL_ROWS
    return "## Fills\n\n" + table + (f"\n\n... and {more} more fills." if more > 0 else "")


def _pnl(page: JournalPage) -> str:
    if not page.trades:
        return "## P&L\n\nNothing realized: no trade closed on this day."
    groups: dict[tuple[str, str], list[TradeEntry]] = {}
    for entry in page.trades:
        groups.setdefault((entry.trade.strategy_id, entry.trade.product_id), []).append(entry)
    rows = []
    for (strategy, product), entries in sorted(groups.items()):
        gross = _total(e.trade.gross_pnl_usd for e in entries)
        fees = _total(e.trade.fees_usd for e in entries)
        wins = sum(1 for e in entries if e.trade.net_pnl_usd > 0)
        rows.append(
            (strategy, product, str(len(entries)), str(wins), _usd(gross), _fee(fees),
             _usd(realized_net_usd(entries)))
        )  # fmt: skip
    gross = _total(e.trade.gross_pnl_usd for e in page.trades)
    fees = _total(e.trade.fees_usd for e in page.trades)
    wins = sum(1 for e in page.trades if e.trade.net_pnl_usd > 0)
    rows.append(
        ("all", "", str(len(page.trades)), str(wins), _usd(gross), _fee(fees),
         _usd(realized_net_usd(page.trades)))
    )  # fmt: skip
    header = ("strategy", "product", "trades", "wins", "gross USD", "fees USD", "net USD")
    return "## P&L\n\nRealized on trades closed this day.\n\n" + _table(
        header, rows, right=(2, 3, 4, 5, 6)
    )


def _equity(page: JournalPage, plot_file: str | None) -> str:
    curve = equity_curve(page)
    values = [p.pnl_usd for p in curve]
    text = (
        "Cumulative realized net P&L since 00:00 UTC (open positions are not marked): "
        f"end {_usd(values[-1])} USD, low {_usd(min(values))}, high {_usd(max(values))}."
    )
    link = (
        f"![equity]({plot_file})"
        if plot_file is not None
        else f"No plot on this page: `te journal --day {page.day.isoformat()}` draws it."
    )
    return f"## Equity\n\n{text}\n\n{link}"


def _anomalies(page: JournalPage) -> str:
    parts = ["## Anomalies", _gate_changes(page), _rejections(page), _failures(page)]
    if page.unreadable:
        rows = [(str(u.seq), u.kind, u.problem) for u in page.unreadable]
        parts.append("### Unreadable events\n\n" + _table(("seq", "kind", "problem"), rows))
    return "\n\n".join(parts)


def _gate_changes(page: JournalPage) -> str:
    if not page.gate_changes:
        return "### Gate state\n\nNo state change reported by the gate."
    rows = [(_clock(g.ts_ns, page.day), g.state.value.upper(), g.cause) for g in page.gate_changes]
    return "### Gate state\n\n" + _table(("time", "state", "cause"), rows)


def _rejections(page: JournalPage) -> str:
    if not page.rejections:
        return "### Rejections\n\nThe gate rejected nothing."
    first: dict[str, RejectionNote] = {}
    for note in page.rejections:
        first.setdefault(note.code, note)
    rows = [
        (code, str(count), _clock(first[code].ts_ns, page.day), first[code].message)
        for code, count in rejections_by_code(page)
    ]
    return "### Rejections by code\n\n" + _table(
        ("code", "count", "first at", "first message"), rows, right=(1,)
    )


def _failures(page: JournalPage) -> str:
    if not page.request_failures:
        return "### Request failures\n\nEvery request was answered."
    rows = [(_clock(f.ts_ns, page.day), f.intent_id, f.why) for f in page.request_failures]
    return "### Request failures\n\n" + _table(("time", "intent", "why"), rows)


# ---------------------------------------------------------------- cells


def _table(
    header: tuple[str, ...], rows: Iterable[tuple[str, ...]], *, right: tuple[int, ...] = ()
) -> str:
    rule = tuple("---:" if i in right else "---" for i in range(len(header)))
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(_cell(c) for c in line) + " |" for line in lines)


def _cell(text: str) -> str:
    # A pipe would end the cell and a newline the row; free text may hold either.
    return " ".join(text.split()).replace("|", "\\|")


def _clock(ts_ns: int, day: dt.date) -> str:
    seconds = (ts_ns - day_bounds_ns(day)[0]) // NS_PER_S
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _usd(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_EXACT):+,}"


def _fee(value: Decimal) -> str:
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_EXACT):,}"


def _number(value: Decimal) -> str:
    # normalize() drops trailing zeros; format "f" keeps 100 from becoming 1E+2.
    return format(value.normalize(_EXACT), "f")
