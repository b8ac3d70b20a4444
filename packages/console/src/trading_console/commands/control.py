"""`te kill` and `te resume`: a human stops or restarts trading, through the admin socket.

Both are for people, not scripts: on a terminal they ask first; without a terminal they
need --yes, so a cron job or a pipe cannot resume trading by accident. The operator's
login name goes with the request, and the gate records it with the peer's uid.

A kill must work when the socket does not, so when the gate cannot be reached `te kill`
creates the kill file (DATA/KILL) that the gate polls: a running gate halts from it
within a fraction of a second, and a gate started later halts on start. That fallback
says so loudly and exits 4, because nobody has confirmed the halt yet.
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Final

import click

from trading_console.commands.common import (
    ADMIN_SOCKET,
    EXIT_FAILED,
    EXIT_KILL_FILE,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    KILL_FILE,
    audit_text,
    data_option,
    existing_data_dir,
    operator_name,
    request_id,
)
from trading_contract import (
    AdminAck,
    AdminHalt,
    AdminReply,
    AdminRequest,
    AdminResume,
    AdminStatus,
    AdminStatusReply,
    ProtocolError,
    TradingState,
)

__all__ = ["kill", "resume", "write_kill_file"]

STATUS_TIMEOUT_S: Final = 5.0


class _Unreachable(Exception):
    """The admin socket did not answer; the message says why."""


def _send(data_dir: Path, message: AdminRequest, timeout_s: float | None = None) -> AdminReply:
    from trading_gate.admin_client import DEFAULT_TIMEOUT_S, GateUnreachable, request

    try:
        return request(data_dir / ADMIN_SOCKET, message, timeout_s or DEFAULT_TIMEOUT_S)
    except GateUnreachable as exc:
        raise _Unreachable(str(exc)) from exc
    except ProtocolError as exc:
        raise _Unreachable(f"the gate's reply could not be decoded: {exc}") from exc


def _confirm(question: str, yes: bool) -> None:
    """Go on only with --yes or a 'y' typed at a terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(
            "refusing without confirmation: stdin is not a terminal, so nobody can answer "
            "the question; a human who means it passes --yes"
        )
    click.confirm(question, abort=True)


def _checked_reason(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return audit_text(value, what="--reason", required=True)


_REASON = click.option(
    "--reason",
    required=True,
    callback=_checked_reason,
    help="Why (recorded in the audit log with your user name).",
)
_YES = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


def write_kill_file(data_dir: Path, operator: str, reason: str) -> tuple[Path, bool]:
    """Create DATA/KILL (the gate only needs it to exist; the text is for people).

    Returns the path and whether this call created it (False: one was already there).
    """
    path = data_dir / KILL_FILE
    stamp = dt.datetime.fromtimestamp(time.time(), dt.UTC).isoformat(timespec="seconds")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path, False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"te kill by {operator} at {stamp}: {reason}\n")
        out.flush()
        os.fsync(out.fileno())
    return path, True


@click.command()
@data_option
@_REASON
@_YES
def kill(data_dir: Path, reason: str, yes: bool) -> None:
    """The kill switch: latch HALTED, cancel every open order, verify the book is empty.

    If the gate cannot be reached, creates DATA/KILL instead (which the gate watches),
    says so, and exits 4. Exit 0 halted and verified empty, 1 halted but not verified.
    """
    data_dir = existing_data_dir(data_dir)
    _confirm(f"Halt trading now and cancel every open order (gate at {data_dir})?", yes)
    operator = operator_name()
    halt = AdminHalt(request_id=request_id(), operator=operator, reason=reason)
    try:
        reply = _send(data_dir, halt)
    except _Unreachable as exc:
        _fall_back_to_kill_file(data_dir, operator, reason, str(exc))
        raise SystemExit(EXIT_KILL_FILE) from None
    if not isinstance(reply, AdminAck):
        click.secho(f"te kill: the gate refused the halt: {reply}", fg="red", err=True)
        raise SystemExit(EXIT_FAILED)
    _report_halt(data_dir, reply)
    raise SystemExit(EXIT_OK if reply.ok else EXIT_FAILED)


def _fall_back_to_kill_file(data_dir: Path, operator: str, reason: str, why: str) -> None:
    path, created = write_kill_file(data_dir, operator, reason)
    done = "CREATED THE KILL FILE" if created else "THE KILL FILE IS ALREADY THERE"
    click.secho(
        f"!!! te kill: THE GATE DID NOT ANSWER ({why}).\n"
        f"!!! {done}: {path}\n"
        "!!! A running gate halts within about a second of seeing it and deletes it; a gate\n"
        "!!! started later halts at start. NOTHING HAS CONFIRMED THE HALT YET: check with\n"
        f"!!!     te status --data {data_dir}\n"
        "!!! and, if the gate is hung, stop its process and cancel open orders at the venue.",
        fg="red",
        bold=True,
        err=True,
    )


def _report_halt(data_dir: Path, ack: AdminAck) -> None:
    """The gate's own account of the kill, then a fresh status that confirms the latch."""
    click.echo(f"gate:      {ack.message}")
    try:
        after = _send(data_dir, AdminStatus(request_id=request_id()), STATUS_TIMEOUT_S)
    except _Unreachable as exc:
        after = None
        click.echo(f"status:    could not ask the gate again ({exc})")
    if isinstance(after, AdminStatusReply):
        click.echo(f"latched:   {after.state.value.upper()} ({after.cause})")
        click.echo(f"open:      {after.open_orders} orders, {after.unknown_orders} unknown")
    if ack.ok:
        click.echo("verified:  the book is empty")
    else:
        click.secho(
            "verified:  NO - orders may still be open at the venue; see the gate's alerts "
            "and cancel them by hand",
            fg="red",
            bold=True,
            err=True,
        )


@click.command()
@data_option
@_REASON
@click.option(
    "--to",
    "to",
    type=click.Choice(["active", "reducing"]),
    default="reducing",
    show_default=True,
    help="reducing: only risk-reducing orders; active: everything the limits allow.",
)
@_YES
def resume(data_dir: Path, reason: str, to: str, yes: bool) -> None:
    """Lower the trading state: the only way out of HALTED, and only by a human.

    Exit 0 resumed, 1 the gate refused (it says why), 3 the gate is not running.
    """
    data_dir = existing_data_dir(data_dir)
    target = TradingState(to)
    _confirm(f"Resume trading to {target.value.upper()} (gate at {data_dir})?", yes)
    message = AdminResume(
        request_id=request_id(), operator=operator_name(), reason=reason, to=target
    )
    try:
        reply = _send(data_dir, message)
    except _Unreachable as exc:
        click.secho(f"te resume: {exc}", fg="red", err=True)
        raise SystemExit(EXIT_NOT_RUNNING) from None
    if not isinstance(reply, AdminAck):
        click.secho(f"te resume: the gate refused the request: {reply}", fg="red", err=True)
        raise SystemExit(EXIT_FAILED)
    click.echo(reply.message, err=not reply.ok)
    raise SystemExit(EXIT_OK if reply.ok else EXIT_FAILED)
