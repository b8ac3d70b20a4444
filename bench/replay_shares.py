"""Where the year's fast replay spends its time, by part, from a py-spy profile.

    uv run python bench/replay_shares.py run [--out DIR]
    /path/to/py-spy record -r 200 -f raw -o year.raw -- .venv/bin/python bench/replay_shares.py run
    uv run python bench/replay_shares.py shares year.raw

`run` does one fast backtest of the year (`bench_backtest._year_file`, the benchmark's
sma_cross spec) and prints its `replay_s`; run it under py-spy (kept out of the project's
environment: `python3 -m venv /tmp/spyenv && /tmp/spyenv/bin/pip install py-spy`).
`shares` reads the raw profile and splits the samples taken inside the timed replay
(`run_backtest`'s mode choice, the feature precomputation and the replay loop) into:

- gate and venue: any frame in `trading_gate` or `trading_sim` (the checks, the audit
  log, the order journal, the paper exchange and its matching);
- features: `PrecomputedFeatures` (the indicators, computed once for the run);
- the rest: the engine, the strategies, sizing, agent.db and the replay loop itself.

It also prints what the replay would take if the gate and the venue cost nothing, which
bounds what any speed-up of the order path on the gate's side alone can buy. The figures
are sample shares; the projection applies them to the `replay_s` of a run without the
profiler, which assumes py-spy slows every part alike.
"""

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import bench_backtest as bb

_FEATURES = "PrecomputedFeatures.__init__ (trading_agent/features.py"
_REPLAY_PARTS = ("_choose_mode (trading_console/backtest.py", _FEATURES, "FastReplay.")
_GATE = ("(trading_gate/", "(trading_sim/")


def part_of(stack: str) -> str | None:
    """Which part a py-spy raw stack ("frame;frame;...") belongs to; None: not the replay."""
    if not any(p in stack for p in _REPLAY_PARTS):
        return None
    if any(g in stack for g in _GATE):
        return "gate and venue"
    if _FEATURES in stack:
        return "features"
    return "the rest"


def shares(raw: Path) -> Counter[str]:
    """Samples per part, read from py-spy's raw output (one "stack count" per line)."""
    try:
        text = raw.read_text()
    except OSError as exc:
        sys.exit(f"{raw}: cannot read the profile: {exc.strerror}")
    counts: Counter[str] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            sys.exit(f"{raw}:{number}: not py-spy raw output (no sample count at the end)")
        part = part_of(stack)
        if part is not None:
            counts[part] += int(count)
    return counts


def _run(out: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-shares-") as tmp:
        root = out or Path(tmp)
        year = bb._year_file(Path(tmp) / "year.csv.gz")
        result = bb._run_ours({"BTC-USD": str(year)}, str(root), "fast")
    print(f"replay_s {result['replay_s']:.3f}  orders {result['orders']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="one fast backtest of the year (profile this)")
    run.add_argument("--out", type=Path, help="keep the run folder here (default: a temp dir)")
    read = sub.add_parser("shares", help="split a py-spy raw profile of `run` by part")
    read.add_argument("raw", type=Path)
    read.add_argument("--replay-s", type=float, help="an unprofiled run's replay_s to project")
    args = parser.parse_args()
    if args.command == "run":
        _run(args.out)
        return
    counts = shares(args.raw)
    total = sum(counts.values())
    if total == 0:
        sys.exit(f"{args.raw}: no samples inside the replay; was it a profile of `run`?")
    for part in ("gate and venue", "features", "the rest"):
        print(f"{part:16} {counts[part]:7,} samples  {counts[part] / total:6.1%}")
    if args.replay_s is not None:
        left = args.replay_s * (1 - counts["gate and venue"] / total)
        print(
            f"replay {args.replay_s:.2f} s; with a gate and venue that cost nothing: {left:.2f} s"
            f" ({bb.YEAR_BARS / left:,.0f} bars/s)"
        )


if __name__ == "__main__":
    main()
