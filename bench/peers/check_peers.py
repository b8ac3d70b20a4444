"""Self-check: both peer scripts against an independent plain-numpy `sma_cross`.

    .bench-venv/bin/python bench/peers/check_peers.py [--data FILE ...] [--runs 1]

Runs `backtestingpy_sma_cross.py` and `nautilus_sma_cross.py` (with this interpreter,
so inside the bench environment) on each file (default: the Coinbase BTC-USD 1m file)
and compares their fills and final equity with `reference()` below. Prints, per engine
and file, the fill counts, the first mismatch if any, the largest fill-price difference,
the equity difference and the engine's speed in bars/s (median run). Exit status 1 if
any engine disagrees.

The reference shares no code with the peers. It reads the CSV with numpy and decides
in exact integer arithmetic: closes are parsed as integer ticks, and
"SMA(20) > SMA(50)" is evaluated as 50 * sum20 > 20 * sum50, so a bar where the two
averages are exactly equal is "not above" without any rounding. Floating-point SMAs can
land a hair either side of such a tie and flip that bar; the check reports how many
exact ties the file has and whether a mismatch sits next to one.

The rules (as the peers implement them): with both SMAs warm at this close and at the
previous one, `above = fast > slow`; not above -> above while flat is a buy, above ->
not above while long is a sell of the whole position; the order fills at the next bar's
open (none if there is no next bar); fee 0.1 % of notional per fill; 0.001 base units
per entry; 10,000 quote units of cash; final equity = cash + position * last close.
"""

import argparse
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

HERE: Final = Path(__file__).resolve().parent
DEFAULT_DATA: Final = "/work/shared/data/coinbase/BTC-USD_1m_20201122-20201212.csv.gz"
SCRIPTS: Final = ("backtestingpy_sma_cross.py", "nautilus_sma_cross.py")
FAST, SLOW = 20, 50
SIZE, FEE, CASH = 0.001, 0.001, 10_000.0
PRICE_TOL: Final = 1e-6
EQUITY_TOL: Final = 1e-4


def reference(path: str) -> dict[str, Any]:
    """Fills, final equity and exact-tie bars of `sma_cross` on one file."""
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str, ndmin=2)
    ts_ns = raw[:, 0].astype(np.int64) * 1_000_000_000
    opens = raw[:, 1].astype(np.float64)
    closes = raw[:, 4].astype(np.float64)
    decimals = max(len(x.partition(".")[2]) for x in raw[:, 4])
    ticks = np.array([int(Decimal(x).scaleb(decimals)) for x in raw[:, 4]], dtype=np.int64)
    n = len(ticks)
    csum = np.concatenate([[0], np.cumsum(ticks)])
    i = np.arange(SLOW - 1, n)  # bars where the slow SMA is warm
    sum_fast = csum[i + 1] - csum[i + 1 - FAST]
    sum_slow = csum[i + 1] - csum[i + 1 - SLOW]
    diff = SLOW * sum_fast - FAST * sum_slow  # sign of (fast - slow) * FAST * SLOW, exact
    above: npt.NDArray[np.bool_] = diff > 0
    ties = set((i[diff == 0]).tolist())
    cash, position = CASH, 0.0
    fills: list[tuple[int, str, float]] = []
    for k in range(1, len(i)):
        bar = int(i[k])
        if bar + 1 >= n:
            break  # decided at the last close: nothing to fill on
        px = float(opens[bar + 1])
        if above[k] and not above[k - 1] and position == 0.0:
            cash -= SIZE * px + SIZE * px * FEE
            position = SIZE
            fills.append((int(ts_ns[bar + 1]), "buy", px))
        elif above[k - 1] and not above[k] and position > 0.0:
            cash += position * px - position * px * FEE
            fills.append((int(ts_ns[bar + 1]), "sell", px))
            position = 0.0
    return {
        "fills": fills,
        "final_equity": cash + position * float(closes[-1]),
        "ties": ties,
        "open_ns": ts_ns,
    }


def _first_mismatch(ref: list[Any], peer: list[Any]) -> tuple[int, Any, Any] | None:
    for k in range(max(len(ref), len(peer))):
        a = tuple(ref[k]) if k < len(ref) else None
        b = tuple(peer[k]) if k < len(peer) else None
        if a is None or b is None or a[:2] != b[:2] or abs(a[2] - b[2]) > PRICE_TOL:
            return k, a, b
    return None


def _near_tie(ref: dict[str, Any], fill: Any) -> bool:
    """Whether the bar deciding `fill` (the one before it) or its predecessor is a tie."""
    if fill is None:
        return False
    bar = int(np.searchsorted(ref["open_ns"], fill[0])) - 1
    return bar in ref["ties"] or bar - 1 in ref["ties"]


def compare(name: str, ref: dict[str, Any], peer: dict[str, Any]) -> bool:
    fills = peer["fills"]
    mismatch = _first_mismatch(ref["fills"], fills)
    eq_diff = peer["final_equity"] - ref["final_equity"]
    paired = zip(ref["fills"], fills, strict=False)
    max_px = max((abs(a[2] - b[2]) for a, b in paired if a[:2] == tuple(b[:2])), default=0.0)
    speed = peer["bars"] / float(np.median(peer["elapsed_s"]))
    print(
        f"  {name:16s} fills {len(fills)} (ref {len(ref['fills'])}), "
        f"max |price diff| {max_px:.2e}, equity {peer['final_equity']:.6f} "
        f"(diff {eq_diff:+.2e}), {speed:,.0f} bars/s"
    )
    if mismatch is not None:
        k, a, b = mismatch
        tie = _near_tie(ref, a) or _near_tie(ref, b)
        print(f"    first mismatch at fill {k}: ref {a} vs {name} {b}; next to an exact tie: {tie}")
    return mismatch is None and abs(eq_diff) <= EQUITY_TOL


def run_peer(script: str, data: list[str], runs: int) -> dict[str, Any]:
    argv = [sys.executable, str(HERE / script), "--runs", str(runs)]
    for path in data:
        argv += ["--data", path]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{script} failed with status {done.returncode}")
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help=f"bar CSV.gz (default {DEFAULT_DATA})")
    parser.add_argument("--runs", type=int, default=1, help="timed runs per peer and file")
    args = parser.parse_args()
    data: list[str] = args.data or [DEFAULT_DATA]
    peers = {script: run_peer(script, data, args.runs) for script in SCRIPTS}
    ok = True
    for k, path in enumerate(data):
        ref = reference(path)
        print(
            f"{path}: reference {len(ref['fills'])} fills, equity {ref['final_equity']:.6f}, "
            f"{len(ref['ties'])} bars with SMA{FAST} == SMA{SLOW} exactly"
        )
        for out in peers.values():
            name = f"{out['engine']} {out['version']}"
            ok = compare(name, ref, out["results"][k]) and ok
    print("AGREE" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
