"""IPC floor: round trips of a PlaceOrder frame over an asyncio Unix socket, bare echo
against the same loop with the contract codec on the server side.

    uv run python bench/bench_ipc_echo.py [--frames 20000] [--runs 5]

Server and client run in this process, on one event loop, over a socket in a fresh
temporary directory under /tmp. The client sends one length-prefixed frame (the
encoded PlaceOrder of the contract's mothers), waits for the reply frame, and times
the round trip with perf_counter_ns; then the next. The bare server writes each body
straight back; the codec server decodes it with `decode_agent_message` and replies with
an encoded `Decision`. The bare echo is the floor under any gate IPC benchmark:
`echo_floor(n)` is importable so that benchmark can print the floor of its own run.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "contract" / "tests"))

from _stats import median_of_runs, report, summarize

import trading_contract as c
from contract_stubs import COID, T0, place_order

WARMUP: Final = 500  # untimed round trips first: buffers, caches, the loop's first pass

Reply = Callable[[bytes], bytes]


def echo(body: bytes) -> bytes:
    """The bare floor: the body back, unread."""
    return body


_DECISION: Final = c.Decision(
    request_id=c.RequestId("req-0001"),
    intent_id=c.IntentId("mr.BTC-USD.1764614400.1"),
    verdict=c.Accepted(client_order_ids=(c.ClientOrderId(COID),)),
    decided_ns=T0,
)


def decode_and_decide(body: bytes) -> bytes:
    """The codec's share: decode the order strictly, encode a Decision for it."""
    message = c.decode_agent_message(body)
    if not isinstance(message, c.PlaceOrder):
        raise TypeError(f"the client only sends orders, got {type(message).__name__}")
    reply = c.Decision(
        request_id=message.request_id,
        intent_id=message.intent_id,
        verdict=_DECISION.verdict,
        decided_ns=time.time_ns(),
    )
    return c.encode(reply)


async def _serve(reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while (body := await c.read_frame(reader.readexactly)) is not None:
            writer.write(c.frame(reply(body)))
            await writer.drain()
    finally:
        writer.close()


async def round_trips(n: int, reply: Reply, *, warmup: int = WARMUP) -> list[int]:
    """Time `n` request-reply round trips (after `warmup` untimed ones) of a PlaceOrder
    frame to a same-process Unix-socket server that answers each body with `reply(body)`."""
    request = c.frame(c.encode(place_order()))
    clock = time.perf_counter_ns
    samples = [0] * n
    with tempfile.TemporaryDirectory(prefix="bench-ipc-", dir="/tmp") as tmp:
        path = str(Path(tmp) / "echo.sock")
        server = await asyncio.start_unix_server(lambda r, w: _serve(reply, r, w), path=path)
        reader, writer = await asyncio.open_unix_connection(path)
        try:
            for i in range(-warmup, n):
                start = clock()
                writer.write(request)
                await writer.drain()
                if await c.read_frame(reader.readexactly) is None:
                    raise ConnectionError("the server closed the connection")
                if i >= 0:
                    samples[i] = clock() - start
        finally:
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()
    return samples


async def echo_floor(n: int) -> list[int]:
    """Round-trip times (ns) of `n` PlaceOrder frames to a bare echo server: the floor
    under any request-reply over the gate's framing on this machine."""
    return await round_trips(n, echo)


async def codec_round_trips(n: int) -> list[int]:
    """The same round trips with the server decoding each order and encoding a Decision."""
    return await round_trips(n, decode_and_decide)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    body = c.encode(place_order())
    bare_runs, codec_runs = [], []
    for _ in range(args.runs):
        bare_runs.append(summarize(asyncio.run(echo_floor(args.frames))))
        codec_runs.append(summarize(asyncio.run(codec_round_trips(args.frames))))
    bare, codec = median_of_runs(bare_runs), median_of_runs(codec_runs)
    print(
        f"{args.frames} frames x {args.runs} runs, body {len(body)} bytes "
        f"(+{c.FRAME_HEADER_BYTES} header), median of runs"
    )
    report("bare echo (read_frame / frame)", *bare)
    report("decode PlaceOrder + encode Decision", *codec)
    print(
        f"ratio codec/bare p99 {codec[1] / bare[1]:.2f}x (p50 {codec[0] / bare[0]:.2f}x); "
        f"codec share of p50 {codec[0] - bare[0]:.2f} us"
    )


if __name__ == "__main__":
    main()
