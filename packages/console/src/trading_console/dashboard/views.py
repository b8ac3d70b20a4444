"""What the dashboard shows and does: one function per panel over the two read modules,
and the kill switch and resume over the gate's admin socket.

The gate panel carries the Anomalies panel (what `te status` flags, with the gate's
audit log's own warnings) and the agent panel each strategy's record (Loop 1's
confidence as last reported, and its trades).

Panels never raise for a missing or unreadable source: each carries its own `error`
text, so a gate that is not running, or an agent that never started, is said on the page
instead of blanking it. Values are frozen Structs that encode straight to JSON (money as
decimal strings). Nothing here writes a database; the only effect is an admin request.
"""

import datetime as dt
import getpass
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import msgspec

import trading_contract as c
from trading_agent.store import read as agent_read
from trading_console import anomalies as found
from trading_console import proposals as props
from trading_console.rule_stats import RuleLoad, RuleStats, read_rule_stats
from trading_gate import ConfigError, admin_client, load_config, verify_audit
from trading_gate import read as gate_read
from trading_gate.audit import AuditUnavailable
from trading_gate.rule_files import RuleSetError, load_rule_dir
from trading_gate.rules import Rule

__all__ = [
    "APPROVE_WORD",
    "HALT_WORD",
    "REJECT_WORD",
    "RESUME_WORD",
    "ActionRefused",
    "ActionResult",
    "AgentPanel",
    "AnomaliesPanel",
    "BookPanel",
    "ChartPoint",
    "GatePanel",
    "LiveStatus",
    "ProposalView",
    "ProposalsPanel",
    "RuleRow",
    "RulesPanel",
    "SlowChecks",
    "Snapshot",
    "Sources",
    "agent_panel",
    "anomalies_panel",
    "approve_proposal",
    "book_panel",
    "chart_points",
    "gate_panel",
    "halt",
    "live_status",
    "proposals_panel",
    "reject_proposal",
    "resume",
    "rules_panel",
    "snapshot",
]

HALT_WORD: Final = "HALT"
RESUME_WORD: Final = "RESUME"
APPROVE_WORD: Final = "APPROVE"
REJECT_WORD: Final = "REJECT"
_ROWS: Final = 20
_ANOMALIES: Final = 50
_OPERATOR: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@\-]{0,63}$")
_NS_PER_S: Final = 1_000_000_000


@dataclass(frozen=True, kw_only=True)
class Sources:
    """Where the dashboard reads from and whom it asks."""

    gate_db: Path
    agent_db: Path
    admin_socket: Path
    # The rule directory (core/, active/, shadow/, proposed/); None: no rules panel.
    rules_dir: Path | None = None
    # safety.yaml, for the dead man's timeout; None: heartbeats are not judged.
    safety_config: Path | None = None
    status_timeout_s: float = 2.0
    action_timeout_s: float = admin_client.DEFAULT_TIMEOUT_S
    # Verifying the audit chain reads all of gate.db: done at most this often, not per push.
    slow_check_interval_s: float = 30.0
    slow_checks: "SlowChecks" = field(default_factory=lambda: SlowChecks(), compare=False)

    @property
    def audit_anchor(self) -> Path:
        """The anchor file the gate writes beside gate.db."""
        return self.gate_db.parent / "audit.anchor"

    @classmethod
    def in_data_dir(
        cls, data_dir: Path, admin_socket: Path, rules_dir: Path | None = None
    ) -> "Sources":
        """The installation's layout (`te bootstrap`): rules default to
        DATA/../config/rules, where `te up` and `te rules` look, and safety.yaml to
        DATA/../config/safety.yaml, where `te status` looks."""
        config = data_dir.resolve().parent / "config"
        return cls(
            gate_db=data_dir / "gate.db",
            agent_db=data_dir / "agent.db",
            admin_socket=admin_socket,
            rules_dir=rules_dir if rules_dir is not None else data_dir.parent / "config" / "rules",
            safety_config=config / "safety.yaml",
        )


# ---------------------------------------------------------------- the gate


class LiveStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The running gate's own answer to an admin status request."""

    state: c.TradingState
    cause: str
    since_ns: int
    agent_connected: bool
    last_heartbeat_ns: int | None
    open_orders: int
    unknown_orders: int
    config_hash: str
    as_of_ns: int


class GatePanel(msgspec.Struct, frozen=True, kw_only=True):
    """The trading state with its cause, live when the gate answers, else as journaled."""

    running: bool
    state: str  # "active" | "reducing" | "halted" | "unknown"
    halted: bool
    cause: str
    since_ns: int | None
    live: LiveStatus | None
    live_error: str | None
    recorded: gate_read.ModeView | None
    history: tuple[gate_read.ModeChange, ...]
    last_kill: gate_read.KillView | None
    db_error: str | None
    anomalies: "AnomaliesPanel"


def live_status(sources: Sources) -> LiveStatus | str:
    """The gate's status over the admin socket, or why it could not be had."""
    try:
        reply = admin_client.request(
            sources.admin_socket,
            c.AdminStatus(request_id=_request_id()),
            timeout_s=sources.status_timeout_s,
        )
    except admin_client.GateUnreachable as exc:
        return str(exc)
    except c.ProtocolError as exc:
        return f"the gate's reply could not be read: {exc}"
    if not isinstance(reply, c.AdminStatusReply):
        return f"the gate did not answer with a status: {reply}"
    return LiveStatus(
        state=reply.state,
        cause=reply.cause,
        since_ns=reply.since_ns,
        agent_connected=reply.agent_connected,
        last_heartbeat_ns=reply.last_heartbeat_ns,
        open_orders=reply.open_orders,
        unknown_orders=reply.unknown_orders,
        config_hash=reply.config_hash,
        as_of_ns=reply.as_of_ns,
    )


def gate_panel(sources: Sources) -> GatePanel:
    """The gate: live status if it answers, and what gate.db last recorded either way,
    with the anomalies that state and gate.db's audit log show."""
    live = live_status(sources)
    recorded: gate_read.ModeView | None = None
    history: tuple[gate_read.ModeChange, ...] = ()
    kill: gate_read.KillView | None = None
    db_error: str | None = None
    try:
        with gate_read.open_gate_db(sources.gate_db) as conn:
            recorded = gate_read.mode(conn)
            history = gate_read.mode_history(conn, limit=10)
            kill = gate_read.last_kill(conn)
    except gate_read.GateDbError as exc:
        db_error = str(exc)
    if isinstance(live, LiveStatus):
        state, cause, since = live.state.value, live.cause, live.since_ns
    elif recorded is not None:
        state, cause, since = recorded.state.value, _cause_text(recorded), recorded.since_ns
    else:
        state, cause, since = "unknown", "the gate has recorded no trading state", None
    running = isinstance(live, LiveStatus)
    facts = found.GateFacts(
        state=None if state == "unknown" else c.TradingState(state),
        running=running,
        cause=cause,
        since_ns=since,
        last_heartbeat_ns=live.last_heartbeat_ns if isinstance(live, LiveStatus) else None,
        heartbeat_age_s=_heartbeat_age_s(live) if isinstance(live, LiveStatus) else None,
    )
    return GatePanel(
        running=running,
        state=state,
        halted=state == c.TradingState.HALTED.value,
        cause=cause,
        since_ns=since,
        live=live if isinstance(live, LiveStatus) else None,
        live_error=None if isinstance(live, LiveStatus) else live,
        recorded=recorded,
        history=history,
        last_kill=kill,
        db_error=db_error,
        anomalies=anomalies_panel(sources, facts),
    )


def _heartbeat_age_s(live: LiveStatus) -> float | None:
    # As `te status` measures it: on the gate's clock, at its reply.
    if live.last_heartbeat_ns is None:
        return None
    return (live.as_of_ns - live.last_heartbeat_ns) / _NS_PER_S


def _cause_text(mode: gate_read.ModeView) -> str:
    # The same text the gate's status reply gives: "cause: detail".
    return f"{mode.cause}: {mode.detail}" if mode.detail else mode.cause


# ---------------------------------------------------------------- anomalies


