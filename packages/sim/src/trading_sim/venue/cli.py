"""`python -m trading_sim.venue`: the loopback Coinbase venue as a process.

    python -m trading_sim.venue --port 0 --product BTC-USD --data BTC.csv.gz \\
        --bar-seconds 1.0 --public-key key.pub.pem [--key-name NAME] [--balance USD=10000]

`--data` and `--product` pair up in order; without `--data` each product replays its
bundled sample (BTC-USD, ETH-USD, SOL-USD; all three if no product is named). Once
listening it prints ONE line to stdout, which a supervisor or test waits for:

    trading-sim venue ready: http://127.0.0.1:PORT ws://127.0.0.1:PORT/ws/market ws://...

and serves until SIGINT or SIGTERM. Bad arguments, data or keys exit 2 with the reason.
"""

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import msgspec

from trading_sim.bars import BUNDLED_PRODUCTS, BarFileError, bundled_bars_path, read_bars
from trading_sim.matching.model import Bar
from trading_sim.venue.auth import KeyConfigError
from trading_sim.venue.clock import SystemClock
from trading_sim.venue.config import VenueSettings
from trading_sim.venue.faults import FaultError, Faults
from trading_sim.venue.market import ReplayError
from trading_sim.venue.server import build_exchange, serve_venue

__all__ = ["main", "parser"]

_USAGE_ERROR = 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m trading_sim.venue",
        description="A loopback Coinbase Advanced Trade venue replaying recorded candles.",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    p.add_argument("--product", action="append", default=[], help="product id, repeatable")
    p.add_argument("--data", action="append", default=[], type=Path, help="candle CSV, repeatable")
    p.add_argument("--bar-seconds", type=float, default=1.0, help="seconds between bars")
    p.add_argument("--history-bars", type=int, default=0, help="bars already replayed at start")
    p.add_argument("--align-to-clock", action="store_true", help="market time = venue time")
    p.add_argument("--public-key", type=Path, help="PEM public key that signs the JWTs")
    p.add_argument("--key-name", help="the API key name JWTs must carry (default: any)")
    p.add_argument("--balance", action="append", default=[], help="CUR=AMOUNT, repeatable")
    p.add_argument("--seed", type=int, default=0, help="seed of ids and random slippage")
    p.add_argument("--spread-bps", default="2", help="bid-ask spread around the close")
    p.add_argument("--prior-volume", default="0", help="30-day quote volume for the fee tier")
    p.add_argument("--faults", default="{}", help="initial fault knobs as a JSON object")
    return p


class _UsageError(ValueError):
    pass


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _UsageError(f"{what}: {text!r} is not a number") from None
    if not value.is_finite():
        raise _UsageError(f"{what}: {text!r} is not finite")
    return value


def _balances(items: Sequence[str]) -> dict[str, Decimal]:
    balances: dict[str, Decimal] = {}
    for item in items:
        currency, sep, amount = item.partition("=")
        if not sep or not currency:
            raise _UsageError(f"--balance {item!r}: expected CUR=AMOUNT")
        balances[currency.upper()] = _decimal(amount, f"--balance {currency}")
    return balances or {"USD": Decimal(10_000)}


def _series(products: Sequence[str], files: Sequence[Path]) -> dict[str, list[Bar]]:
    if files and len(files) != len(products):
        raise _UsageError("give one --product per --data file, in the same order")
    chosen = list(products) or list(BUNDLED_PRODUCTS)
    paths = list(files) or [bundled_bars_path(p) for p in chosen]
    return {p: read_bars(path, p) for p, path in zip(chosen, paths, strict=True)}


def _settings(args: argparse.Namespace) -> VenueSettings:
    try:
        faults = msgspec.json.decode(args.faults, type=Faults)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _UsageError(f"--faults: {exc}") from None
    return VenueSettings(
        bar_seconds=args.bar_seconds,
        history_bars=args.history_bars,
        align_to_clock=args.align_to_clock,
        balances=_balances(args.balance),
        spread_bps=_decimal(args.spread_bps, "--spread-bps"),
        prior_volume_quote=_decimal(args.prior_volume, "--prior-volume"),
        seed=args.seed,
        key_name=args.key_name,
        faults=faults,
    )


async def _serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # uvicorn takes these while it serves and re-raises them after; ours then
        # lets the process end normally instead of dying by the signal.
        loop.add_signal_handler(signum, lambda: None)
    settings = _settings(args)
    series = _series(args.product, args.data)
    key = None if args.public_key is None else args.public_key.read_bytes()
    exchange = build_exchange(settings, series, SystemClock(), public_key_pem=key)
    async with serve_venue(exchange, host=args.host, port=args.port) as venue:
        print(  # noqa: T201 - the one line a supervisor waits for
            f"trading-sim venue ready: {venue.base_url} {venue.market_ws_url} {venue.user_ws_url}",
            flush=True,
        )
        await venue.wait_closed()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the venue until a signal; 2 on bad arguments, data or key."""
    args = parser().parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except (
        _UsageError,
        BarFileError,
        ReplayError,
        KeyConfigError,
        FaultError,
        ValueError,
        OSError,
    ) as exc:
        print(f"trading-sim venue: error: {exc}", file=sys.stderr)  # noqa: T201
        return _USAGE_ERROR
    except KeyboardInterrupt:
        return 0
    return 0
