"""Backtest replay, this checkout against an earlier commit, in interleaved pairs.

    uv run python bench/bench_replay_pairs.py --base REV [--pairs 5] [--case year]

This machine's speed drifts by tens of per cent within minutes, so two
`bench_backtest.py` tables taken at different times cannot show a change of a few per
cent. Here each pair runs the same backtest (`bench_backtest.bench_spec`, fast replay) on
the base commit and then on this checkout, one fresh subprocess each, so both sides of a
pair see the same conditions. The base is a temporary `git worktree` of REV; its child
process puts the worktree's packages first on `sys.path`, so it runs the base's code
with this checkout's environment (the two must agree on dependencies). Printed: every
pair's `replay_s` and visits, the medians, the median of the per-pair ratios, and how
many pairs the checkout won.

Cases: `one` (Coinbase BTC-USD, 27,950 bars), `three` (Binance BTC/ETH/SOL, 129,597
bars) and `year` (525,600 synthetic bars, the "a year in under 2 s" target), and
`features`: only the year's `PrecomputedFeatures` (as `bench_features.py` times it), the
best of three in each child, with the regime codes and vols compared between the sides.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

import bench_backtest as bb

PACKAGES: Final = ("agent", "coinbase", "console", "contract", "gate", "sim")


def _child(source: str, data: str, workdir: str) -> dict[str, Any]:
    """In the child process: one fast backtest (or the features) on the code under `source`."""
    sys.path[:0] = [str(Path(source) / "packages" / p / "src") for p in PACKAGES]
    files = json.loads(data)
    result = _features(files) if "features" in files else bb._run_ours(files, workdir, "fast")
    import trading_console  # after the path change: the code the run used

    result["source"] = str(Path(trading_console.__file__).resolve())
    return result


def _features(files: dict[str, str]) -> dict[str, Any]:
    """The year's features, timed as `bench_features.py` does; the outputs hashed."""
    import hashlib
    import time

    from trading_agent.features import PrecomputedFeatures
    from trading_agent.marketdata.columnar_csv import read_candle_columns

    series = {"BTC-USD": read_candle_columns(Path(files["features"]), "BTC-USD")}
    took = []
    for _ in range(3):
        started = time.perf_counter()
        features = PrecomputedFeatures(series)
        took.append(time.perf_counter() - started)
    digest = hashlib.sha256()
    for product in features._products.values():
        digest.update(product.codes.tobytes())
        digest.update(product.vols.tobytes())
    return {"replay_s": min(took), "visited": "-", "fills": digest.hexdigest(), "final_equity": 0}


def _run(source: Path, data: dict[str, Path]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-pair-") as work:
        argv = [sys.executable, __file__, "--child", str(source),
                json.dumps({k: str(v) for k, v in data.items()}), work]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    out: dict[str, Any] = json.loads(done.stdout)
    if not out["source"].startswith(str(source.resolve())):
        raise SystemExit(f"the child ran {out['source']}, not the code under {source}")
    return out


def _data(case: str, tmp: Path) -> dict[str, Path]:
    if case == "one":
        return dict(bb.ONE)
    if case == "three":
        return dict(bb.THREE)
    if case == "features":
        return {"features": bb._year_file(tmp / "year.csv.gz")}
    return {"BTC-USD": bb._year_file(tmp / "year.csv.gz")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the commit to compare with (any git revision)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--case", choices=("one", "three", "year", "features"), default="year")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    if not args.base:
        parser.error("--base is required")
    with tempfile.TemporaryDirectory(prefix="bench-pairs-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(  # noqa: S603
            ["git", "-C", str(bb.REPO), "worktree", "add", "--detach", "-q", str(base),  # noqa: S607
             args.base], check=True,
        )  # fmt: skip
        try:
            _compare(base, _data(args.case, Path(tmp)), args)
        finally:
            subprocess.run(  # noqa: S603
                ["git", "-C", str(bb.REPO), "worktree", "remove", "--force", str(base)],  # noqa: S607
                check=False,
            )


def _compare(base: Path, data: dict[str, Path], args: argparse.Namespace) -> None:
    print(f"case {args.case}, base {args.base} against this checkout, {args.pairs} pairs")
    pairs = []
    for i in range(args.pairs):
        before, after = _run(base, data), _run(bb.REPO, data)
        if before["fills"] != after["fills"] or before["final_equity"] != after["final_equity"]:
            print(
                f"  pair {i + 1}: the two sides DIFFER in their outputs (fills, equity, features)"
            )
        pairs.append((before["replay_s"], after["replay_s"]))
        print(
            f"  pair {i + 1}: base {before['replay_s']:.3f} s ({before['visited']} visits)"
            f"  this {after['replay_s']:.3f} s ({after['visited']} visits)"
        )
    ratios = [b / a for a, b in pairs]
    print(
        f"median replay_s: base {statistics.median(a for a, _ in pairs):.3f} s,"
        f" this {statistics.median(b for _, b in pairs):.3f} s;"
        f" median ratio this/base {statistics.median(ratios):.3f}"
        f" (range {min(ratios):.3f}-{max(ratios):.3f});"
        f" this faster in {sum(r < 1 for r in ratios)} of {len(ratios)} pairs"
    )


if __name__ == "__main__":
    main()
