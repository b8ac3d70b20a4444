"""Kill switch: latch latency and time to a verified-empty book, `kill_and_verify` over
the paper exchange with a real `HaltLatch`, the real clock and real `asyncio.sleep`.

    uv run python bench/bench_kill.py [--trials 1000] [--orders 100] [--runs 5]

In process, one event loop per run. Each trial builds a fresh `PaperExchange` on the
system clock, feeds it one calm bar around 50,000, and rests `--orders` post-only
limit bids at 49,000 on it (untimed). Then it records `t0 = monotonic_ns()` and awaits
`kill_and_verify(exchange, latch=..., monotonic_ns=time.monotonic_ns,
sleep=asyncio.sleep, deadline_s=30)`, where the latch trips a fresh `HaltLatch`, and
checks that the latch is tripped, the report says verified empty and the venue lists no
open order.

Figures per trial:
- latch: the report's `latch_ns`, how long `latch()` took inside the kill;
- request to latch: `HaltLatch.at_ns - t0`, from the call to the latch being set
  (coroutine start and the latch itself);
- verified empty: the report's `elapsed_ns`, from the kill's start to the listing that
  proved the book empty.

Targets: p99 of request-to-latch <= 10 ms (the median of the runs' p99s); verified
empty <= 1 s (judged on the worst trial of all runs). The paper venue answers in
process, without network, so the second figure is the gate's own share of a kill only.
"""

import argparse
import asyncio
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "gate" / "tests"))

from _stats import median_of_runs, report, summarize

import trading_sim as sim
from exchange_port_suite import CALM, limit_bid, placed_id
from trading_gate.core.trading_state import Cause
from trading_gate.exchange import PaperConfig, PaperExchange
from trading_gate.killswitch import kill_and_verify
from trading_gate.watchdog import HaltLatch

LATCH_TARGET_MS: Final = 10.0
EMPTY_TARGET_MS: Final = 1000.0
DEADLINE_S: Final = 30.0
MINUTE_NS: Final = 60 * 10**9
SEED: Final = 20_251_201


class SystemClock:
    """The live clock, as the gate's app uses it."""

    def now_ns(self) -> int:
        return time.time_ns()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()


async def resting_book(orders: int) -> PaperExchange:
    """A paper venue after one calm bar that ended now, with `orders` bids resting."""
    clock = SystemClock()
    exchange = PaperExchange(
        clock,
        PaperConfig(
            engine=sim.EngineConfig(spread_bps=Decimal(0)),
            starting_balances={"USD": Decimal(10_000_000), "BTC": Decimal(1)},
        ),
    )
    end = clock.now_ns()
    exchange.on_bar(sim.Bar(product_id="BTC-USD", open_ns=end - MINUTE_NS, close_ns=end, **CALM))
    for i in range(orders):
        await placed_id(exchange, limit_bid(f"kill-{i:04d}"))
    return exchange


def _alert(message: str) -> None:
    raise AssertionError(f"the kill alerted: {message}")


async def one_kill(orders: int, rng: random.Random) -> tuple[int, int, int]:
    """(latch_ns, request-to-latch ns, elapsed_ns to verified empty) of one kill."""
    exchange = await resting_book(orders)
    if len(await exchange.list_open_orders()) != orders:
        raise AssertionError("the book did not rest every order")
    halt = HaltLatch()

    def latch() -> None:
        halt.trip(Cause.KILL_SWITCH.value, "bench kill", time.monotonic_ns())

    t0 = time.monotonic_ns()
    report_ = await kill_and_verify(
        exchange,
        latch=latch,
        monotonic_ns=time.monotonic_ns,
        sleep=asyncio.sleep,
        deadline_s=DEADLINE_S,
        rng=rng,
        on_alert=_alert,
    )
    at_ns = halt.at_ns
    if not (halt.tripped and report_.verified_empty and at_ns is not None):
        raise AssertionError(f"the kill did not latch and verify: {report_}")
    if await exchange.list_open_orders():
        raise AssertionError("the venue still lists open orders after a verified kill")
    return report_.latch_ns, at_ns - t0, report_.elapsed_ns


async def one_run(trials: int, orders: int, seed: int) -> tuple[list[int], list[int], list[int]]:
    rng = random.Random(seed)  # noqa: S311 - backoff jitter, not a secret
    latch, request, empty = [], [], []
    for _ in range(trials):
        a, b, e = await one_kill(orders, rng)
        latch.append(a)
        request.append(b)
        empty.append(e)
    return latch, request, empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=100, help="resting orders per trial")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    latch_runs, request_runs, empty_runs, worst = [], [], [], []
    for run in range(args.runs):
        latch, request, empty = asyncio.run(one_run(args.trials, args.orders, SEED + run))
        latch_runs.append(summarize(latch))
        request_runs.append(summarize(request))
        empty_runs.append(summarize(empty))
        worst.append((max(request) / 1e6, max(empty) / 1e6))
    print(
        f"{args.trials} kills x {args.runs} runs, {args.orders} resting orders each, median of runs"
    )
    latch_fig = median_of_runs(latch_runs)
    request_fig = median_of_runs(request_runs)
    empty_fig = median_of_runs(empty_runs)
    report("latch() inside the kill (report.latch_ns)", *latch_fig)
    report("request to latched (HaltLatch.at_ns - t0)", *request_fig)
    report(f"verified empty, {args.orders} orders (elapsed_ns)", *empty_fig)
    worst_request = max(w[0] for w in worst)
    worst_empty = max(w[1] for w in worst)
    print(
        f"worst trial of all runs: request to latched {worst_request:.3f} ms, "
        f"verified empty {worst_empty:.3f} ms; "
        f"per run p99 verified empty (ms): " + ", ".join(f"{r[1] / 1000:.2f}" for r in empty_runs)
    )
    latch_ms = request_fig[1] / 1000
    print(
        f"target request-to-latch p99 <= {LATCH_TARGET_MS:.0f} ms: {latch_ms:.4f} ms: "
        f"{'PASS' if latch_ms <= LATCH_TARGET_MS else 'FAIL'}"
    )
    print(
        f"target verified empty <= {EMPTY_TARGET_MS:.0f} ms (worst trial of all runs): "
        f"{worst_empty:.2f} ms: {'PASS' if worst_empty <= EMPTY_TARGET_MS else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
