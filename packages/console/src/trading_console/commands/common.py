"""What every operator command shares: the --data option, exit codes, the operator's
name, and the check on text that goes into the audit log.

Exit codes (the same for every `te` command, and the same as `trading-gate`'s):

    0  done
    1  refused or failed: the message says why (a bad audit chain, a gate refusal)
    2  usage: a bad argument, a missing directory, no confirmation possible
    3  the gate is not running (no admin socket, or a stale one)
    4  `te kill` could not reach the gate and created the kill file instead
"""

import getpass
import re
import secrets
from pathlib import Path
from typing import Final

import click

from trading_contract import RequestId

__all__ = [
    "ADMIN_SOCKET",
    "EXIT_FAILED",
    "EXIT_KILL_FILE",
    "EXIT_NOT_RUNNING",
    "EXIT_OK",
    "EXIT_USAGE",
    "KILL_FILE",
    "audit_text",
    "data_option",
    "existing_data_dir",
    "operator_name",
    "request_id",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_NOT_RUNNING: Final = 3
EXIT_KILL_FILE: Final = 4

# Where the gate puts them under its data directory (trading_gate.app).
ADMIN_SOCKET: Final = Path("run") / "admin.sock"
KILL_FILE: Final = "KILL"

# The contract's Text: at most 500 characters, no control characters (no log injection).
MAX_AUDIT_TEXT: Final = 500
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# The contract's Operator pattern; other characters of a login name become "_".
_OPERATOR: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@\-]{0,63}$")
_NOT_OPERATOR_CHAR: Final = re.compile(r"[^A-Za-z0-9._@\-]")

data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=Path("data"),
    show_default=True,
    help="The runtime data directory: gate.db, agent.db, audit.anchor, run/ sockets, KILL.",
)


def existing_data_dir(data_dir: Path) -> Path:
    """The data directory, or a usage error (exit 2) naming it when it is not one."""
    if not data_dir.is_dir():
        what = "is not a directory" if data_dir.exists() else "does not exist"
        raise click.UsageError(
            f"the data directory {data_dir} {what}; pass --data DIR (created by `te bootstrap`)"
        )
    return data_dir


def operator_name() -> str:
    """The login name, made to fit the contract's Operator pattern (the gate also records
    the peer's uid, so this is for people reading the audit log, not proof of identity)."""
    name = getpass.getuser()
    if _OPERATOR.fullmatch(name):
        return name
    cleaned = _NOT_OPERATOR_CHAR.sub("_", name)[:64] or "unknown"
    return cleaned if _OPERATOR.fullmatch(cleaned) else f"_{cleaned[:63]}"


def audit_text(value: str, *, what: str, required: bool) -> str:
    """`value` checked as the contract's Text, so the gate never has to refuse it.

    Raises:
        click.BadParameter: blank when required, too long, or with control characters.
    """
    if required and not value.strip():
        raise click.BadParameter(f"{what} must say why; it is blank")
    if len(value) > MAX_AUDIT_TEXT:
        raise click.BadParameter(f"{what} is {len(value)} characters; at most {MAX_AUDIT_TEXT}")
    if _CONTROL.search(value):
        raise click.BadParameter(f"{what} holds a control character (a newline or a tab?)")
    return value


def request_id() -> RequestId:
    return RequestId(f"te-{secrets.token_hex(6)}")
