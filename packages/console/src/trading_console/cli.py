"""The `te` command: the operator's entry point to the whole system."""

import click
from rich.console import Console
from rich.table import Table

import trading_contract
from trading_console.components import COMPONENTS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-console")
def main() -> None:
    """te: run, watch and stop the trading system."""


@main.command()
def up() -> None:
    """Start the system: loopback exchange, gate, agent and dashboard.

    Components not built yet are listed, not started; `te up` never pretends.
    """
    console = Console()
    table = Table(title=f"te up (agent-gate protocol v{trading_contract.PROTOCOL_VERSION})")
    table.add_column("component")
    table.add_column("role")
    table.add_column("status")
    for component in COMPONENTS:
        status = "ready" if component.available else f"not built yet: {component.built_by}"
        table.add_row(component.name, component.role, status)
    console.print(table)
    missing = [c.name for c in COMPONENTS if not c.available]
    if missing:
        console.print(
            f"Nothing started: {', '.join(missing)} not built yet. "
            "The contract, the workspace and the test suite are in place."
        )
