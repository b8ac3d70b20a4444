"""Gate IPC: PlaceOrder -> Decision round trips through a real `trading-gate run` process
and its real agent socket, with the paper exchange inside, next to the bare echo floor.

    uv run python bench/bench_gate_ipc.py [--orders 20000] [--runs 3] [--no-shm]

Each run measures, one after the other: the bare Unix-socket echo of
`bench_ipc_echo.echo_floor` (the floor, in this process), then a fresh gate whose data
directory (gate.db, the audit log) is on the disk under /tmp, then, if /dev/shm exists
and `--no-shm` is not given, a fresh gate whose data directory is on /dev/shm (tmpfs).
The gate is started anew for each measurement, with an empty journal.

The agent is the tests' `AgentClient` (a blocking socket; its heartbeat thread beats
every 0.5 s). It sends one PlaceOrder frame, reads frames until the Decision for that
request arrives, and times the round trip with perf_counter_ns, from just before the
send to the moment the Decision's bytes are in (the Decision itself is decoded after
the clock stops; OrderUpdate and Heartbeat frames pushed meanwhile are decoded inside
it). Then the next order. Each order is encoded before its clock starts. 500 untimed
orders go first, as in the floor.

The orders are BTC-USD limit buys, IOC, at 60 % of the first bundled close: below
every low of the bundled sample, so the paper venue cancels each one on arrival
(IOC_REMAINDER) and none rests or fills. Sizes step by one base increment, so no two
orders within the 1 s duplicate window are alike. The limits are loose so that the
approved path is what is measured: order size 1 BTC, notional, position, exposure and
losses far above what 20,000 such orders reach, the price collar at its schema maximum
(10,000 bps), at most 1,000 open orders (the schema maximum; an IOC order counts as open
until the gate's next sync, every 0.25 s and every bar), 10,000 orders per 1,000 ms
(the schema maximum), a mid up to 60 s old (the maximum). The approve/reject mix is
printed.

The gate commits every decision, venue ack and status change to SQLite in WAL mode with
synchronous=FULL, each in its own transaction, so each order costs several fsyncs of
gate.db-wal: on a disk that dominates the round trip, on tmpfs an fsync is nearly free.
That is why both are measured. Target: p99(gate) <= 2x p99(floor).
"""

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "contract" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "gate" / "tests"))

from _stats import median_of_runs, percentile, report, summarize
from bench_ipc_echo import WARMUP, echo_floor

import trading_contract as c
from gate_process import BTC_OPEN, AgentClient, GateProcess, running_gate

TARGET_RATIO: Final = 2.0
DISK_ROOT: Final = Path(tempfile.gettempdir())  # /tmp: where pytest's tmp_path lives too
SHM_ROOT: Final = Path("/dev/shm")  # noqa: S108 - tmpfs on purpose, the point of the comparison
BASE_STEP: Final = Decimal("0.00000001")  # BTC-USD base increment on the paper venue
MIN_SIZE: Final = Decimal("0.0001")
SIZES: Final = 10_000  # distinct sizes, cycled: more than the orders of any 1 s window
PRICE: Final = (BTC_OPEN * Decimal("0.6")).quantize(Decimal("0.01"))
HUGE_USD: Final = "1000000000.00"

LIMITS: Final[dict[str, Any]] = {
    "products": {
        "BTC-USD": {
            "max_order_size_base": "1.0",
            "max_order_notional_usd": HUGE_USD,
            "max_position_usd": HUGE_USD,
            "price_collar_bps": 10_000,
        }
    },
    "account": {
        "max_order_notional_usd": HUGE_USD,
        "max_gross_exposure_usd": HUGE_USD,
        "max_open_orders": 1_000,
        "daily_loss_limit_usd": HUGE_USD,
        "max_drawdown_pct": "100",
    },
    "reference_price": {"max_age_ms": 60_000},
    "throttles": {"orders": {"max_per_window": 10_000, "window_ms": 1_000}},
    "duplicate_intent_window_s": 1,
}


@dataclass
class GateRun:
    """One gate's round trips (ns) and what it answered."""

    samples: list[int]
    verdicts: Counter[str] = field(default_factory=Counter)
    pushed: Counter[str] = field(default_factory=Counter)
    audit_rows: int = 0
    wall_s: float = 0.0


def order_frame(run: int, i: int) -> tuple[bytes, str]:
    """The i-th order of a run as a frame, and its request id."""
    request_id = f"b{run}-{i}"
    message = c.PlaceOrder(
        request_id=c.RequestId(request_id),
        intent_id=c.IntentId(f"bench.{run}.{i}"),
        product_id=c.ProductId("BTC-USD"),
        side=c.Side.BUY,
        order_type=c.OrderType.LIMIT,
        size=MIN_SIZE + BASE_STEP * ((i + WARMUP) % SIZES),
        size_in=c.SizeUnit.BASE,
        limit_price=PRICE,
        time_in_force=c.TimeInForce.IOC,
        strategy_id=c.StrategyId("bench"),
        reason=c.Reason(regime="bench"),
        sent_ns=time.time_ns(),
    )
    return c.frame(c.encode(message)), request_id


