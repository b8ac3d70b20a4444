"""`te status`: the gate's state, the agent's heartbeat, positions, orders, P&L, anomalies.

It asks the running gate over the admin socket, and reads gate.db and agent.db
read-only through their read modules (the dashboard's queries). When the gate is not
running it still shows what the databases say, and exits 3 so a script can tell.
Tables for people; `--json` for scripts (Decimals as strings, times in ns since the
epoch, UTC).
"""

import datetime as dt
import time
from decimal import Context, Decimal
from pathlib import Path
from typing import Final

import click
import msgspec
from rich.console import Console
from rich.table import Table

from trading_agent.domain.journal_page import day_bounds_ns
from trading_agent.store import read as agent_read
from trading_console.anomalies import audit_anomalies
from trading_console.commands.common import (
    ADMIN_SOCKET,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    data_option,
    existing_data_dir,
    request_id,
)
from trading_console.commands.status_report import (
    AgentPnl,
    AuditSummary,
    GateRecord,
    StatusReport,
    build_report,
)
from trading_contract import AdminStatus, AdminStatusReply, ProtocolError, TradingState
from trading_gate import read as gate_read

__all__ = ["gather", "status"]

GATE_DB: Final = "gate.db"
AGENT_DB: Final = "agent.db"
STATUS_TIMEOUT_S: Final = 5.0  # a status is answered at once; a hung gate is a finding
_NS_PER_S: Final = 1_000_000_000
_LOGGED_ANOMALIES: Final = 10
_EXACT: Final = Context(prec=300)
_STATE_STYLE: Final = {
    TradingState.ACTIVE: "bold green",
    TradingState.REDUCING: "bold yellow",
    TradingState.HALTED: "bold red",
}


@click.command()
@data_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="safety.yaml, for the dead man's timeout [default: DATA/../config/safety.yaml].",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
def status(data_dir: Path, config_path: Path | None, as_json: bool) -> None:
    """The gate's state, heartbeat, positions, open orders, P&L and anomalies.

    Exit 0 when the gate answered, 3 when it is not running (what the databases say is
    still shown), 2 on a usage error such as a missing data directory.
    """
    data_dir = existing_data_dir(data_dir)
    config = config_path or data_dir.resolve().parent / "config" / "safety.yaml"
    report = gather(data_dir, config, now_ns=time.time_ns())
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
    else:
        render(Console(), report)
    raise SystemExit(EXIT_OK if report.gate.running else EXIT_NOT_RUNNING)


def gather(data_dir: Path, config: Path, *, now_ns: int) -> StatusReport:
    """Ask the gate, read both databases, verify the chain: everything the report needs."""
    notes: list[str] = []
    live, unreachable = _ask_gate(data_dir)
    return build_report(
        data_dir=str(data_dir.resolve()),
        now_ns=now_ns,
        live=live,
        unreachable=unreachable,
        record=_gate_record(data_dir / GATE_DB, notes),
        agent=_agent_pnl(data_dir / AGENT_DB, now_ns, notes),
        audit=_audit(data_dir) if (data_dir / GATE_DB).exists() else None,
        heartbeat_timeout_s=_heartbeat_timeout(config, notes),
        notes=notes,
        logged=_logged_anomalies(data_dir / GATE_DB, notes),
    )


def _ask_gate(data_dir: Path) -> tuple[AdminStatusReply | None, str | None]:
    from trading_gate.admin_client import GateUnreachable, request

    try:
        reply = request(
            data_dir / ADMIN_SOCKET, AdminStatus(request_id=request_id()), STATUS_TIMEOUT_S
        )
    except GateUnreachable as exc:
        return None, str(exc)
    except ProtocolError as exc:
        return None, f"the gate's reply could not be decoded: {exc}"
    if not isinstance(reply, AdminStatusReply):
        return None, f"the gate did not answer the status request: {reply}"
    return reply, None


