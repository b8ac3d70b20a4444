"""The `trading-gate` command."""

import click

import trading_contract


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-gate")
def main() -> None:
    """The gate: checks every order against the safety limits and rules, alone holds
    the exchange keys, and writes the audit log.
    """


@main.command()
def protocol() -> None:
    """Print the agent-gate protocol version and the messages the gate accepts."""
    click.echo(f"protocol v{trading_contract.PROTOCOL_VERSION}")
    click.echo("accepts: " + ", ".join(trading_contract.AGENT_MESSAGE_TAGS))
    click.echo("sends:   " + ", ".join(trading_contract.GATE_MESSAGE_TAGS))