class AnomaliesPanel(msgspec.Struct, frozen=True, kw_only=True):
    """What `te status` flags, and the audit log's warnings, newest first and at most
    `_ANOMALIES`. `chain_checked_ns`: when the audit chain was last verified (None: not
    yet, or there is no gate.db). `notes` say what could not be judged."""

    items: tuple[found.Anomaly, ...] = ()
    chain_checked_ns: int | None = None
    heartbeat_timeout_s: float | None = None
    notes: tuple[str, ...] = ()
    error: str | None = None


class _SlowResult(msgspec.Struct, frozen=True, kw_only=True):
    chain_problem: str | None
    chain_checked_ns: int | None
    heartbeat_timeout_s: float | None
    notes: tuple[str, ...]


class SlowChecks:
    """The audit chain's verdict and the dead man's timeout, as of the last check.

    Both read whole files (the chain is all of gate.db), so one dashboard re-reads them
    every `Sources.slow_check_interval_s`, not on every push; the lock makes concurrent
    pushes wait for one check instead of each running its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, _SlowResult] | None = None

    def result(self, sources: Sources) -> _SlowResult:
        with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] >= sources.slow_check_interval_s:
                self._last = (now, _slow_checks(sources))
            return self._last[1]


def _slow_checks(sources: Sources) -> _SlowResult:
    notes: list[str] = []
    timeout_s: float | None = None
    if sources.safety_config is not None:
        try:
            loaded = load_config(sources.safety_config)
            timeout_s = float(loaded.config.dead_man.heartbeat_timeout_s)
        except ConfigError as exc:
            notes.append(f"dead man's timeout unknown: {str(exc).splitlines()[0]}")
    if not sources.gate_db.exists():
        return _SlowResult(
            chain_problem=None, chain_checked_ns=None, heartbeat_timeout_s=timeout_s,
            notes=tuple(notes),
        )  # fmt: skip
    return _SlowResult(
        chain_problem=_chain_problem(sources),
        chain_checked_ns=time.time_ns(),
        heartbeat_timeout_s=timeout_s,
        notes=tuple(notes),
    )


def _chain_problem(sources: Sources) -> str | None:
    """Why the audit chain does not verify, in `te status`'s words; None when it does."""
    anchor = sources.audit_anchor
    try:
        report = verify_audit(sources.gate_db, anchor if anchor.exists() else None)
    except AuditUnavailable as exc:
        return f"cannot read the audit log: {exc}"
    if report.ok:
        return None
    first = report.problems[0]
    return f"seq {first.seq}: {first.message}" if first.seq is not None else first.message


def anomalies_panel(sources: Sources, gate: found.GateFacts) -> AnomaliesPanel:
    """`te status`'s anomalies for `gate` (its heartbeat judged against safety.yaml's
    dead man's timeout, the chain as last verified) and gate.db's audit warnings."""
    slow = sources.slow_checks.result(sources)
    facts = msgspec.structs.replace(gate, heartbeat_timeout_s=slow.heartbeat_timeout_s)
    standing = found.status_anomalies(
        facts, slow.chain_problem, audit_checked_ns=slow.chain_checked_ns
    )
    logged: tuple[found.Anomaly, ...] = ()
    error = None
    try:
        with gate_read.open_gate_db(sources.gate_db) as conn:
            logged = found.audit_anomalies(conn, _ANOMALIES)
    except gate_read.GateDbError as exc:
        error = str(exc)
    return AnomaliesPanel(
        items=found.newest_first((*standing, *logged), _ANOMALIES),
        chain_checked_ns=slow.chain_checked_ns,
        heartbeat_timeout_s=slow.heartbeat_timeout_s,
        notes=slow.notes,
        error=error,
    )


# ---------------------------------------------------------------- the book (gate.db)


