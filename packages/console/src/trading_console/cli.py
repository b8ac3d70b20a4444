"""The `te` command: the operator's entry point to the whole system."""

import signal
import time
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.table import Table

import trading_contract
from trading_console.components import COMPONENTS
from trading_console.supervisor import SupervisorError, gate_child, minimal_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-console")
def main() -> None:
    """te: run, watch and stop the trading system."""


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


@main.command()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config/safety.yaml"),
    show_default=True,
    help="The gate's safety limits.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Runtime data: gate.db, the audit anchor, sockets, logs.",
)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--bar-seconds", type=float, default=1.0, show_default=True, help="Replay speed.")
def up(config: Path, data: Path, duration: float | None, bar_seconds: float) -> None:
    """Start the system: loopback exchange, gate, agent and dashboard.

    Components not built yet are listed, not started; `te up` never pretends.
    Ctrl-C (or --duration) stops what it started; the gate cancels its orders first.
    """
    console = Console()
    table = Table(title=f"te up (agent-gate protocol v{trading_contract.PROTOCOL_VERSION})")
    for column in ("component", "role", "status"):
        table.add_column(column)
    for component in COMPONENTS:
        status = "starting" if component.available else f"not built yet: {component.built_by}"
        table.add_row(component.name, component.role, status)
    console.print(table)
    if not config.is_file():
        raise click.ClickException(f"no safety config at {config}; pass --config PATH")
    gate = gate_child(config.resolve(), data.resolve(), bar_seconds)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        console.print(gate.start(minimal_env()))
        console.print(
            f"gate log: {gate.log_path}\n"
            f"status:   uv run trading-gate status --data {data}\n"
            f"kill:     uv run trading-gate halt --data {data} --reason '...'\n"
            "Ctrl-C stops everything."
        )
        started = time.monotonic()
        while gate.alive() and (duration is None or time.monotonic() - started < duration):
            time.sleep(0.2)
    except SupervisorError as exc:
        raise click.ClickException(str(exc)) from exc
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        code = gate.stop()
        console.print(f"gate stopped (exit {code})")
