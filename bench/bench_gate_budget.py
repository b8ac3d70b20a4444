"""The work every PlaceOrder must pay before its Decision can be sent, timed in process,
next to the bare echo floor measured in the same run.

    uv run python bench/bench_gate_budget.py [--orders 20000] [--runs 5]

The issue's IPC target is "p99 <= 2x the floor", where the floor is a bare Unix-socket
echo. This script asks whether that target is reachable at all: it times, one order
after the other and with no socket, the steps the gate cannot skip without breaking a
requirement of the same issue:

1. the strict two-pass decode of the PlaceOrder frame (`decode_agent_message`),
2. every check (`policy.decide`, empty rule set),
3. one durable audit transaction holding the decision row (SQLite WAL,
   synchronous=FULL: "sends nothing it could not journal"), on disk and on tmpfs,
4. the self-checked encode of the Decision frame.

Each step is timed alone, then the four are timed as one chain per order. The chain
excludes the socket, the event loop, the paper venue and every follow-up (venue ack,
OrderUpdate pushes), so it is a lower bound on what the gate adds to the floor.
"""

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "gate" / "tests"))

import msgspec
from _stats import median_of_runs, report, summarize
from bench_ipc_echo import echo_floor

import trading_contract as c
from gate_stubs import config, context, order
from trading_gate.audit.database import open_audit_db
from trading_gate.audit.log import AuditLog
from trading_gate.policy import PolicyDecision, decide

SHM_ROOT: Final = Path("/dev/shm")  # noqa: S108 - tmpfs on purpose, the point of the comparison
COID: Final = c.ClientOrderId("00000000-0000-5000-8000-000000000001")


def _orders(n: int) -> list[bytes]:
    return [
        c.encode(
            order(request_id=f"req-{i}", intent_id=f"intent-{i}", size=Decimal(f"0.00{1 + i % 9}"))
        )
        for i in range(n)
    ]


def _place(body: bytes) -> c.PlaceOrder:
    message = c.decode_agent_message(body)
    if not isinstance(message, c.PlaceOrder):
        raise SystemExit(f"expected a PlaceOrder, got {type(message).__name__}")
    return message


def _decision(message: c.PlaceOrder) -> c.Decision:
    return c.Decision(
        request_id=message.request_id,
        intent_id=message.intent_id,
        verdict=c.Accepted(client_order_ids=(COID,)),
        decided_ns=1,
    )


def _payload(message: c.PlaceOrder, decision: c.Decision, verdict: PolicyDecision) -> Any:
    """What the gate appends for an accepted order (see `Gate._decision_payload`)."""
    return {
        "request": msgspec.to_builtins(message),
        "decision": msgspec.to_builtins(decision),
        "checks": [msgspec.to_builtins(o) for o in verdict.outcomes],
        "config_sha256": "ab" * 32,
        "mode": "active",
    }


def _chain(log: AuditLog) -> Callable[[bytes], bytes]:
    ctx, cfg = context(), config()

    def one(frame_body: bytes) -> bytes:
        message = _place(frame_body)
        verdict = decide(message, ctx, cfg)
        decision = _decision(message)
        with log.transaction() as txn:
            txn.append(
                "order.accepted", _payload(message, decision, verdict), ts_wall_ns=1, ts_mono_ns=1
            )
        return c.encode(decision)

    return one


def _time(op: Callable[[bytes], object], inputs: list[bytes]) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = [0] * len(inputs)
    for i, body in enumerate(inputs):
        start = clock()
        op(body)
        samples[i] = clock() - start
    return summarize(samples)


def _audit_log(root: Path) -> tuple[AuditLog, Path]:
    where = Path(tempfile.mkdtemp(prefix="bench-budget-", dir=root))
    conn = open_audit_db(where / "gate.db")
    return AuditLog(conn, anchor_path=where / "audit.anchor"), where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bodies = _orders(args.orders)
    message = _place(bodies[0])
    ctx, cfg = context(), config()
    decision = _decision(message)
    payload = _payload(message, decision, decide(message, ctx, cfg))
    roots = [("disk", Path(tempfile.gettempdir()))]
    if SHM_ROOT.is_dir():
        roots.append(("tmpfs", SHM_ROOT))
    results: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        floor_ns = asyncio.run(echo_floor(args.orders))
        results.setdefault("floor: bare echo (bench_ipc_echo)", []).append(summarize(floor_ns))
        steps: list[tuple[str, Callable[[bytes], object]]] = [
            ("1 decode PlaceOrder (strict)", c.decode_agent_message),
            ("2 decide (all checks, no rules)", lambda _b: decide(message, ctx, cfg)),
            ("4 encode Decision (self-checked)", lambda _b: c.encode(decision)),
        ]
        for name, op in steps:
            results.setdefault(name, []).append(_time(op, bodies))
        for label, root in roots:
            log, where = _audit_log(root)
            try:

                def txn(_b: bytes, log: AuditLog = log) -> None:
                    with log.transaction() as t:
                        t.append("order.accepted", payload, ts_wall_ns=1, ts_mono_ns=1)

                results.setdefault(f"3 one audit transaction ({label})", []).append(
                    _time(txn, bodies)
                )
                results.setdefault(f"chain 1-4 per order ({label})", []).append(
                    _time(_chain(log), bodies)
                )
            finally:
                shutil.rmtree(where)
    print(f"{args.orders} orders x {args.runs} runs, median of runs")
    medians = {name: median_of_runs(runs) for name, runs in results.items()}
    for name, (p50, p99) in medians.items():
        report(name, p50, p99)
    floor_p99 = medians["floor: bare echo (bench_ipc_echo)"][1]
    for label, _ in roots:
        chain_p99 = medians[f"chain 1-4 per order ({label})"][1]
        print(
            f"{label}: chain p99 / floor p99 = {chain_p99 / floor_p99:.2f}x; the chain alone "
            f"{'exceeds' if chain_p99 > floor_p99 else 'fits in'} the 1x of headroom that "
            f"'p99 <= 2x floor' leaves above the floor"
        )


if __name__ == "__main__":
    main()