class BookPanel(msgspec.Struct, frozen=True, kw_only=True):
    """Positions, orders, fills and decisions as the gate journaled them, all read in one
    snapshot so the counts and the tables agree."""

    counts: gate_read.GateCounts | None = None
    positions: tuple[gate_read.PositionView, ...] = ()
    open_orders: tuple[gate_read.OrderView, ...] = ()
    recent_orders: tuple[gate_read.OrderView, ...] = ()
    recent_fills: tuple[gate_read.FillView, ...] = ()
    decisions: tuple[gate_read.DecisionView, ...] = ()
    rejections_by_code: tuple[gate_read.CodeCount, ...] = ()
    error: str | None = None


def book_panel(sources: Sources) -> BookPanel:
    """The gate's positions, open and recent orders, fills and last decisions."""
    try:
        with gate_read.open_gate_db(sources.gate_db) as conn:
            return BookPanel(
                counts=gate_read.counts(conn),
                positions=gate_read.positions(conn),
                open_orders=gate_read.open_orders(conn),
                recent_orders=gate_read.recent_orders(conn, _ROWS),
                recent_fills=tuple(reversed(gate_read.fills(conn, _ROWS))),
                decisions=gate_read.decisions(conn, _ROWS),
                rejections_by_code=gate_read.rejections_by_code(conn),
            )
    except gate_read.GateDbError as exc:
        return BookPanel(error=str(exc))


# ---------------------------------------------------------------- the agent (agent.db)


class ChartPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the P&L chart: whole seconds, strictly increasing."""

    time: int
    total_usd: str
    realized_usd: str


class AgentPanel(msgspec.Struct, frozen=True, kw_only=True):
    """P&L and its curve, closed trades, signals, skips and refusals, from agent.db."""

    pnl: agent_read.PnlSummary | None = None
    curve: tuple[ChartPoint, ...] = ()
    trades: tuple[agent_read.TradeView, ...] = ()
    trade_count: int = 0
    signals: tuple[agent_read.SignalView, ...] = ()
    skips: tuple[agent_read.SkipView, ...] = ()
    rejections_by_code: tuple[agent_read.CodeCount, ...] = ()
    gate_state_seen: agent_read.GateStateSeen | None = None
    event_counts: dict[str, int] = {}
    # The Strategies panel: one row per (strategy, product) signalled or traded.
    strategies: tuple[agent_read.StrategyRecord, ...] = ()
    error: str | None = None


def chart_points(points: tuple[agent_read.PnlPoint, ...]) -> tuple[ChartPoint, ...]:
    """P&L points at whole seconds, the last of each second kept (the chart needs
    strictly increasing times); a point earlier than one already kept is dropped."""
    kept: dict[int, agent_read.PnlPoint] = {}
    latest = None
    for point in points:
        second = point.ts_ns // _NS_PER_S
        if latest is not None and second < latest:
            continue
        kept[second] = point
        latest = second
    return tuple(
        ChartPoint(time=s, total_usd=str(p.total_usd), realized_usd=str(p.realized_usd))
        for s, p in kept.items()
    )


def agent_panel(sources: Sources) -> AgentPanel:
    """The agent's P&L, trades, signals and skips, and each strategy's record."""
    try:
        with agent_read.open_agent_db(sources.agent_db) as conn:
            counts = agent_read.event_counts(conn)
            return AgentPanel(
                pnl=agent_read.pnl(conn),
                curve=chart_points(agent_read.pnl_curve(conn)),
                trades=agent_read.closed_trades(conn, _ROWS),
                trade_count=counts.get("trade_closed", 0),
                signals=agent_read.recent_signals(conn, _ROWS),
                skips=agent_read.recent_skips(conn, _ROWS),
                rejections_by_code=agent_read.rejections_by_code(conn),
                gate_state_seen=agent_read.gate_state_seen(conn),
                event_counts=counts,
                strategies=agent_read.strategy_records(conn),
            )
    except agent_read.AgentDbError as exc:
        return AgentPanel(error=str(exc))


# ---------------------------------------------------------------- rules and proposals


class RuleRow(msgspec.Struct, frozen=True, kw_only=True):
    """One rule in force with its counts from gate.db (None: unknown, gate.db unreadable).
    For a shadow rule, `fired` counts would-have-fired. Counterfactual P&L is priced
    by the learning loop, later: None until then."""

    tier: str
    id: str
    name: str
    author: str
    created: str
    file: str
    source_text: str
    evaluated: int | None
    fired: int | None
    errors: int | None
    last_fired_ns: int | None
    counterfactual_pnl_usd: str | None = None


class RulesPanel(msgspec.Struct, frozen=True, kw_only=True):
    """The rule files by tier, the set's hash, and what the gate last loaded."""

    rules_dir: str | None = None
    sha256: str | None = None
    core: tuple[RuleRow, ...] = ()
    active: tuple[RuleRow, ...] = ()
    shadow: tuple[RuleRow, ...] = ()
    gate_loaded: RuleLoad | None = None
    stats_error: str | None = None
    error: str | None = None


