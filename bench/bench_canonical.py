"""Audit encoding speed: canonical_json of an "order.accepted" payload, fast path vs reference.

    uv run python bench/bench_canonical.py [--payloads 100000] [--runs 5]

The payload is what the gate appends for an accepted order: the PlaceOrder and the
Decision as msgspec.to_builtins, every check outcome from `decide`, the config hash and
the mode. Both encoders are checked to give the same bytes before timing.
"""

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "gate" / "tests"))

import msgspec
from _stats import median_of_runs, report, summarize

from gate_stubs import config, context, order
from trading_contract import Accepted, ClientOrderId, Decision
from trading_gate.audit.encoding import canonical_json, canonical_json_reference
from trading_gate.policy import decide


def accepted_payload() -> dict[str, object]:
    message = order()
    verdict = decide(message, context(), config())
    decision = Decision(
        request_id=message.request_id,
        intent_id=message.intent_id,
        verdict=Accepted(client_order_ids=(ClientOrderId("coid-1"),)),
        decided_ns=1,
    )
    return {
        "request": msgspec.to_builtins(message),
        "decision": msgspec.to_builtins(decision),
        "checks": [msgspec.to_builtins(o) for o in verdict.outcomes],
        "config_sha256": "ab" * 32,
        "mode": "active",
    }


def _time(op: Callable[[Any], bytes], arg: object, count: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = [0] * count
    for i in range(count):
        start = clock()
        op(arg)
        samples[i] = clock() - start
    return summarize(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payloads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    payload = accepted_payload()
    body = canonical_json(payload)
    if body != canonical_json_reference(payload):
        raise SystemExit("fast path and reference differ")
    checks = payload["checks"]
    cases: list[tuple[str, Callable[[Any], bytes]]] = [
        ("canonical_json_reference (full walk)", canonical_json_reference),
        ("canonical_json (fast path)", canonical_json),
        ("peer: msgspec.json.encode sorted", lambda p: msgspec.json.encode(p, order="sorted")),
    ]
    results = {}
    for name, op in cases:
        results[name] = median_of_runs(
            [_time(op, payload, args.payloads) for _ in range(args.runs)]
        )
    print(
        f"{args.payloads} payloads x {args.runs} runs, {len(checks)} check outcomes, "  # type: ignore[arg-type]
        f"body {len(body)} bytes, median of runs"
    )
    for name, (p50, p99) in results.items():
        report(name, p50, p99)
    ref, fast = results[cases[0][0]], results[cases[1][0]]
    print(f"speedup reference/fast p50 {ref[0] / fast[0]:.2f}x, p99 {ref[1] / fast[1]:.2f}x")


if __name__ == "__main__":
    main()