def _logged_anomalies(path: Path, notes: list[str]) -> tuple[str, ...]:
    """The audit log's recent anomalies (stream gaps, reconciliation problems, refused
    reloads, external fills, unverified kills), newest first, as the dashboard lists them."""
    if not path.exists():
        return ()
    try:
        with gate_read.open_gate_db(path) as conn:
            found = audit_anomalies(conn, limit=_LOGGED_ANOMALIES)
    except gate_read.GateDbError as exc:
        notes.append(str(exc))
        return ()
    return tuple(f"{_utc(a.ts_ns)} audit #{a.seq}: {a.text}" for a in found)


def _utc(ts_ns: int | None) -> str:
    if ts_ns is None:
        return "?"
    return dt.datetime.fromtimestamp(ts_ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _gate_record(path: Path, notes: list[str]) -> GateRecord | None:
    try:
        with gate_read.open_gate_db(path) as conn:
            return GateRecord(
                mode=gate_read.mode(conn),
                open_orders=gate_read.open_orders(conn),
                positions=gate_read.positions(conn),
                fills=gate_read.fills(conn),
            )
    except gate_read.GateDbError as exc:
        notes.append(str(exc))
        return None


def _agent_pnl(path: Path, now_ns: int, notes: list[str]) -> AgentPnl | None:
    try:
        with agent_read.open_agent_db(path) as conn:
            summary = agent_read.pnl(conn)
            trades = agent_read.closed_trades(conn)
    except agent_read.AgentDbError as exc:
        notes.append(str(exc))
        return None
    today = dt.datetime.fromtimestamp(now_ns // _NS_PER_S, dt.UTC).date()
    start, end = day_bounds_ns(today)
    todays = [t for t in trades if start <= t.exit_ns < end]
    realized_today = Decimal(0)
    for trade in todays:
        realized_today = _EXACT.add(realized_today, trade.net_pnl_usd)
    return AgentPnl(
        summary=summary,
        trades_closed=len(trades),
        today_trades_closed=len(todays),
        today_realized_net_usd=realized_today,
    )


def _audit(data_dir: Path) -> AuditSummary:
    from trading_gate import verify_audit
    from trading_gate.audit import AuditUnavailable

    anchor = data_dir / "audit.anchor"
    try:
        report = verify_audit(data_dir / "gate.db", anchor if anchor.exists() else None)
    except AuditUnavailable as exc:
        return AuditSummary(ok=False, error=f"cannot read the audit log: {exc}")
    first = report.problems[0] if report.problems else None
    return AuditSummary(
        ok=report.ok,
        rows_checked=report.rows_checked,
        head_seq=report.head_seq,
        anchored=anchor.exists(),
        first_problem=None
        if first is None
        else (f"seq {first.seq}: {first.message}" if first.seq is not None else first.message),
    )


def _heartbeat_timeout(config: Path, notes: list[str]) -> float | None:
    from trading_gate import ConfigError, load_config

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        first = str(exc).splitlines()[0]
        notes.append(f"dead man's timeout unknown ({first}); pass --config")
        return None
    return float(loaded.config.dead_man.heartbeat_timeout_s)


# ---------------------------------------------------------------- tables


def render(console: Console, report: StatusReport) -> None:
    gate = report.gate
    if not gate.running:
        why = (gate.unreachable or "").removeprefix("gate not running: ")
        console.print(f"[bold red]GATE NOT RUNNING[/bold red]: {why}")
        if gate.source is not None:
            console.print("Showing what gate.db last recorded.")
    console.print(_gate_table(report))
    if report.anomalies:
        for anomaly in report.anomalies:
            console.print(f"[bold red]ANOMALY[/bold red] {anomaly}")
    else:
        console.print("[green]no anomalies[/green]")
    console.print(_positions_table(report))
    console.print(_orders_table(report))
    console.print(_pnl_table(report))
    for note in report.notes:
        console.print(f"[dim]note: {note}[/dim]")


def _gate_table(report: StatusReport) -> Table:
    gate = report.gate
    table = Table(title=f"gate ({gate.source or 'no record'})", show_header=False)
    table.add_column("what")
    table.add_column("value")
    state = "unknown" if gate.state is None else gate.state.value.upper()
    style = _STATE_STYLE.get(gate.state, "") if gate.state is not None else ""
    table.add_row("state", f"[{style}]{state}[/{style}]" if style else state)
    table.add_row("cause", gate.cause or "-")
    table.add_row("since", _since(gate.since_ns, gate.since_age_s))
    if gate.running:
        table.add_row("agent", "connected" if gate.agent_connected else "not connected")
        table.add_row("last heartbeat", _heartbeat(gate.heartbeat_age_s, gate.heartbeat_timeout_s))
        table.add_row("unknown orders", str(gate.unknown_orders))
        table.add_row("config", (gate.config_hash or "-")[:16])
    audit = report.audit
    if audit is not None:
        verdict = (
            f"ok: {audit.rows_checked} rows{'' if audit.anchored else ' (no anchor file yet)'}"
            if audit.ok
            else f"[bold red]FAILED[/bold red]: {audit.error or audit.first_problem}"
        )
        table.add_row("audit chain", verdict)
    return table


def _since(since_ns: int | None, age_s: float | None) -> str:
    if since_ns is None:
        return "-"
    when = dt.datetime.fromtimestamp(since_ns / _NS_PER_S, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{when} UTC ({_age(age_s)} ago)"


def _heartbeat(age_s: float | None, timeout_s: float | None) -> str:
    if age_s is None:
        return "none yet"
    limit = "" if timeout_s is None else f" (timeout {timeout_s:g} s)"
    return f"{age_s:.1f} s ago{limit}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )


def _positions_table(report: StatusReport) -> Table:
    table = Table(title="positions (the gate's fills; the console has no live mid)")
    for column in ("product", "base", "avg entry", "last fill", "realized", "fees"):
        table.add_column(column, justify="left" if column == "product" else "right")
    for line in report.positions:
        entry = "-" if line.average_entry_usd is None else f"{line.average_entry_usd:.2f}"
        table.add_row(
            line.product_id,
            str(line.base),
            entry,
            str(line.last_price_usd),
            f"{line.realized_pnl_usd:+.2f}",
            f"{line.fees_usd:.2f}",
        )
    if not report.positions:
        table.add_row("none", "", "", "", "", "")
    return table


def _orders_table(report: StatusReport) -> Table:
    table = Table(title=f"open orders ({len(report.open_orders)})")
    for column in ("client order id", "product", "side", "size", "filled", "status"):
        table.add_column(column)
    for order in report.open_orders:
        table.add_row(
            order.client_order_id,
            order.product_id,
            order.side.value,
            str(order.size),
            str(order.filled_size),
            order.status.value,
        )
    return table


def _pnl_table(report: StatusReport) -> Table:
    table = Table(title="P&L (USD)", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    if report.gate_pnl is not None:
        pnl = report.gate_pnl
        table.add_row("gate: fills", str(pnl.fills))
        table.add_row("gate: fees", f"{pnl.fees_usd:.2f}")
        table.add_row("gate: P&L at last fill prices", f"{pnl.pnl_at_last_fill_usd:+.2f}")
    if report.agent_pnl is not None:
        agent = report.agent_pnl
        table.add_row(
            "agent: realized, all trades",
            f"{agent.summary.realized_usd:+.2f} ({agent.trades_closed} trades)",
        )
        table.add_row("agent: total at latest prices", f"{agent.summary.total_usd:+.2f}")
        table.add_row(
            "agent: realized today (UTC)",
            f"{agent.today_realized_net_usd:+.2f} ({agent.today_trades_closed} trades)",
        )
    if report.gate_pnl is None and report.agent_pnl is None:
        table.add_row("no fills or trades recorded", "-")
    return table
