"""Codec speed: strict encode and decode of a PlaceOrder, against stdlib json as a peer.

    uv run python bench/bench_codec.py [--orders 100000] [--runs 5]

The peer (json.dumps / json.loads of the same payload, no validation) shows what the
strictness costs; the ratio is printed per operation.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "contract" / "tests"))

from _stats import median_of_runs, report, summarize

import trading_contract as c
from contract_stubs import place_order


def _time(op: object, arg: object, count: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = [0] * count
    for i in range(count):
        start = clock()
        op(arg)  # type: ignore[operator]
        samples[i] = clock() - start
    return summarize(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    message = place_order()
    body = c.encode(message)
    plain = json.loads(body)
    cases = [
        ("encode PlaceOrder (strict, self-checked)", c.encode, message),
        ("decode PlaceOrder (strict, two-pass)", c.decode_agent_message, body),
        ("peer: json.dumps (no validation)", json.dumps, plain),
        ("peer: json.loads (no validation)", json.loads, body),
    ]
    results = {}
    for name, op, arg in cases:
        results[name] = median_of_runs([_time(op, arg, args.orders) for _ in range(args.runs)])
    print(f"{args.orders} orders x {args.runs} runs, body {len(body)} bytes, median of runs")
    for name, (p50, p99) in results.items():
        report(name, p50, p99)
    enc, dec = results[cases[0][0]], results[cases[1][0]]
    dumps, loads = results[cases[2][0]], results[cases[3][0]]
    print(
        f"ratio encode/json.dumps p50 {enc[0] / dumps[0]:.2f}x; "
        f"decode/json.loads p50 {dec[0] / loads[0]:.2f}x"
    )


if __name__ == "__main__":
    main()
