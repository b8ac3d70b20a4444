"""`te rules list | check | show | retire`: the rules in force, how often each fired, and
retiring one (a file move, a ledger line, then a reload of the running gate).

Counts come from gate.db read-only (`trading_console.rule_stats`); the gate is reached
only through its admin socket. Exit codes are those of `commands.common`: 0 done, 1
refused (a set that does not load, a gate that refused), 2 usage (an unknown id, a bad
argument), 3 the gate is not running where it must be. A change the gate could not be
told of is still made and exits 0: the gate loads it at its next start, and says so.
"""

import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Final

import click
import msgspec
from rich.console import Console
from rich.table import Table

from trading_console import proposals as props
from trading_console.commands.common import (
    ADMIN_SOCKET,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    audit_text,
    data_option,
    operator_name,
    request_id,
)
from trading_console.rule_stats import RuleLoad, RuleStats, read_rule_stats
from trading_contract import (
    AdminAck,
    AdminReloadRules,
    AdminStatus,
    AdminStatusReply,
    ProtocolError,
)
from trading_gate.core.rule_set import RuleSet
from trading_gate.rule_files import RuleSetError, load_rule_dir
from trading_gate.rules import Rule

__all__ = [
    "confirm",
    "operator_option",
    "reason_option",
    "reload_gate",
    "rule_rows",
    "rules",
    "rules_option",
    "yes_option",
]

NO_PNL: Final = "\u2014"  # counterfactual P&L: priced by the learning loop, later
_RELOAD_TIMEOUT_S: Final = 10.0
_NOT_RUNNING: Final = "gate not running"
_COLUMNS: Final = ("tier", "id", "name", "author", "created", "file", "evaluated", "fired",
                   "last_fired", "counterfactual_pnl_usd")  # fmt: skip

rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("config/rules"),
    show_default=True,
    help="The rule directory: core/, active/, shadow/, proposed/ and decisions.jsonl.",
)


def _checked_reason(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return audit_text(value, what="--reason", required=True)


reason_option = click.option(
    "--reason", required=True, callback=_checked_reason, help="Why (kept in decisions.jsonl)."
)
_OPERATOR: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@\-]{0,63}")


