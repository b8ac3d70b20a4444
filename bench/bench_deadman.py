"""Dead man's switch: how long after the last heartbeat `DeadMansWatchdog` fires, with
the event loop free and with the event loop blocked.

    uv run python bench/bench_deadman.py [--trials 20] [--runs 3] [--timeout 1.0] [--tick 0.05]
        [--seed 20251201]

Each trial runs on a fresh event loop with a fresh watchdog (its own thread), wired as
the gate wires it: `on_fire` runs on the watchdog thread, trips a `HaltLatch` there and
records `monotonic_ns()`, then asks the loop, with `call_soon_threadsafe`, to start the
kill, and the loop records when that callback runs. A coroutine arms the watchdog and
sends three heartbeats about 0.1 s apart from the loop, the last one right after
recording `last = monotonic_ns()`. The last gap is lengthened by a seeded random
U(0, tick): otherwise the heartbeat would keep the same phase against the watchdog's
ticks in every trial (both start at the same moment) and the delay would always be the
same. Then:

- free loop: the coroutine awaits until the loop callback has run;
- blocked loop: the coroutine calls `time.sleep(timeout + 1)`, blocking the loop (a
  stuck rule, a slow fsync), then awaits the same.

The figure is the delay past the timeout, `(fire - last) - timeout`, in ms, as its p50
and max per run; the script prints the median of the runs of each, and the worst trial
of all. The delay until the loop ran the kill's callback is printed too: on a blocked
loop it waits for the loop, while the latch (which the decision path reads) is already
set. Target: fire - last <= timeout + 250 ms in every trial.
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import percentile

from trading_gate.core.deadman import DeadManAction
from trading_gate.core.trading_state import Cause
from trading_gate.watchdog import DeadMansWatchdog, HaltLatch

SLACK_MS: Final = 250.0
BEATS: Final = 3
BEAT_EVERY_S: Final = 0.1
MS: Final = 1_000_000
SEED: Final = 20_251_201


class Trial:
    """What one firing recorded: the watchdog thread's time and the loop's."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.latch = HaltLatch()
        self.fired_ns: int | None = None
        self.loop_ns: int | None = None
        self.loop_saw = asyncio.Event()
        self.firings = 0

    def on_fire(self, actions: tuple[DeadManAction, ...]) -> None:
        # The watchdog thread, as in the gate's app: latch first, then hand to the loop.
        now = time.monotonic_ns()
        self.latch.trip(Cause.DEAD_MAN.value, "bench", now)
        self.firings += 1
        if self.fired_ns is None:
            self.fired_ns = now
        self.loop.call_soon_threadsafe(self._on_loop)

    def _on_loop(self) -> None:
        if self.loop_ns is None:
            self.loop_ns = time.monotonic_ns()
        self.loop_saw.set()


async def one_trial(
    timeout_s: float, tick_s: float, block: bool, rng: random.Random
) -> tuple[float, float]:
    """(fire delay, loop delay) past the timeout, in ms, of one trial."""
    trial = Trial(asyncio.get_running_loop())
    watchdog = DeadMansWatchdog(timeout_s=timeout_s, tick_s=tick_s, on_fire=trial.on_fire)
    watchdog.start()
    try:
        watchdog.arm()
        for _ in range(BEATS - 1):
            await asyncio.sleep(BEAT_EVERY_S)
            watchdog.heartbeat()
        await asyncio.sleep(BEAT_EVERY_S + rng.uniform(0, tick_s))
        last = time.monotonic_ns()
        watchdog.heartbeat()
        if block:
            time.sleep(timeout_s + 1)  # noqa: ASYNC251 - blocking the loop is the point
        await asyncio.wait_for(trial.loop_saw.wait(), timeout=timeout_s + 10)
    finally:
        watchdog.stop()
    if trial.fired_ns is None or trial.loop_ns is None or trial.firings != 1:
        raise AssertionError(f"expected exactly one firing, got {trial.firings}")
    if not trial.latch.tripped:
        raise AssertionError("the latch was not tripped")
    timeout_ms = timeout_s * 1000
    return (trial.fired_ns - last) / MS - timeout_ms, (trial.loop_ns - last) / MS - timeout_ms


def one_run(
    trials: int, timeout_s: float, tick_s: float, block: bool, rng: random.Random
) -> list[tuple[float, float]]:
    return [asyncio.run(one_trial(timeout_s, tick_s, block, rng)) for _ in range(trials)]


def _p50_max(values_ms: list[float]) -> tuple[float, float]:
    """Nearest-rank p50 and the max, in ms (ranked in whole microseconds)."""
    ranked_us = sorted(round(v * 1000) for v in values_ms)
    return percentile(ranked_us, 0.5) / 1000, max(values_ms)


def _summary(
    runs: list[list[tuple[float, float]]], pick: Callable[[tuple[float, float]], float]
) -> str:
    per_run = [_p50_max([pick(t) for t in run]) for run in runs]
    p50 = statistics.median(r[0] for r in per_run)
    worst = statistics.median(r[1] for r in per_run)
    return f"p50 {p50:8.2f} ms   max {worst:8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1.0, help="heartbeat timeout, s")
    parser.add_argument("--tick", type=float, default=0.05, help="watchdog tick, s")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the phase offsets")
    args = parser.parse_args()
    print(
        f"{args.trials} trials x {args.runs} runs, timeout {args.timeout} s, tick {args.tick} s; "
        "delay past the timeout, median of runs"
    )
    rng = random.Random(args.seed)  # noqa: S311 - a phase offset, not a secret
    verdicts = []
    for block in (False, True):
        runs = [one_run(args.trials, args.timeout, args.tick, block, rng) for _ in range(args.runs)]
        name = "blocked loop" if block else "free loop"
        print(f"{name + ': watchdog fired (latch set)':44} {_summary(runs, lambda t: t[0])}")
        print(f"{name + ': loop ran the kill callback':44} {_summary(runs, lambda t: t[1])}")
        worst = max(t[0] for run in runs for t in run)
        ok = worst <= SLACK_MS
        verdicts.append(ok)
        print(
            f"    worst trial: fired {worst:.2f} ms past the timeout; target <= "
            f"{SLACK_MS:.0f} ms past it: {'PASS' if ok else 'FAIL'}"
        )
    print(f"dead man target (every trial, both loops): {'PASS' if all(verdicts) else 'FAIL'}")


if __name__ == "__main__":
    main()