def _row(tier: str, rule: Rule, file: str, seen: RuleStats | None, known: bool) -> RuleRow:
    return RuleRow(
        tier=tier,
        id=rule.id,
        name=rule.name,
        author=rule.author,
        created=rule.created.isoformat(),
        file=file,
        source_text=rule.source_text,
        evaluated=(seen.evaluated if seen else 0) if known else None,
        fired=(seen.fired if seen else 0) if known else None,
        errors=(seen.errors if seen else 0) if known else None,
        last_fired_ns=seen.last_fired_ns if seen else None,
    )


def rules_panel(sources: Sources) -> RulesPanel:
    """Every rule file loaded as the gate would, each rule with its audit-log counts."""
    if sources.rules_dir is None:
        return RulesPanel(error="no rules directory given to the dashboard")
    root = str(sources.rules_dir)
    try:
        rule_set = load_rule_dir(sources.rules_dir)
    except RuleSetError as exc:
        return RulesPanel(rules_dir=root, error=exc.render())
    try:
        stats, loaded = read_rule_stats(sources.gate_db)
        stats_error = None
    except gate_read.GateDbError as exc:
        stats, loaded, stats_error = {}, None, str(exc)
    files = {rid: f.path for f in rule_set.files for rid in f.rule_ids}
    known = stats_error is None

    def rows(tier: str, rules: tuple[Rule, ...]) -> tuple[RuleRow, ...]:
        return tuple(
            _row(tier, r, files.get(r.id, ""), stats.get((r.id, tier)), known) for r in rules
        )

    return RulesPanel(
        rules_dir=root,
        sha256=rule_set.sha256,
        core=rows("core", rule_set.core),
        active=rows("active", rule_set.active),
        shadow=rows("shadow", rule_set.shadow),
        gate_loaded=loaded,
        stats_error=stats_error,
    )


class ProposalView(msgspec.Struct, frozen=True, kw_only=True):
    """A pending proposal as the page shows it: text, evidence, and any problem."""

    id: str
    name: str | None
    text: str
    asks_for: str
    summary: str | None
    source: str | None
    created: str | None
    metrics: dict[str, str]
    problems: str | None
    evidence_error: str | None


class ProposalsPanel(msgspec.Struct, frozen=True, kw_only=True):
    """Pending proposals, and the last decisions of the ledger, newest first."""

    rules_dir: str | None = None
    pending: tuple[ProposalView, ...] = ()
    decisions: tuple[props.LedgerEntry, ...] = ()
    error: str | None = None


def _view(p: props.Proposal) -> ProposalView:
    e = p.evidence
    return ProposalView(
        id=p.id,
        name=p.name,
        text=p.text,
        asks_for=p.asks_for,
        summary=e.summary if e else None,
        source=e.source if e else None,
        created=e.created.isoformat() if e else None,
        metrics=dict(e.metrics) if e else {},
        problems=p.problems,
        evidence_error=p.evidence_error,
    )


def proposals_panel(sources: Sources) -> ProposalsPanel:
    """What waits in RULES/proposed, and what was decided lately."""
    if sources.rules_dir is None:
        return ProposalsPanel(error="no rules directory given to the dashboard")
    try:
        pending = props.list_proposals(sources.rules_dir)
        decided = props.ledger(sources.rules_dir)
    except (props.ProposalError, OSError) as exc:
        return ProposalsPanel(rules_dir=str(sources.rules_dir), error=str(exc))
    return ProposalsPanel(
        rules_dir=str(sources.rules_dir),
        pending=tuple(_view(p) for p in pending),
        decisions=tuple(reversed(decided[-_ROWS:])),
    )


