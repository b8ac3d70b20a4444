"""Reading candle files: the strict readers against the column readers backtests use.

    uv run python bench/bench_candle_read.py [--runs 3]

Files: the bundled Coinbase BTC-USD 1m file (27,950 bars) and one year of synthetic
one-minute bars (525,600, bench_backtest.py's seeded GBM), each as gzip CSV and as the
Parquet `write_candle_parquet` writes. Each reader runs in a fresh subprocess per run
(so the first call's imports are in it, as in `te backtest`, and nothing is cached);
timed is the call alone, after the imports. Prints the median over the runs per file
and reader, and the ratio strict / columns.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import ONE, _year_file

READERS = {
    "strict CSV": ("trading_agent.marketdata.replay", "read_candle_csv"),
    "columns CSV": ("trading_agent.marketdata.columnar_csv", "read_candle_columns"),
    "strict Parquet": ("trading_agent.marketdata.replay", "read_candle_parquet"),
    "columns Parquet": ("trading_agent.marketdata.columnar_parquet", "read_candle_parquet_columns"),
}

_CHILD = """
import importlib, json, sys, time
from pathlib import Path
module, name, path = sys.argv[1:4]
read = getattr(importlib.import_module(module), name)
started = time.perf_counter()
candles = read(Path(path), "BTC-USD")
print(json.dumps({"s": time.perf_counter() - started, "bars": len(candles)}))
"""


def _timed(reader: str, path: Path) -> dict[str, float]:
    module, name = READERS[reader]
    argv = [sys.executable, "-c", _CHILD, module, name, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _parquet_of(csv_path: Path, out: Path) -> Path:
    from trading_agent.marketdata.columnar_csv import read_candle_columns
    from trading_agent.marketdata.replay import write_candle_parquet

    write_candle_parquet(out, read_candle_columns(csv_path, "BTC-USD"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        year = _year_file(Path(tmp) / "year.csv.gz")
        cases = {"Coinbase BTC-USD 1m": ONE["BTC-USD"], "a year of 1m bars": year}
        for case, csv_path in cases.items():
            parquet = _parquet_of(csv_path, Path(tmp) / f"{csv_path.stem}.parquet")
            medians: dict[str, float] = {}
            for reader in READERS:
                path = parquet if "Parquet" in reader else csv_path
                runs = [_timed(reader, path) for _ in range(args.runs)]
                medians[reader] = statistics.median(r["s"] for r in runs)
                print(
                    f"{case:22} {reader:16} {runs[0]['bars']:>8,.0f} bars  {medians[reader]:7.3f} s"
                )
            for fmt in ("CSV", "Parquet"):
                ratio = medians[f"strict {fmt}"] / medians[f"columns {fmt}"]
                print(f"{case:22} {fmt}: columns {ratio:.1f}x faster than strict")


if __name__ == "__main__":
    main()
