"""The Coinbase adapter against the sim's loopback venue, in process, for gate tests.

`served()` serves a venue (trading_sim.venue.testing.harness) on a manual clock over a
two-bar market per product, with a replay too slow to move during a test, so the only
bars that trade are the ones a test asks for (`Harness.trade`). `adapter()` connects a
`CoinbaseExchange` to it with the harness's real signed clients; with `streams=True` it
also opens the user and market websockets and, as the gate does after its start-up
reconciliation, trusts the user stream once it is subscribed.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import trading_sim as sim
from exchange_port_suite import PortSession
from trading_coinbase import RestClient
from trading_contract import ProductId
from trading_gate.exchange.coinbase import CoinbaseExchange, CoinbaseSettings
from trading_gate.exchange.coinbase_stream import Reconnect
from trading_sim.venue import ManualClock, VenueSettings
from trading_sim.venue.testing import KEY_NAME, Harness, KeyPair, harness, new_key_pair

D = Decimal
MINUTE_NS = 60 * 10**9
PRODUCTS = (ProductId("BTC-USD"), ProductId("ETH-USD"))
OPENING = {"BTC-USD": D(50_000), "ETH-USD": D(3_000)}
# Generated once per session: signing keys are the slow part of a venue.
KEYS: KeyPair = new_key_pair("ES256")


def _series(start_ns: int) -> dict[str, list[sim.Bar]]:
    def bar(product: str, i: int) -> sim.Bar:
        price = OPENING[product]
        return sim.Bar(
            product_id=product,
            open_ns=start_ns + (i - 2) * MINUTE_NS,
            close_ns=start_ns + (i - 1) * MINUTE_NS,
            open=price,
            high=price + 10,
            low=price - 10,
            close=price,
            volume=D(100),
        )

    return {p: [bar(p, 0), bar(p, 1)] for p in OPENING}


class GateClock:
    """The gate's Clock over the venue's manual clock (one time for both sides), or
    `offset_ns` off it, as a machine whose clock is wrong."""

    def __init__(self, clock: ManualClock, offset_ns: int = 0) -> None:
        self._clock = clock
        self._offset_ns = offset_ns

    def now_ns(self) -> int:
        return self._clock.now_ns() + self._offset_ns

    def monotonic_ns(self) -> int:
        return self._clock.now_ns()


async def until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll (real time) until `predicate()`, or fail the test."""
    async with asyncio.timeout(timeout_s):
        # Polling on purpose: the conditions live in other objects, with no event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def served(**settings: Any) -> AsyncIterator[Harness]:
    """A loopback venue with 100,000 USD, fast heartbeats and a replay that stays put."""
    fields: dict[str, Any] = {
        "key_name": KEY_NAME,
        "bar_seconds": 86_400.0,
        "balances": {"USD": D(100_000)},
        "heartbeat_s": 0.02,
    }
    start_ns = 1_767_225_600 * 10**9
    chosen = VenueSettings(**(fields | settings))
    async with harness(_series(start_ns), settings=chosen, key_pair=KEYS, start_ns=start_ns) as h:
        yield h


@contextlib.asynccontextmanager
async def adapter(
    h: Harness,
    *,
    streams: bool = True,
    trust: bool = True,
    idle_timeout_s: float = 2.0,
    rest: RestClient | None = None,
    clock_offset_ns: int = 0,
) -> AsyncIterator[CoinbaseExchange]:
    """A started adapter on `h`; with `streams`, subscribed (and trusted if `trust`)."""
    exchange = CoinbaseExchange(
        rest=rest or h.rest(),
        user_feed=h.user_feed(idle_timeout_s=idle_timeout_s),
        market_feed=h.market_feed(idle_timeout_s=idle_timeout_s),
        clock=GateClock(h.clock, clock_offset_ns),
        products=PRODUCTS,
        settings=CoinbaseSettings(reconnect=Reconnect(min_s=0.01, max_s=0.05)),
        seed=7,
    )
    try:
        await exchange.start()
    except BaseException:
        await exchange.aclose()
        raise
    running = asyncio.create_task(exchange.run()) if streams else None
    try:
        if running is not None:
            assert await exchange.wait_streams(5.0)
            token = exchange.reconcile_token()
            if trust and token is not None:
                exchange.reconciled(token)
        yield exchange
    finally:
        if running is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        await exchange.aclose()


async def caught_up(h: Harness, exchange: CoinbaseExchange) -> None:
    """Until the adapter's user stream has caught up with the venue: the clock moves on a
    millisecond and a heartbeat stamped since then arrives, so every report queued before
    (each order change so far) has been handled."""
    h.clock.advance(0.001)
    now = h.clock.now_ns()
    await until(lambda: (exchange.heartbeat_ns or 0) >= now)


class VenueMarket:
    """The suite's `Market`: the venue trades one minute bar of the test's own, and the
    call returns once the adapter's user stream has caught up with it (`caught_up`)."""

    def __init__(self, h: Harness, exchange: CoinbaseExchange, product_id: str) -> None:
        self._h, self._exchange, self._product_id = h, exchange, product_id

    async def trade(
        self, *, open: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
    ) -> None:
        self._h.trade(self._product_id, open=open, high=high, low=low, close=close, volume=volume)
        if self._exchange.suspect is None:
            await caught_up(self._h, self._exchange)


@contextlib.asynccontextmanager
async def port_session(*, streams: bool) -> AsyncIterator[PortSession]:
    """A fresh venue and adapter for one contract test."""
    async with served() as h, adapter(h, streams=streams) as exchange:
        yield PortSession(exchange=exchange, market=VenueMarket(h, exchange, "BTC-USD"))
