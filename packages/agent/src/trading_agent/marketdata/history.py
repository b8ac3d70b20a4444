"""Candle history from the venue's public REST endpoint, into a local Parquet file.

`fetch_history` pages through [start, end) in windows of at most `MAX_CANDLES_PER_CALL`
buckets (Coinbase returns at most 350 per request), oldest first, and writes what it
has to the file every `CHECKPOINT_EVERY` pages and at the end, so an interrupted fetch
resumes near where it stopped: a second call with the same file starts after the newest
candle already in it. Buckets
the venue has no candle for are not invented: they come back as gaps in the report.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.candles import CandleSeries, Gap
from trading_agent.marketdata.replay import read_candle_parquet, write_candle_parquet
from trading_coinbase.rest import RestClient
from trading_coinbase.translate import Granularity, Ohlcv
from trading_coinbase.translate import candles as rest_candles

__all__ = ["MAX_CANDLES_PER_CALL", "FetchReport", "fetch_history", "from_ohlcv"]

MAX_CANDLES_PER_CALL: Final = 300  # under the venue's 350, so a window never overflows
CHECKPOINT_EVERY: Final = 25  # pages between rewrites of the file (what a crash can lose)

Progress = Callable[[int, int], None]
"""Called with (buckets covered so far, buckets in all) after each page."""


@dataclass(frozen=True)
class FetchReport:
    path: Path
    product_id: str
    candles: int  # in the file after the fetch
    fetched: int  # new in this call
    requests: int
    resumed_from_ns: int | None  # the newest candle already in the file, if any
    gaps: tuple[Gap, ...]


async def fetch_history(
    rest: RestClient,
    *,
    product_id: str,
    granularity: Granularity,
    start_s: int,
    end_s: int,
    path: Path,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch [start_s, end_s) into `path` (Parquet), resuming from what it holds.

    Raises:
        ValueError: an empty or misaligned range, or a file of another product.
        CoinbaseError: the venue refused or failed (what was fetched so far is kept).
    """
    step = granularity.seconds
    if end_s <= start_s:
        raise ValueError(f"the range must not be empty: start {start_s} >= end {end_s}")
    if start_s % step or end_s % step:
        raise ValueError(f"start and end must be multiples of {step} s (the granularity)")
    have = await asyncio.to_thread(_read, path, product_id)
    if have and have[0].granularity_s != step:
        raise ValueError(f"{path} holds {have[0].granularity_s} s candles, not {step} s")
    resumed = have[-1].start_ns if have else None
    cursor = start_s if resumed is None else max(start_s, resumed // NS_PER_S + step)
    total = (end_s - start_s) // step
    requests, fetched, unsaved = 0, 0, 0
    try:
        while cursor < end_s:
            window_end = min(end_s, cursor + MAX_CANDLES_PER_CALL * step)
            page = await _page(rest, product_id, granularity, cursor, window_end)
            requests += 1
            have += page
            fetched += len(page)
            unsaved += len(page)
            cursor = window_end
            if unsaved and requests % CHECKPOINT_EVERY == 0:
                await asyncio.to_thread(write_candle_parquet, path, list(have))
                unsaved = 0
            if progress is not None:
                progress((cursor - start_s) // step, total)
    finally:
        # Also when the venue fails part way: what was fetched is kept for the resume.
        if unsaved:
            await asyncio.to_thread(write_candle_parquet, path, list(have))
    series = CandleSeries.from_candles(have, product_id=product_id, granularity_s=step)
    return FetchReport(
        path=path,
        product_id=product_id,
        candles=len(have),
        fetched=fetched,
        requests=requests,
        resumed_from_ns=resumed,
        gaps=tuple(series.gaps),
    )


async def _page(
    rest: RestClient, product_id: str, granularity: Granularity, start_s: int, end_s: int
) -> list[Candle]:
    step = granularity.seconds
    # The venue's end is inclusive: ask up to the last bucket's start, not the next one.
    reply = await rest.get_candles(
        product_id, start_s=start_s, end_s=end_s - step, granularity=granularity
    )
    return [
        from_ohlcv(product_id, step, bar)
        for bar in rest_candles(reply)
        if start_s * NS_PER_S <= bar.start_ns < end_s * NS_PER_S
    ]


def _read(path: Path, product_id: str) -> list[Candle]:
    return read_candle_parquet(path, product_id) if path.exists() else []


def from_ohlcv(product_id: str, step_s: int, bar: Ohlcv) -> Candle:
    """A REST candle as the agent's Candle."""
    return Candle(
        product_id=product_id,
        start_ns=bar.start_ns,
        granularity_s=step_s,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
    )
