"""Backtest speed: the full path per bar (strategy + gate checks + paper fills + event
stores) on real 1-minute data, next to backtesting.py and NautilusTrader on the same
data with sma_cross's exact rules, and a check that all three agree.

    uv run python bench/bench_backtest.py [--runs 3] [--peers-python .bench-venv/bin/python]
        [--year]

Cases: one product (Coinbase BTC-USD, 27,950 one-minute bars, 2020-11-22..12-12) and
three products (Binance BTC/ETH/SOL-USDT, 43,199 one-minute bars each, 2026-03-23..04-22,
replayed as BTC-USD, ETH-USD and SOL-USD). With --year, also 525,600 synthetic
one-minute bars (one year, seeded GBM), for the "a year in under 2 s" target.

Ours, in both replay modes: "ours-fast" (`replay="auto"`: sma_cross offers a plan, so
only the bars where something can happen are visited) and "ours-per-bar" (every bar
through the engine, the reference). Their fills must be identical. Also printed: the
replay's microseconds per order (the gate's `place` path bounds the fast mode).
`trading_console.backtest.run_backtest`, sma_cross (SMA 20/50, fixed 0.001 base),
a flat 10 bps fee, no spread or slippage, limits far above what the strategy reaches.
Timed: the replay loop alone (`replay_s`: every candle through the engine, the
in-process gate with its audit log, the paper venue and the agent store), not reading
the file. Each run is a fresh subprocess, so its peak RSS (`ru_maxrss`) is its own.

Peers: the scripts in bench/peers (see its README), run with a separate Python that has
them installed; they print their fills and final equity, and their own timing of the
engine run alone (data loading excluded). Agreement: the same fills (bar time, side,
price) and final equity within 0.01 %.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from trading_console.backtest import BacktestSpec

REPO: Final = Path(__file__).resolve().parents[1]
SHARED: Final = REPO.parent / "shared" / "data"
PEERS: Final = REPO / "bench" / "peers"
ONE: Final = {"BTC-USD": SHARED / "coinbase" / "BTC-USD_1m_20201122-20201212.csv.gz"}
THREE: Final = {
    f"{coin}-USD": SHARED / "binance" / f"{coin}USDT_1m_20260323-20260422.csv.gz"
    for coin in ("BTC", "ETH", "SOL")
}
WIDE: Final = "1000000000.00"
YEAR_BARS: Final = 525_600  # one year of one-minute bars


def _wide_config(path: Path) -> Path:
    sys.path.insert(0, str(REPO / "packages" / "gate" / "tests"))
    from gate_process import write_config

    product = {
        "max_order_size_base": "1000000",
        "max_order_notional_usd": WIDE,
        "max_position_usd": WIDE,
        "price_collar_bps": 1000,
    }
    return write_config(
        path,
        products={p: product for p in ("BTC-USD", "ETH-USD", "SOL-USD")},
        account={
            "max_order_notional_usd": WIDE,
            "max_gross_exposure_usd": WIDE,
            "max_open_orders": 50,
            "daily_loss_limit_usd": WIDE,
            "max_drawdown_pct": "99.0",
        },
        throttles={"orders": {"max_per_window": 10_000, "window_ms": 1000}},
    )


def _year_file(path: Path) -> Path:
    """`YEAR_BARS` one-minute GBM bars (seed 20251201) in the shared CSV format."""
    import gzip

    import numpy as np

    rng = np.random.default_rng(20251201)
    n = YEAR_BARS
    returns = rng.normal(0.0, 0.0008, n)
    close = 30_000.0 * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([30_000.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 0.0004, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    start = 1_704_067_200  # 2024-01-01 UTC
    with gzip.open(path, "wt") as out:
        out.write("ts,open,high,low,close,volume\n")
        for i in range(n):
            prices = f"{open_[i]:.2f},{high[i]:.2f},{low[i]:.2f},{close[i]:.2f}"
            out.write(f"{start + 60 * i},{prices},5.00000000\n")  # volume: 8 places
    return path


# ---------------------------------------------------------------- one run of ours


def bench_spec(data: dict[str, Path], root: Path, *, per_bar: bool) -> "BacktestSpec":
    """The benchmarks' backtest: sma_cross, fixed size, 10 bps, no spread, limits that
    never bind, its config and run folder under `root`."""
    from decimal import Decimal

    from trading_console.backtest import BacktestSpec
    from trading_console.cli import sim_fees

    return BacktestSpec(
        strategies=("sma_cross",),
        data=data,
        strategy_dir=REPO / "config" / "strategies",
        safety_config=_wide_config(root / "safety.yaml"),
        run_dir=root / "run",
        starting_cash_usd=Decimal(10_000),
        fees=sim_fees(Decimal(10)),
        spread_bps=Decimal(0),
        participation=Decimal(1),
        replay="per_bar" if per_bar else "auto",
    )


def _run_ours(data: dict[str, str], workdir: str, mode: str) -> dict[str, Any]:
    """In the child process: one backtest, and what it did."""
    import asyncio

    from trading_console.backtest import run_backtest

    root = Path(workdir)
    files = {p: Path(f) for p, f in data.items()}
    result = asyncio.run(run_backtest(bench_spec(files, root, per_bar=mode != "fast")))
    import sqlite3

    conn = sqlite3.connect(f"file:{root / 'run' / 'agent.db'}?mode=ro", uri=True)
    fills = conn.execute(
        "SELECT json_extract(body, '$.product_id'), json_extract(body, '$.event_ns'),"
        " json_extract(body, '$.side'), CAST(json_extract(body, '$.price') AS REAL)"
        " FROM events WHERE kind = 'fill' ORDER BY seq"
    ).fetchall()
    conn.close()
    return {
        "bars": result.candles,
        "mode": result.mode,
        "visited": result.visited,
        "orders": result.orders,
        "replay_s": result.replay_s,
        "elapsed_s": result.elapsed_s,
        "final_equity": result.equity_usd[-1],
        "fills": fills,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ours(data: dict[str, Path], runs: int, mode: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-bt-") as work:
            argv = [
                sys.executable,
                __file__,
                "--child",
                json.dumps({k: str(v) for k, v in data.items()}),
                work,
                mode,
            ]
            done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
            out.append(json.loads(done.stdout))
    return out


# ---------------------------------------------------------------- peers


def peer(script: str, python: Path, files: list[Path], runs: int) -> dict[str, Any] | None:
    argv = [str(python), str(PEERS / script), "--runs", str(runs)]
    for f in files:
        argv += ["--data", str(f)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        print(f"  {script} failed: {done.stderr.strip()[-500:]}")
        return None
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def _difference(mine: list[Any], other: list[Any]) -> str:
    first = next(
        (i for i, (a, b) in enumerate(zip(mine, other, strict=False)) if a != b),
        min(len(mine), len(other)),
    )
    where = f"{mine[first]} vs {other[first]}" if first < min(len(mine), len(other)) else ""
    return f"DIFFERENT fills ({len(mine)} vs {len(other)}; first at {first}: {where})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--peers-python", type=Path, default=REPO / ".bench-venv" / "bin" / "python"
    )
    parser.add_argument("--year", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run_ours(json.loads(args.child[0]), args.child[1], args.child[2])))
        return
    cases = [("one product", ONE), ("three products", THREE)]
    with tempfile.TemporaryDirectory(prefix="bench-year-") as tmp:
        if args.year:
            cases.append(
                ("one year, synthetic", {"BTC-USD": _year_file(Path(tmp) / "year.csv.gz")})
            )
        for name, data in cases:
            _case(name, data, args)


def _case(name: str, data: dict[str, Path], args: argparse.Namespace) -> None:
    per_bar = ours(data, args.runs, "per_bar")
    runs = ours(data, args.runs, "fast")
    bars = runs[0]["bars"]
    replay = statistics.median(r["replay_s"] for r in runs)
    print(f"{name}: {bars} bars, {len(data)} product(s), median of {args.runs} runs")
    for label, mode_runs in (("ours-fast", runs), ("ours-per-bar", per_bar)):
        took = statistics.median(r["replay_s"] for r in mode_runs)
        first = mode_runs[0]
        print(
            f"  {label:<20} {bars / took:>10,.0f} bars/s  replay {took:.3f} s"
            f"  ({first['mode']}, {first['visited']} bars visited,"
            f" {1e6 * took / max(1, first['orders']):,.0f} us per order)"
            f"  (whole run {statistics.median(r['elapsed_s'] for r in mode_runs):.3f} s)"
            f"  peak RSS {max(r['maxrss_mib'] for r in mode_runs):.0f} MiB"
            f"  fills {len(first['fills'])}  equity {first['final_equity']:.4f}"
        )
    same = per_bar[0]["fills"] == runs[0]["fills"]
    same &= per_bar[0]["final_equity"] == runs[0]["final_equity"]
    print(f"  fast vs per-bar: {'same fills and equity' if same else 'DIFFERENT'}")
    if not args.peers_python.exists():
        print(f"  peers skipped: no {args.peers_python} (see bench/peers/README.md)")
        return
    for script in ("backtestingpy_sma_cross.py", "nautilus_sma_cross.py"):
        result = peer(script, args.peers_python, list(data.values()), args.runs)
        if result is None:
            continue
        total_bars = sum(r["bars"] for r in result["results"])
        # A peer runs one product per engine run; their times add up for several.
        elapsed = sum(statistics.median(r["elapsed_s"]) for r in result["results"])
        theirs = [
            [product, *fill]
            for product, r in zip(data, result["results"], strict=True)
            for fill in r["fills"]
        ]
        equity = sum(r["final_equity"] for r in result["results"]) - 10_000 * (len(data) - 1)
        # Prices to 1e-8: a peer that scales prices (backtesting.py) has float noise.
        mine = sorted((str(p), int(t), str(s), round(px, 8)) for p, t, s, px in runs[0]["fills"])
        other = sorted((str(p), int(t), str(s), round(px, 8)) for p, t, s, px in theirs)
        verdict = (
            "same fills" if mine == other else f"DIFFERENT fills ({len(mine)} vs {len(other)})"
        )
        rel = abs(equity - runs[0]["final_equity"]) / runs[0]["final_equity"]
        print(
            f"  {result['engine']:<20} {total_bars / elapsed:>10,.0f} bars/s  run {elapsed:.3f} s"
            f"  ratio ours/peer {(bars / replay) / (total_bars / elapsed):.2f}x"
            f"  {verdict}; equity {equity:.4f} (diff {rel:.2e})"
        )


if __name__ == "__main__":
    main()
