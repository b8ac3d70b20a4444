"""The in-process gate's cost per order inside a backtest: what bounds `te backtest`.

    uv run python bench/bench_gate_place.py [--runs 5] [--per-bar]

One product (Coinbase BTC-USD 1m, 27,950 bars), sma_cross with the limits of
bench_backtest.py, 680 orders. Each call to `InProcessGate.place` (every check, the
journal transaction, the hash-chained audit rows, the paper venue's fill) and to
`InProcessGate.on_bar` (the venue's bar and the gate's fill sync) is timed with
perf_counter around it, one order at a time. Prints, as the median of the runs: us
per order in place(), the p50 and p99 of one place() call, and on_bar()'s total.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import summarize
from bench_backtest import ONE, bench_spec

from trading_console.backtest import run_backtest
from trading_gate import InProcessGate


def _one_run(per_bar: bool) -> dict[str, Any]:
    places: list[int] = []
    bars = [0]
    place, on_bar = InProcessGate.place, InProcessGate.on_bar

    async def timed_place(self: InProcessGate, message: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return await place(self, message)
        finally:
            places.append(time.perf_counter_ns() - start)

    async def timed_bar(self: InProcessGate, bar: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return await on_bar(self, bar)
        finally:
            bars[0] += time.perf_counter_ns() - start

    InProcessGate.place, InProcessGate.on_bar = timed_place, timed_bar  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            spec = bench_spec(ONE, Path(tmp), per_bar=per_bar)
            result = asyncio.run(run_backtest(spec))
    finally:
        InProcessGate.place, InProcessGate.on_bar = place, on_bar  # type: ignore[method-assign]
    p50, p99 = summarize(places)
    return {
        "orders": len(places),
        "per_order_us": sum(places) / len(places) / 1000,
        "p50_us": p50,
        "p99_us": p99,
        "on_bar_s": bars[0] / 1e9,
        "replay_s": result.replay_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-bar", action="store_true")
    args = parser.parse_args()
    runs = [_one_run(args.per_bar) for _ in range(args.runs)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"place(): {median('per_order_us'):.0f} us per order "
        f"(one call p50 {median('p50_us'):.0f} us, p99 {median('p99_us'):.0f} us; "
        f"{runs[0]['orders']} orders)   on_bar() in all: {median('on_bar_s'):.3f} s   "
        f"replay: {median('replay_s'):.3f} s   (median of {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
