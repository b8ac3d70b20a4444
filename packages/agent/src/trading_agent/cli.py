"""The `trading-agent` command."""

from pathlib import Path

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


@main.command()
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="The runtime folder the gate uses: its socket, the market schedule, agent.db.",
)
@click.option(
    "--strategies-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("config/strategies"),
    show_default=True,
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    default=("mean_reversion", "momentum"),
    show_default=True,
    help="Strategy to run (repeatable).",
)
@click.option("--product", "products", multiple=True, help="Product (default: all).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option(
    "--venue-url",
    default=None,
    help="Public Coinbase market data from here (https://api.coinbase.com, or the loopback "
    "venue's URL) instead of the gate's paper replay. No key is used.",
)
@click.option("--venue-ws-url", default=None, help="Its market-data websocket URL.")
@click.option(
    "--granularity",
    type=click.Choice(["ONE_MINUTE", "FIVE_MINUTE", "FIFTEEN_MINUTE", "ONE_HOUR"]),
    default="FIVE_MINUTE",
    show_default=True,
    help="Candle size with --venue-url: one-minute bars are built from the trade stream; "
    "others follow the candles channel (five-minute on Coinbase).",
)
@click.option(
    "--journal",
    "journal_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("journal"),
    show_default=True,
    help="Where the daily journal pages go (written at each UTC midnight).",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The gate's rule directory, read only: the journal lists its proposal decisions.",
)
def run(
    journal_dir: Path,
    rules_dir: Path | None,
    data: Path,
    strategies_dir: Path,
    strategies: tuple[str, ...],
    products: tuple[str, ...],
    duration: float | None,
    venue_url: str | None,
    venue_ws_url: str | None,
    granularity: str,
) -> None:
    """Trade through the gate: candles in, order intents out, fills booked."""
    from trading_agent.app import AgentOptions
    from trading_agent.app import run as run_agent

    options = AgentOptions(
        data_dir=data,
        strategy_dir=strategies_dir,
        strategies=strategies,
        products=products or None,
        duration_s=duration,
        venue_url=venue_url,
        venue_ws_url=venue_ws_url,
        granularity=granularity,
        journal_dir=journal_dir,
        rules_dir=rules_dir,
    )
    raise SystemExit(run_agent(options))