# ---------------------------------------------------------------- the whole page


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    generated_ns: int
    gate: GatePanel
    book: BookPanel
    agent: AgentPanel
    rules: RulesPanel
    proposals: ProposalsPanel


def snapshot(sources: Sources) -> Snapshot:
    """Every panel, read now: what the page and each server-sent event carry."""
    return Snapshot(
        generated_ns=time.time_ns(),
        gate=gate_panel(sources),
        book=book_panel(sources),
        agent=agent_panel(sources),
        rules=rules_panel(sources),
        proposals=proposals_panel(sources),
    )


# ---------------------------------------------------------------- actions


class ActionRefused(ValueError):
    """The dashboard will not send this request; the message tells the operator why."""


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the gate answered (ok and its message), or why it could not be asked."""

    ok: bool
    message: str
    reached_gate: bool


def halt(sources: Sources, *, confirm: str, reason: str, operator: str = "") -> ActionResult:
    """The kill switch: AdminHalt, once the operator typed `HALT_WORD`.

    Raises:
        ActionRefused: the confirm word is wrong, or the reason or operator is invalid.
    """
    if confirm.strip() != HALT_WORD:
        raise ActionRefused(f"type {HALT_WORD} to confirm the kill switch")
    message = c.AdminHalt(
        request_id=_request_id(), operator=_operator(operator), reason=reason.strip()
    )
    return _send(sources, message)


def resume(
    sources: Sources, *, confirm: str, reason: str, to: str, operator: str = ""
) -> ActionResult:
    """AdminResume to ACTIVE or REDUCING, once a human typed `RESUME_WORD` and a reason.

    Raises:
        ActionRefused: the confirm word is wrong, the reason blank, or `to` not
            active or reducing.
    """
    if confirm.strip() != RESUME_WORD:
        raise ActionRefused(f"type {RESUME_WORD} to confirm resuming")
    if not reason.strip():
        raise ActionRefused("say why it is safe to trade again: the reason is audited")
    if to not in (c.TradingState.ACTIVE.value, c.TradingState.REDUCING.value):
        raise ActionRefused(f"resume to active or reducing, not {to!r}")
    try:
        message = c.AdminResume(
            request_id=_request_id(),
            operator=_operator(operator),
            reason=reason.strip(),
            to=c.TradingState(to),
        )
    except ValueError as exc:
        raise ActionRefused(str(exc)) from exc
    return _send(sources, message)


def _send(sources: Sources, message: c.AdminHalt | c.AdminResume) -> ActionResult:
    try:
        # The gate's own decoder: what it would refuse is refused here, with the field.
        c.decode_admin_request(c.encode(message))
    except c.ProtocolError as exc:
        raise ActionRefused(f"not sent: {exc}") from exc
    try:
        reply = admin_client.request(
            sources.admin_socket, message, timeout_s=sources.action_timeout_s
        )
    except admin_client.GateUnreachable as exc:
        return ActionResult(ok=False, message=_unreachable(exc, message), reached_gate=False)
    except c.ProtocolError as exc:
        return ActionResult(
            ok=False, message=f"the gate's reply could not be read: {exc}", reached_gate=True
        )
    if isinstance(reply, c.AdminAck):
        return ActionResult(ok=reply.ok, message=reply.message, reached_gate=True)
    if isinstance(reply, c.Error):
        return ActionResult(
            ok=False, message=f"the gate refused the request: {reply.message}", reached_gate=True
        )
    return ActionResult(ok=False, message=f"unexpected reply: {reply}", reached_gate=True)


def _unreachable(exc: admin_client.GateUnreachable, message: c.AdminHalt | c.AdminResume) -> str:
    if isinstance(message, c.AdminHalt):
        return (
            f"{exc}. Nothing was halted from here: a gate that is not running sends no "
            "orders, but orders it placed before it stopped may still rest at the venue."
        )
    return f"{exc}. Nothing was resumed."


def _operator(given: str) -> str:
    name = given.strip()
    if name:
        if not _OPERATOR.fullmatch(name):
            raise ActionRefused(
                "operator: letters, digits and . _ @ - only, at most 64, not starting with"
                " a dot, @ or -"
            )
        return name
    try:
        user = getpass.getuser()
    except OSError:  # no login name in this environment
        user = ""
    return user if _OPERATOR.fullmatch(user) else "dashboard"


def _request_id() -> c.RequestId:
    return c.RequestId(f"dash-{secrets.token_hex(6)}")


# ---------------------------------------------------------------- proposal actions


def _rules_root(sources: Sources) -> Path:
    if sources.rules_dir is None:
        raise ActionRefused("this dashboard was given no rules directory")
    return sources.rules_dir


def approve_proposal(
    sources: Sources, *, proposal_id: str, confirm: str, reason: str, to: str, operator: str = ""
) -> ActionResult:
    """Approve a proposal into active or shadow (`to` empty: what its evidence asks),
    once the operator typed `APPROVE_WORD` and a reason; then reload the gate.

    Raises:
        ActionRefused: the confirm word, reason, tier or id is wrong, or the set with the
            proposal would not load (the loader's report is the message).
    """
    if confirm.strip() != APPROVE_WORD:
        raise ActionRefused(f"type {APPROVE_WORD} to confirm the approval")
    if to not in ("", "active", "shadow"):
        raise ActionRefused(f"approve into active or shadow, not {to!r}")
    who = _operator(operator)
    try:
        change = props.approve(
            _rules_root(sources),
            proposal_id,
            operator=who,
            reason=reason,
            now=dt.datetime.fromtimestamp(time.time(), dt.UTC),
            to="shadow" if to == "shadow" else ("active" if to == "active" else None),
        )
    except props.ProposalError as exc:
        raise ActionRefused(str(exc)) from exc
    done = f"approved {proposal_id} into {change.entry.tier}"
    return _reload(sources, who, done)


def reject_proposal(
    sources: Sources, *, proposal_id: str, confirm: str, reason: str, operator: str = ""
) -> ActionResult:
    """Move a proposal to rejected/ once the operator typed `REJECT_WORD` and a reason.

    Raises:
        ActionRefused: the confirm word, reason or id is wrong.
    """
    if confirm.strip() != REJECT_WORD:
        raise ActionRefused(f"type {REJECT_WORD} to confirm the rejection")
    try:
        props.reject(
            _rules_root(sources),
            proposal_id,
            operator=_operator(operator),
            reason=reason,
            now=dt.datetime.fromtimestamp(time.time(), dt.UTC),
        )
    except props.ProposalError as exc:
        raise ActionRefused(str(exc)) from exc
    return ActionResult(ok=True, message=f"rejected {proposal_id}", reached_gate=False)


def _reload(sources: Sources, operator: str, done: str) -> ActionResult:
    """AdminReloadRules after a change on disk: the change stands either way; the
    result says whether the gate has it in force."""
    message = c.AdminReloadRules(request_id=_request_id(), operator=operator)
    try:
        reply = admin_client.request(
            sources.admin_socket, message, timeout_s=sources.action_timeout_s
        )
    except admin_client.GateUnreachable as exc:
        if str(exc).startswith("gate not running"):
            return ActionResult(
                ok=True,
                message=f"{done}; {exc}: the gate loads it at its next start",
                reached_gate=False,
            )
        return ActionResult(
            ok=False, message=f"{done}, but the gate did not confirm: {exc}", reached_gate=True
        )
    except c.ProtocolError as exc:
        return ActionResult(
            ok=False, message=f"{done}, but the gate's reply was unreadable: {exc}",
            reached_gate=True,
        )  # fmt: skip
    if isinstance(reply, c.AdminAck):
        text = f"{done}; gate: {reply.message}"
        return ActionResult(ok=reply.ok, message=text, reached_gate=True)
    return ActionResult(ok=False, message=f"{done}; gate answered {reply}", reached_gate=True)
