"""The `trading-agent` command."""

import click

import trading_contract


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trading-agent")
def main() -> None:
    """The agent: reads market data, runs the strategies, sends order intents to the
    gate and learns from every trade. It holds no exchange keys.
    """


@main.command()
def protocol() -> None:
    """Print the agent-gate protocol version and the messages the agent sends."""
    click.echo(f"protocol v{trading_contract.PROTOCOL_VERSION}")
    click.echo("sends:   " + ", ".join(trading_contract.AGENT_MESSAGE_TAGS))
    click.echo("accepts: " + ", ".join(trading_contract.GATE_MESSAGE_TAGS))
