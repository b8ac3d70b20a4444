"""`te data`: candle history for backtests, from the venue (fetch) or a CSV (import).

    te data fetch --product BTC-USD --granularity 1m --start 2026-01-01 --end 2026-02-01
    te data import --product BTC-USD ../shared/data/coinbase/BTC-USD_1m_....csv.gz

Both write Parquet (prices as exact text) under data/history/ by default and print a
gap report: buckets with no candle are listed, never filled. A fetch resumes from the
newest candle already in its file.
"""

import asyncio
import datetime as dt
from pathlib import Path
from typing import Final

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from trading_agent.marketdata.candles import CandleSeries, Gap
from trading_agent.marketdata.history import FetchReport, fetch_history
from trading_agent.marketdata.replay import CandleFileError, read_candle_csv, write_candle_parquet
from trading_coinbase.errors import CoinbaseError
from trading_coinbase.rest import DEFAULT_BASE_URL, RestClient
from trading_coinbase.translate import Granularity

__all__ = ["data"]

GRANULARITIES: Final = {
    "1m": Granularity.ONE_MINUTE,
    "5m": Granularity.FIVE_MINUTE,
    "15m": Granularity.FIFTEEN_MINUTE,
    "30m": Granularity.THIRTY_MINUTE,
    "1h": Granularity.ONE_HOUR,
    "2h": Granularity.TWO_HOUR,
    "6h": Granularity.SIX_HOUR,
    "1d": Granularity.ONE_DAY,
}
_SHOWN_GAPS: Final = 10


@click.group()
def data() -> None:
    """Candle history for backtests: fetch it from the venue or import a CSV."""


def _epoch_s(value: str, option: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD[THH:MM])", param_hint=option
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


@data.command()
@click.option("--product", required=True, help="Product id, e.g. BTC-USD.")
@click.option(
    "--granularity", type=click.Choice(list(GRANULARITIES)), default="1m", show_default=True
)
@click.option("--start", required=True, help="First bucket, UTC date or datetime.")
@click.option("--end", required=True, help="End of the range (exclusive), UTC.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Parquet file.")
@click.option(
    "--venue-url", default=DEFAULT_BASE_URL, show_default=True,
    help="Coinbase's REST base URL (or the loopback venue's). Public data: no key.",
)  # fmt: skip
def fetch(
    product: str, granularity: str, start: str, end: str, out: Path | None, venue_url: str
) -> None:
    """Fetch candles over the public REST endpoint into Parquet, resumable."""
    chosen = GRANULARITIES[granularity]
    step = chosen.seconds
    start_s, end_s = _epoch_s(start, "--start"), _epoch_s(end, "--end")
    start_s, end_s = start_s // step * step, -(-end_s // step) * step  # whole buckets
    path = out or Path("data") / "history" / f"{product}_{granularity}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    try:
        report = asyncio.run(_fetch(product, chosen, start_s, end_s, path, venue_url, console))
    except (CoinbaseError, ValueError, OSError) as exc:
        raise click.ClickException(f"{exc} (what was fetched is kept in {path})") from exc
    _print_report(Console(), report.path, report.candles, report.gaps, report)


async def _fetch(
    product: str,
    granularity: Granularity,
    start_s: int,
    end_s: int,
    path: Path,
    venue_url: str,
    console: Console,
) -> FetchReport:
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{product} {granularity.value.lower()}", total=None)
        async with RestClient(base_url=venue_url) as rest:
            return await fetch_history(
                rest,
                product_id=product,
                granularity=granularity,
                start_s=start_s,
                end_s=end_s,
                path=path,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )


@data.command(name="import")
@click.option("--product", required=True, help="The product the file holds, e.g. BTC-USD.")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Parquet file.")
def import_(product: str, csv_file: Path, out: Path | None) -> None:
    """Import a candle CSV (the ../shared/data format, gzip or not) into Parquet."""
    try:
        candles = read_candle_csv(csv_file, product)
    except (CandleFileError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not candles:
        raise click.ClickException(f"{csv_file} holds no candles")
    name = csv_file.name.removesuffix(".gz").removesuffix(".csv")
    path = out or Path("data") / "history" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_candle_parquet(path, candles)
    series = CandleSeries.from_candles(candles)
    _print_report(Console(), path, len(candles), tuple(series.gaps), None)


def _print_report(
    console: Console, path: Path, count: int, gaps: tuple[Gap, ...], fetch: FetchReport | None
) -> None:
    missing = sum(g.missing for g in gaps)
    console.print(f"{path}: {count} candles, {len(gaps)} gaps ({missing} buckets missing)")
    if fetch is not None:
        resumed = (
            ""
            if fetch.resumed_from_ns is None
            else f", resumed after {_iso(fetch.resumed_from_ns)}"
        )
        console.print(f"fetched {fetch.fetched} new candles in {fetch.requests} requests{resumed}")
    for gap in gaps[:_SHOWN_GAPS]:
        console.print(f"  gap: {_iso(gap.start_ns)} .. {_iso(gap.end_ns)} ({gap.missing} missing)")
    if len(gaps) > _SHOWN_GAPS:
        console.print(f"  ... and {len(gaps) - _SHOWN_GAPS} more")


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M")
