"""`te journal`: write the agent's journal page for a day, with its equity plot.

Why the console draws the plot: matplotlib is a console dependency and the agent must
stay small, so the agent's renderer (`trading_agent.journal`) writes the markdown and
this command adds the PNG, then the page that links it. The agent can write the same
page without the plot; `te journal` over it replaces it with the plotted one.
"""

import datetime as dt
import time
from pathlib import Path

import click

from trading_agent.journal import JournalError, load_page, read_proposals, write_page
from trading_console.commands.common import data_option, existing_data_dir
from trading_console.commands.equity_plot import render_equity_png

__all__ = ["journal"]


@click.command()
@data_option
@click.option(
    "--journal",
    "journal_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the pages go [default: DATA/../journal].",
)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The UTC day, YYYY-MM-DD [default: today, UTC].",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The rule directory whose proposal decisions the page lists "
    "[default: DATA/../config/rules].",
)
@click.option("--no-plot", is_flag=True, help="Write the markdown only.")
def journal(
    data_dir: Path,
    journal_dir: Path | None,
    day: dt.datetime | None,
    rules_dir: Path | None,
    no_plot: bool,
) -> None:
    """Write journal/YYYY-MM-DD.md (trades, P&L, anomalies, loops, proposals) and its
    equity plot, from agent.db read-only. Same database, same day: same files."""
    data_dir = existing_data_dir(data_dir)
    the_day = (
        day.date() if day is not None else dt.datetime.fromtimestamp(time.time(), dt.UTC).date()
    )
    target_dir = journal_dir or data_dir.resolve().parent / "journal"
    rules = rules_dir or data_dir.resolve().parent / "config" / "rules"
    try:
        page = load_page(data_dir, the_day)
        proposals = read_proposals(rules, the_day)
        plot_name = None
        if not no_plot:
            plot = render_equity_png(page, target_dir / f"{the_day.isoformat()}-equity.png")
            plot_name = plot.name
        path = write_page(target_dir, page, plot_file=plot_name, proposals=proposals)
    except (JournalError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path} ({page.events} events, {len(page.trades)} trades)")
    if plot_name is not None:
        click.echo(f"plot  {target_dir / plot_name}")