def _verdict(decision: c.Decision) -> str:
    verdict = decision.verdict
    return "approved" if isinstance(verdict, c.Accepted) else f"rejected {verdict.code.value}"


def _order_trips(agent: AgentClient, n: int, run: int, result: GateRun) -> None:
    clock = time.perf_counter_ns
    sock = agent.sock
    for i in range(-WARMUP, n):
        request, request_id = order_frame(run, i)
        start = clock()
        agent.send_raw(request)
        while True:
            body = c.recv_frame(sock.recv)
            if body is None:
                raise EOFError("the gate closed the connection")
            end = clock()
            message = c.decode_gate_message(body)
            if isinstance(message, c.Decision) and message.request_id == request_id:
                break
            if i >= 0:
                result.pushed[type(message).__name__] += 1
        if i >= 0:
            result.samples[i] = end - start
            result.verdicts[_verdict(message)] += 1


def _count_audit_rows(gate: GateProcess) -> int:
    uri = f"file:{gate.data / 'gate.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM audit").fetchone()
    conn.close()
    return int(rows)


def gate_round_trips(n: int, run: int, under: Path) -> GateRun:
    """Time `n` PlaceOrder -> Decision round trips to a fresh gate whose data directory
    is in a new temporary directory under `under`."""
    root = Path(tempfile.mkdtemp(prefix="bench-gate-", dir=under))
    result = GateRun(samples=[0] * n)
    try:
        with running_gate(root, **LIMITS) as gate:
            agent = AgentClient(gate.agent_socket, heartbeat_s=0.5)
            started = time.perf_counter()
            try:
                _order_trips(agent, n, run, result)
            finally:
                result.wall_s = time.perf_counter() - started
                agent.close()
        result.audit_rows = _count_audit_rows(gate)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return result


def _mix(verdicts: Counter[str]) -> str:
    total = sum(verdicts.values())
    return ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in verdicts.most_common())


def _describe(label: str, runs: list[GateRun], n: int) -> tuple[float, float]:
    figures = median_of_runs([summarize(r.samples) for r in runs])
    rates = [n / r.wall_s for r in runs]
    rows = [(r.audit_rows / (n + WARMUP)) for r in runs]
    report(label, *figures, f"{statistics.median(rates):,.0f} orders/s")
    for k, r in enumerate(runs, 1):
        first = sorted(r.samples[:1000])
        last = sorted(r.samples[-1000:])
        print(
            f"    run {k}: p50 {summarize(r.samples)[0]:8.2f}  p99 {summarize(r.samples)[1]:9.2f}"
            f"  max {max(r.samples) / 1000:10.2f} us; p50 first/last 1000 orders "
            f"{percentile(first, 0.5) / 1000:.2f}/{percentile(last, 0.5) / 1000:.2f} us"
        )
        print(f"           verdicts: {_mix(r.verdicts)}")
        pushed = ", ".join(f"{k} {v}" for k, v in sorted(r.pushed.items())) or "none"
        print(f"           pushed while waiting: {pushed}")
    print(f"    audit rows per order (incl. warm-up): {statistics.median(rows):.2f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-shm", action="store_true", help="skip the /dev/shm data dir")
    args = parser.parse_args()
    places = [("disk", DISK_ROOT)]
    if SHM_ROOT.is_dir() and not args.no_shm:
        places.append(("tmpfs", SHM_ROOT))
    floor_runs: list[tuple[float, float]] = []
    gate_runs: dict[str, list[GateRun]] = {name: [] for name, _ in places}
    for run in range(args.runs):
        floor_runs.append(summarize(asyncio.run(echo_floor(args.orders))))
        for name, under in places:
            gate_runs[name].append(gate_round_trips(args.orders, run, under))
    print(
        f"{args.orders} orders x {args.runs} runs (after {WARMUP} untimed each), "
        f"median of runs; limit IOC buys at {PRICE}"
    )
    floor = median_of_runs(floor_runs)
    report("floor: bare echo (bench_ipc_echo)", *floor)
    for name, under in places:
        label = f"gate, data dir on {name} ({under})"
        p50, p99 = _describe(label, gate_runs[name], args.orders)
        ratio = p99 / floor[1]
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        print(
            f"    ratio p99(gate)/p99(floor) {ratio:.1f}x (p50 {p50 / floor[0]:.1f}x): "
            f"target <= {TARGET_RATIO:.0f}x: {verdict}"
        )


if __name__ == "__main__":
    main()
