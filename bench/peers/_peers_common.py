"""What the two peer scripts share: the CSV loader, the `sma_cross` constants, the CLI
and the one JSON object each script prints.

Runs only in the bench environment (see README.md); the project never imports it. It
uses only the standard library and numpy, so the loader is engine-neutral: each peer
turns the same `BarSeries` into its own input format before the timed region.
"""

import argparse
import csv
import gzip
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

FAST: Final = 20
SLOW: Final = 50
SIZE_BASE: Final = 0.001
FEE_RATE: Final = 0.001
START_CASH: Final = 10_000.0
HEADER: Final = ("ts", "open", "high", "low", "close", "volume")
NS_PER_S: Final = 1_000_000_000

# A fill: (open time of the bar it filled on in epoch ns, "buy" | "sell", price).
Fill = tuple[int, str, float]
FloatArray = npt.NDArray[np.float64]
P = TypeVar("P")


class BadBarFile(ValueError):
    """A data file that is not the expected `ts,open,high,low,close,volume` CSV."""


@dataclass(frozen=True)
class BarSeries:
    """One file's bars as arrays; `ts_s` is each bar's open time in epoch seconds."""

    path: str
    ts_s: npt.NDArray[np.int64]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    price_decimals: int
    size_decimals: int

    @property
    def bars(self) -> int:
        return len(self.ts_s)

    @property
    def interval_s(self) -> int:
        """The bar length: the smallest step between opens (gaps only make steps longer)."""
        return int(np.diff(self.ts_s).min())


@dataclass(frozen=True)
class RunResult:
    fills: list[Fill]
    final_equity: float


def close_ticks(series: BarSeries) -> FloatArray:
    """Closes as whole numbers of price ticks (10**-price_decimals), held as floats.

    Sums of these are exact in float64, which makes SMA ties exact (see the peers).
    """
    return np.rint(series.close * 10.0**series.price_decimals)


def _decimals(text: str) -> int:
    _, _, frac = text.partition(".")
    return len(frac)


def load_bars(path: str) -> BarSeries:
    """Read a gzip CSV of bars; the decimals seen set the engines' price/size precision."""
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0]) != HEADER:
        raise BadBarFile(f"{path}: header must be {','.join(HEADER)}")
    body = rows[1:]
    if len(body) < SLOW + 2:
        raise BadBarFile(f"{path}: {len(body)} bars, need at least {SLOW + 2}")
    try:
        ts = np.array([int(r[0]) for r in body], dtype=np.int64)
        cols = np.array([[float(x) for x in r[1:6]] for r in body], dtype=np.float64)
    except (ValueError, IndexError) as e:
        raise BadBarFile(f"{path}: unparsable row ({e})") from e
    if np.any(np.diff(ts) <= 0):
        raise BadBarFile(f"{path}: ts must be strictly ascending")
    return BarSeries(
        path=path,
        ts_s=ts,
        open=cols[:, 0].copy(),
        high=cols[:, 1].copy(),
        low=cols[:, 2].copy(),
        close=cols[:, 3].copy(),
        volume=cols[:, 4].copy(),
        price_decimals=max(_decimals(x) for r in body for x in r[1:5]),
        size_decimals=max(_decimals(r[5]) for r in body),
    )


def parse_args(argv: Sequence[str] | None, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", action="append", required=True, help="bar CSV.gz (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    for name in args.data:
        if not Path(name).is_file():
            parser.error(f"--data {name}: no such file")
    return args


def run_cli(
    engine: str,
    version: str,
    prepare: Callable[[BarSeries], P],
    backtest: Callable[[BarSeries, P], RunResult],
    argv: Sequence[str] | None = None,
) -> int:
    """Load and prepare each file untimed, then time only `backtest` `--runs` times.

    Every run must give the same fills and equity (the engines are deterministic); a
    difference is reported on stderr and fails the script rather than being averaged.
    """
    args = parse_args(argv, f"{engine}: sma_cross {FAST}/{SLOW} peer benchmark")
    results = []
    for path in args.data:
        series = load_bars(path)
        t0 = time.perf_counter()
        prepared = prepare(series)
        prep_s = time.perf_counter() - t0
        elapsed: list[float] = []
        first: RunResult | None = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = backtest(series, prepared)
            elapsed.append(time.perf_counter() - t0)
            if first is None:
                first = result
            elif result != first:
                print(f"{engine}: {path}: runs disagree", file=sys.stderr)
                return 1
        assert first is not None  # noqa: S101 (runs >= 1 is checked by parse_args)
        print(
            f"{engine}: {path}: {series.bars} bars, prepare {prep_s:.3f} s (untimed), "
            f"runs {', '.join(f'{e:.3f}' for e in elapsed)} s",
            file=sys.stderr,
        )
        results.append(
            {
                "data": path,
                "bars": series.bars,
                "elapsed_s": elapsed,
                "fills": [list(f) for f in first.fills],
                "final_equity": first.final_equity,
            }
        )
    json.dump({"engine": engine, "version": version, "results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0
