"""`te proposals list | show | new | approve | reject`: rule proposals waiting for a human.

The file work is `trading_console.proposals` (shared with the dashboard); this module
only parses options, asks for confirmation, prints, and tells the running gate. An
approval the gate cannot be told of still stands and exits 0: the gate loads it at its
next start, and the output says so. Exit codes as `commands.common`: 0 done, 1 refused
(a set that would not load, a gate that refused the reload), 2 usage (an unknown id, a
bad file or argument).
"""

import json
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.table import Table

from trading_console import proposals as props
from trading_console.commands.common import EXIT_FAILED, EXIT_USAGE, data_option
from trading_console.commands.rules import (
    confirm,
    fail,
    now_utc,
    operator_option,
    reason_option,
    reload_gate,
    rules_option,
    yes_option,
)

__all__ = ["proposals"]

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON only, for scripts.")


def _doc(proposal: props.Proposal) -> dict[str, object]:
    return msgspec.to_builtins(proposal) | {"asks_for": proposal.asks_for}  # type: ignore[no-any-return]


def _read(rules_dir: Path, proposal_id: str, command: str) -> props.Proposal:
    try:
        return props.read_proposal(rules_dir, proposal_id)
    except props.ProposalError as exc:
        fail(f"te proposals {command}: {exc}", EXIT_USAGE)
        raise AssertionError from exc  # unreachable: fail() exits


@click.group()
def proposals() -> None:
    """Rule proposals: list, show, add one, approve it into a tier, or reject it."""


@proposals.command("list")
@rules_option
@_JSON
def list_command(rules_dir: Path, as_json: bool) -> None:
    """Every pending proposal in RULES/proposed, with its evidence summary."""
    pending = props.list_proposals(rules_dir)
    if as_json:
        click.echo(json.dumps([_doc(p) for p in pending], sort_keys=True))
        return
    table = Table(title=f"proposals in {rules_dir / 'proposed'}")
    for column in ("id", "name", "asks for", "source", "summary", "loads"):
        table.add_column(column)
    for p in pending:
        evidence = p.evidence
        table.add_row(
            p.id,
            p.name or "",
            p.asks_for,
            evidence.source if evidence else "",
            evidence.summary if evidence else (p.evidence_error or "no evidence"),
            "yes" if p.problems is None else "NO",
        )
    console = Console()
    console.print(table)
    if not pending:
        console.print("no pending proposals")


@proposals.command("show")
@click.argument("proposal_id")
@rules_option
@_JSON
def show_command(proposal_id: str, rules_dir: Path, as_json: bool) -> None:
    """One proposal: its rule text, its evidence and metrics, and any problem."""
    proposal = _read(rules_dir, proposal_id, "show")
    if as_json:
        click.echo(json.dumps(_doc(proposal), sort_keys=True))
        return
    click.echo(f"proposal:  {proposal.id} ({proposal.path})")
    click.echo(f"asks for:  {proposal.asks_for}")
    if proposal.evidence is not None:
        e = proposal.evidence
        click.echo(f"evidence:  {e.summary} (from {e.source}, {e.created.isoformat()})")
        for name, value in sorted(e.metrics.items()):
            click.echo(f"  {name}: {value}")
    elif proposal.evidence_error is not None:
        click.echo(f"evidence:  unreadable: {proposal.evidence_error}")
    if proposal.problems is not None:
        click.echo(f"problems:\n{proposal.problems}")
    click.echo("")
    click.echo(proposal.text.rstrip())


@proposals.command("new")
@click.argument("rule_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--evidence",
    "evidence_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON: summary, source (loop2|loop3|human), created, metrics, tier.",
)
@rules_option
def new_command(rule_file: Path, evidence_file: Path | None, rules_dir: Path) -> None:
    """Check RULE_FILE (one rule; its id names the proposal) and copy it into
    RULES/proposed, with its evidence. Exit 2: it does not check or the id is taken."""
    try:
        proposal = props.add_proposal(rules_dir, rule_file, evidence_file)
    except props.ProposalError as exc:
        fail(f"te proposals new: {exc}", EXIT_USAGE)
        return
    click.echo(f"proposed:  {proposal.id} -> {proposal.path} (asks for {proposal.asks_for})")


@proposals.command("approve")
@click.argument("proposal_id")
@reason_option
@click.option(
    "--to",
    type=click.Choice(["active", "shadow"]),
    default=None,
    help="The tier (default: what its evidence asks for, else active).",
)
@operator_option
@rules_option
@data_option
@yes_option
def approve_command(
    proposal_id: str,
    reason: str,
    to: str | None,
    operator: str,
    rules_dir: Path,
    data_dir: Path,
    yes: bool,
) -> None:
    """Move a proposal into active/ or shadow/ once the whole set with it loads, record
    the decision in RULES/decisions.jsonl, and reload the running gate.

    Exit 0 approved (with no gate running too: it loads it at its next start), 1 the set
    would not load (nothing moved) or the gate refused, 2 no such proposal.
    """
    proposal = _read(rules_dir, proposal_id, "approve")
    tier = to or proposal.asks_for
    confirm(f"Approve {proposal.id} into {tier} in {rules_dir}?", yes)
    try:
        change = props.approve(
            rules_dir,
            proposal_id,
            operator=operator,
            reason=reason,
            now=now_utc(),
            to="shadow" if tier == "shadow" else "active",
        )
    except props.SetWouldNotLoad as exc:
        fail(f"te proposals approve: refused, nothing moved:\n{exc.problems}", EXIT_FAILED)
        return
    except props.ProposalError as exc:
        fail(f"te proposals approve: {exc}", EXIT_FAILED)
        return
    click.echo(f"approved:  {proposal.id} -> {change.moved_to}")
    if change.rule_set is not None:
        click.echo(f"files:     sha256 {change.rule_set.sha256}")
    raise SystemExit(reload_gate(data_dir, operator, change.rule_set))


@proposals.command("reject")
@click.argument("proposal_id")
@reason_option
@operator_option
@rules_option
def reject_command(proposal_id: str, reason: str, operator: str, rules_dir: Path) -> None:
    """Move a proposal to RULES/rejected and record why (the gate never loads either)."""
    try:
        change = props.reject(
            rules_dir, proposal_id, operator=operator, reason=reason, now=now_utc()
        )
    except props.UnknownRule as exc:
        fail(f"te proposals reject: {exc}", EXIT_USAGE)
        return
    except props.ProposalError as exc:
        fail(f"te proposals reject: {exc}", EXIT_FAILED)
        return
    click.echo(f"rejected:  {proposal_id} -> {change.moved_to}")
