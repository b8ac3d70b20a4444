"""`te down`: stop the `te up` running over a data directory, in order, from anywhere."""

import os
import signal
import time
from pathlib import Path

import click

from trading_console.commands.common import EXIT_FAILED, EXIT_NOT_RUNNING, data_option
from trading_console.up_lock import PID_FILE, is_te_up, read_running

__all__ = ["down"]

_POLL_S = 0.1


@click.command()
@data_option
@click.option(
    "--timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for everything to stop (the gate cancels its orders first).",
)
def down(data_dir: Path, timeout: float) -> None:
    """Stop the system `te up` started over DATA: agent, dashboard, the gate after it has
    cancelled its open orders, then the venue (exit 0 stopped, 1 still running after
    --timeout, 3 nothing running)."""
    pid = read_running(data_dir)
    if pid is None:
        stale = (data_dir / PID_FILE).exists()
        why = f"a stale {PID_FILE} (its process is gone)" if stale else "no te up pid file"
        click.echo(f"te down: nothing to stop over {data_dir}: {why}", err=True)
        raise SystemExit(EXIT_NOT_RUNNING)
    click.echo(f"stopping te up (pid {pid}): agent, dashboard, gate, venue ...")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_te_up(pid):
        if time.monotonic() > deadline:
            click.echo(f"te down: pid {pid} is still running after {timeout:g} s", err=True)
            raise SystemExit(EXIT_FAILED)
        time.sleep(_POLL_S)
    click.echo("stopped")
