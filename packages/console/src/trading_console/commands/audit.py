"""`te audit verify`: recompute the gate's hash chain and name the first bad row.

The verifying is the gate's own `verify_audit` (through `trading-gate audit verify`'s
wording, so the two commands say the same thing). Like the gate at start-up, the anchor
file is used when it exists; without it the chain is checked alone and a warning says
that a cut tail would go unnoticed.
"""

from pathlib import Path

import click

from trading_console.commands.common import data_option, existing_data_dir
from trading_gate.audit_cli import audit_verify

__all__ = ["audit", "verify_data_dir"]

GATE_DB = "gate.db"
ANCHOR = "audit.anchor"


def verify_data_dir(data_dir: Path) -> tuple[int, str]:
    """(exit code, text): 0 the chain verifies, 1 it does not, 2 gate.db unreadable."""
    anchor = data_dir / ANCHOR
    return audit_verify(data_dir / GATE_DB, anchor if anchor.exists() else None)


@click.group()
def audit() -> None:
    """The gate's hash-chained audit log."""


@audit.command("verify")
@data_option
def verify(data_dir: Path) -> None:
    """Recompute the chain from genesis, check it against the anchor file, and name the
    first bad row (exit 0 verified, 1 not, 2 gate.db missing or unreadable)."""
    code, text = verify_data_dir(existing_data_dir(data_dir))
    click.echo(text, err=code != 0)
    raise SystemExit(code)
