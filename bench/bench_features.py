"""The fast backtest's feature precomputation: regimes and realized vol of every bar.

    uv run python bench/bench_features.py [--runs 5]

One year of synthetic one-minute bars (525,600, bench_backtest.py's seeded GBM), read
as `CandleColumns`; timed is `PrecomputedFeatures(series)` (ADX, variance ratio,
realized vol at two windows, its percentile rank, the labels with hysteresis and
dwell), as `te backtest` builds it. Prints the median and the spread over the runs.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import _year_file

from trading_agent.features import PrecomputedFeatures
from trading_agent.marketdata.columnar_csv import read_candle_columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        series = {"BTC-USD": read_candle_columns(_year_file(Path(tmp) / "y.csv.gz"), "BTC-USD")}
    took = []
    for _ in range(args.runs):
        started = time.perf_counter()
        PrecomputedFeatures(series)
        took.append(time.perf_counter() - started)
    print(
        f"PrecomputedFeatures, 525,600 bars: median {statistics.median(took):.3f} s"
        f" (min {min(took):.3f}, max {max(took):.3f}; {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
