"""The fast backtest's feature precomputation: regimes and realized vol of every bar.

    uv run python bench/bench_features.py [--runs 5] [--parts] [--source DIR]

One year of synthetic one-minute bars (525,600, bench_backtest.py's seeded GBM), read
as `CandleColumns`; timed is `PrecomputedFeatures(series)` (ADX, variance ratio,
realized vol at two windows, its percentile rank, the labels with hysteresis and
dwell), as `te backtest` builds it. Prints the median and the spread over the runs.

`--parts` also times the batch indicators it is made of, each alone with the regime
parameters (median over the runs). `--source DIR` runs the code of another checkout
(a `git worktree` of an earlier commit), its packages first on `sys.path`, so the same
script measures before and after.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import _year_file

PACKAGES = ("agent", "coinbase", "console", "contract", "gate", "sim")


def _timed(runs: int, call: Callable[[], object]) -> list[float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        took.append(time.perf_counter() - started)
    return took


def _report(name: str, took: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(took):.3f} s"
        f" (min {min(took):.3f}, max {max(took):.3f}; {len(took)} runs)"
    )


def _parts(columns: Any, runs: int) -> None:
    from trading_agent.domain.regime import RegimeParams
    from trading_agent.signals.replayed import realized_vol_array
    from trading_agent.signals.vectorized import adx, percentile_rank, variance_ratio

    p = RegimeParams()
    high, low, close = (columns.floats(k) for k in ("high", "low", "close"))
    vol = realized_vol_array(close, p.vol_window)
    parts: dict[str, Callable[[], object]] = {
        f"  adx(n={p.adx_window})": lambda: adx(high, low, close, p.adx_window),
        f"  variance_ratio(n={p.vr_window}, q={p.vr_q})": lambda: variance_ratio(
            close, p.vr_window, p.vr_q
        ),
        f"  realized_vol_array(n={p.vol_window})": lambda: realized_vol_array(close, p.vol_window),
        f"  percentile_rank(n={p.rank_window})": lambda: percentile_rank(
            vol[p.vol_window :], p.rank_window
        ),
    }
    for name, call in parts.items():
        _report(name, _timed(runs, call))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parts", action="store_true", help="also time each indicator")
    parser.add_argument("--source", type=Path, help="the checkout whose code to run")
    args = parser.parse_args()
    if args.source is not None:
        sys.path[:0] = [str(args.source / "packages" / p / "src") for p in PACKAGES]
    from trading_agent.features import PrecomputedFeatures
    from trading_agent.marketdata.columnar_csv import read_candle_columns

    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        columns = read_candle_columns(_year_file(Path(tmp) / "y.csv.gz"), "BTC-USD")
    series = {"BTC-USD": columns}
    import trading_agent

    print(f"code: {Path(trading_agent.__file__).resolve().parents[3]}")
    _report(
        "PrecomputedFeatures, 525,600 bars", _timed(args.runs, lambda: PrecomputedFeatures(series))
    )
    if args.parts:
        _parts(columns, args.runs)


if __name__ == "__main__":
    main()