def _checked_operator(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value is None:
        return operator_name()
    if not _OPERATOR.fullmatch(value):
        raise click.BadParameter(
            "letters, digits and . _ @ - only, at most 64, not starting with a dot, @ or -"
        )
    return value


operator_option = click.option(
    "--operator",
    callback=_checked_operator,
    default=None,
    help="Your name for the record (default: your login name).",
)
yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON only, for scripts.")


def confirm(question: str, yes: bool) -> None:
    """Go on only with --yes or a 'y' typed at a terminal (as `te kill` does)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(
            "refusing without confirmation: stdin is not a terminal, so nobody can answer "
            "the question; a human who means it passes --yes"
        )
    click.confirm(question, abort=True)


def now_utc() -> dt.datetime:
    return dt.datetime.fromtimestamp(time.time(), dt.UTC)


def fail(message: str, code: int) -> None:
    click.secho(message, fg="red", err=True)
    raise SystemExit(code)


# ---------------------------------------------------------------- telling the gate


def reload_gate(data_dir: Path, operator: str, on_disk: RuleSet | None) -> int:
    """Ask the running gate to reload its rules; print what happened; the exit code.

    No gate (no socket, a stale one): exit 0, saying the gate loads them at its next
    start. A refusal by the gate: exit 1 with its report.
    """
    from trading_gate.admin_client import GateUnreachable, request

    socket = data_dir / ADMIN_SOCKET
    message = AdminReloadRules(request_id=request_id(), operator=operator)
    try:
        reply = request(socket, message, _RELOAD_TIMEOUT_S)
        status = request(socket, AdminStatus(request_id=request_id()), _RELOAD_TIMEOUT_S)
    except (GateUnreachable, ProtocolError) as exc:
        # admin_client says "gate not running" for a missing or stale socket only; any
        # other failure came after the request may have arrived.
        if str(exc).startswith(_NOT_RUNNING):
            click.echo(f"gate:      not told ({exc}); it loads the rules at its next start")
            return EXIT_OK
        click.secho(
            f"gate:      did not confirm the reload ({exc}); the files are changed and a "
            f"running gate re-reads them within seconds: check `te status --data {data_dir}`",
            fg="red",
            err=True,
        )
        return EXIT_FAILED
    if not isinstance(reply, AdminAck) or not reply.ok:
        text = reply.message if isinstance(reply, AdminAck) else str(reply)
        click.secho(f"gate:      refused the reload: {text}", fg="red", err=True)
        return EXIT_FAILED
    click.echo(f"gate:      {reply.message}")
    if isinstance(status, AdminStatusReply):
        click.echo(f"in force:  {status.rules_hash}")
        if on_disk is not None and status.rules_hash != on_disk.sha256:
            click.secho(
                f"note:      the files hash to {on_disk.sha256}: the gate reads another "
                "rules directory, or the files changed again",
                fg="yellow",
                err=True,
            )
    return EXIT_OK


# ---------------------------------------------------------------- reading


def _loaded(rules_dir: Path) -> RuleSet:
    try:
        return load_rule_dir(rules_dir)
    except RuleSetError as exc:
        fail(f"te rules: the rule set does not load:\n{exc.render()}", EXIT_FAILED)
        raise AssertionError from exc  # unreachable: fail() exits


def _stats(
    data_dir: Path,
) -> tuple[dict[tuple[str, str], RuleStats] | None, RuleLoad | None, str | None]:
    from trading_gate.read import GateDbError

    try:
        stats, load = read_rule_stats(data_dir / "gate.db")
    except GateDbError as exc:
        return None, None, str(exc)
    return stats, load, None


def _file_of(rule_set: RuleSet, rule_id: str) -> str:
    return next((f.path for f in rule_set.files if rule_id in f.rule_ids), "")


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat(timespec="seconds")


def rule_rows(
    rule_set: RuleSet, stats: dict[tuple[str, str], RuleStats] | None
) -> list[dict[str, object]]:
    """One row per rule in force, by tier, with its counts (None: gate.db unreadable)."""
    rows: list[dict[str, object]] = []
    tiers: tuple[tuple[str, tuple[Rule, ...]], ...] = (
        ("core", rule_set.core), ("active", rule_set.active), ("shadow", rule_set.shadow),
    )  # fmt: skip
    for tier, rules_in_tier in tiers:
        for rule in rules_in_tier:
            seen = None if stats is None else stats.get((rule.id, tier))
            evaluated = None if stats is None else (seen.evaluated if seen else 0)
            fired = None if stats is None else (seen.fired if seen else 0)
            rows.append({
                "tier": tier, "id": rule.id, "name": rule.name, "author": rule.author,
                "created": rule.created.isoformat(), "file": _file_of(rule_set, rule.id),
                "evaluated": evaluated, "fired": fired,
                "errors": None if stats is None else (seen.errors if seen else 0),
                "last_fired": _iso(seen.last_fired_ns) if seen else None,
                "counterfactual_pnl_usd": None,
            })  # fmt: skip
    return rows


def _shown(value: object) -> str:
    return NO_PNL if value is None else str(value)


# ---------------------------------------------------------------- commands


@click.group()
def rules() -> None:
    """The gate's rules: list them with their counts, check, show, retire, the vocabulary."""


@rules.command("list")
@rules_option
@data_option
@_JSON
def list_command(rules_dir: Path, data_dir: Path, as_json: bool) -> None:
    """Every rule in the directory by tier, with how often it was evaluated and fired
    (for shadow rules: would have) according to gate.db. Exit 1: the set does not load."""
    rule_set = _loaded(rules_dir)
    stats, load, db_error = _stats(data_dir)
    rows = rule_rows(rule_set, stats)
    if as_json:
        doc = {"rules_dir": str(rules_dir), "sha256": rule_set.sha256, "rules": rows,
               "gate_db_error": db_error,
               "gate_loaded": None if load is None else msgspec.to_builtins(load)}  # fmt: skip
        click.echo(json.dumps(doc, sort_keys=True))
        return
    table = Table(title=f"rules in {rules_dir} (sha256 {rule_set.sha256[:12]})")
    for column in ("tier", "id", "name", "author", "created", "file", "evaluated",
                   "fired / would", "last fired", "counterfactual P&L"):  # fmt: skip
        table.add_column(column)
    for row in rows:
        table.add_row(*(_shown(row[k]) for k in _COLUMNS))
    console = Console()
    console.print(table)
    if not rows:
        console.print("no rules (looked in core/, active/ and shadow/)")
    if db_error is not None:
        console.print(f"counts unknown: {db_error}")
    elif load is not None and load.sha256 != rule_set.sha256:
        console.print(f"the gate last loaded another set: {load.sha256[:12]} from {load.source}")


@rules.command("check")
@click.argument("rules_dir", type=click.Path(path_type=Path), default=Path("config/rules"))
@_JSON
def check_command(rules_dir: Path, as_json: bool) -> None:
    """Load DIR as the gate would: exit 0 if every file loads, 1 with every problem."""
    from trading_gate.rules_cli import check_dir

    if not as_json:
        code, text = check_dir(rules_dir)
        click.echo(text, err=code != EXIT_OK)
        raise SystemExit(code)
    try:
        rule_set = load_rule_dir(rules_dir)
    except RuleSetError as exc:
        click.echo(json.dumps({"ok": False, "problems": exc.render()}))
        raise SystemExit(EXIT_FAILED) from None
    doc = {"ok": True, "sha256": rule_set.sha256, "counts": rule_set.counts(),
           "files": [msgspec.to_builtins(f) for f in rule_set.files]}  # fmt: skip
    click.echo(json.dumps(doc, sort_keys=True))


@rules.command("show")
@click.argument("rule_id")
@rules_option
@data_option
@_JSON
def show_command(rule_id: str, rules_dir: Path, data_dir: Path, as_json: bool) -> None:
    """One rule's text, file, tier and counts. Exit 2: no rule with that id in force."""
    rule_set = _loaded(rules_dir)
    stats, _, db_error = _stats(data_dir)
    row = next((r for r in rule_rows(rule_set, stats) if r["id"] == rule_id), None)
    if row is None:
        fail(f"te rules show: no rule {rule_id!r} in {rules_dir}", EXIT_USAGE)
        return
    rule = next(r for _, r in (*rule_set.enforced, *(("shadow", r) for r in rule_set.shadow))
                if r.id == rule_id)  # fmt: skip
    if as_json:
        click.echo(json.dumps(row | {"source_text": rule.source_text}, sort_keys=True))
        return
    for key, value in row.items():
        click.echo(f"{key + ':':24}{_shown(value)}")
    if db_error is not None:
        click.echo(f"{'counts:':24}unknown ({db_error})")
    click.echo("")
    click.echo(rule.source_text.rstrip())


@rules.command("retire")
@click.argument("rule_id")
@reason_option
@operator_option
@rules_option
@data_option
@yes_option
def retire_command(
    rule_id: str, reason: str, operator: str, rules_dir: Path, data_dir: Path, yes: bool
) -> None:
    """Move an active or shadow rule to retired/, record why, and reload the gate.

    Core rules are refused: a human retires one by editing config/rules/core.
    Exit 0 done (also with no gate running: it loads the change at its next start),
    1 refused, 2 no such rule.
    """
    confirm(f"Retire rule {rule_id} from {rules_dir}?", yes)
    try:
        change = props.retire(rules_dir, rule_id, operator=operator, reason=reason, now=now_utc())
    except props.UnknownRule as exc:
        fail(f"te rules retire: {exc}", EXIT_USAGE)
        return
    except props.ProposalError as exc:
        fail(f"te rules retire: {exc}", EXIT_FAILED)
        return
    click.echo(f"retired:   {rule_id} ({change.entry.tier}) -> {change.moved_to}")
    raise SystemExit(reload_gate(data_dir, operator, change.rule_set))


@rules.command("vocabulary")
def vocabulary_command() -> None:
    """Every field a rule may read (type, unit, meaning) and every operator (docs/rules.md)."""
    from trading_gate.rules import describe_vocabulary

    click.echo(describe_vocabulary(), nl=False)
