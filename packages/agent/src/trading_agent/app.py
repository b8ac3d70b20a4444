"""The agent process: its composition root. Files, the clock and the gate link live here.

    trading-agent run --data data --strategies-dir config/strategies --strategy ...

It waits for the gate's socket, asks the gate for its balances and limits, builds the
engine, then runs candles from the market source through it; every order goes to the
gate over `GateLink`, every reply and push back into the engine, every event into
data/agent.db. Paper mode's market is the gate's published replay schedule
(`marketdata.schedule`) until the loopback Coinbase server exists.
"""

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import AsyncIterable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

import trading_contract as c
from trading_agent.config_files import load_strategy_dir
from trading_agent.domain.market import Candle
from trading_agent.engine import Engine, ProductSpec, StrategySlot
from trading_agent.gate_link import GateLink, GateUnavailable
from trading_agent.journal import JournalError, write_journal
from trading_agent.marketdata.live import LiveCandles, LiveTradeBars
from trading_agent.marketdata.schedule import ScheduledReplay, read_schedule
from trading_agent.store.event_store import EventStore
from trading_agent.strategies.registry import build_strategy
from trading_coinbase.errors import CoinbaseError
from trading_coinbase.rest import RestClient
from trading_coinbase.translate import Granularity, product_rules
from trading_coinbase.websocket import MARKET_DATA_URL, WebsocketFeed

__all__ = ["AgentOptions", "StartupError", "run"]

log = logging.getLogger("trading_agent")

AGENT_ID: Final = "agent-1"
_WAIT_FOR_GATE_S: Final = 30.0
_SETTLE_S: Final = 3.0


class StartupError(Exception):
    """The agent cannot start; the message says what to fix."""


@dataclass(frozen=True, kw_only=True)
class AgentOptions:
    data_dir: Path
    strategy_dir: Path
    strategies: tuple[str, ...]
    products: tuple[str, ...] | None = None  # None: every product of the market
    duration_s: float | None = None
    # Public Coinbase market data instead of the gate's paper replay (no key needed):
    venue_url: str | None = None  # https://api.coinbase.com or the loopback venue
    venue_ws_url: str | None = None
    granularity: str = "FIVE_MINUTE"
    journal_dir: Path = Path("journal")  # a page a day, journal/YYYY-MM-DD.md
    rules_dir: Path | None = None  # the gate's rule directory: the journal's proposals


def run(options: AgentOptions) -> int:
    """Run until SIGINT/SIGTERM or `duration_s`; the process's exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        return asyncio.run(_main(options))
    except StartupError as exc:
        log.error("not started: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 0


class _Market(NamedTuple):
    """Where candles come from, and what the venue lists for each product traded."""

    source: AsyncIterable[Candle]
    specs: dict[str, ProductSpec]
    name: str


async def _main(options: AgentOptions) -> int:
    run_dir = options.data_dir / "run"
    await _wait_for(run_dir / "agent.sock")
    async with contextlib.AsyncExitStack() as stack:
        market = await _market(options, stack)
        products = tuple(market.specs)
        pending: list[c.GateMessage] = []
        link = GateLink(
            run_dir / "agent.sock", agent_id=AGENT_ID, now_ns=time.time_ns, on_push=pending.append
        )
        link_task = asyncio.create_task(link.run())
        try:
            await _connected(link, run_dir / "agent.sock")
            cash = await _cash(link)
            engine = Engine(
                slots=_slots(options, products), specs=market.specs, starting_cash_usd=cash
            )
            session = _Session(
                engine,
                link,
                EventStore(options.data_dir / "agent.db"),
                pending,
                data_dir=options.data_dir,
                journal_dir=options.journal_dir,
                rules_dir=options.rules_dir,
            )
            session.deliver([await link.request(engine.limits_query(time.time_ns()))])
            log.info(
                "trading %s with %s, %s USD; market: %s",
                ", ".join(products), ", ".join(options.strategies), cash, market.name,
            )  # fmt: skip
            print(  # noqa: T201 - the supervisor waits for this line
                f"trading-agent ready: {len(products)} products, strategies "
                f"{', '.join(options.strategies)}; market {market.name}; "
                f"store {options.data_dir / 'agent.db'}",
                flush=True,
            )
            try:
                await _until_stopped(session.run(market.source, set(products)), options.duration_s)
                await session.settle(_SETTLE_S)
            finally:
                session.close()
        finally:
            link_task.cancel()
            await asyncio.gather(link_task, return_exceptions=True)
    return 0


async def _market(options: AgentOptions, stack: contextlib.AsyncExitStack) -> _Market:
    if options.venue_url is None:
        return await _paper_market(options)
    return await _coinbase_market(options, options.venue_url, stack)


async def _paper_market(options: AgentOptions) -> _Market:
    schedule_path = options.data_dir / "run" / "market.json"
    await _wait_for(schedule_path)
    schedule = read_schedule(schedule_path)
    products = options.products or tuple(sorted(schedule.products))
    unknown = [p for p in products if p not in schedule.products]
    if unknown:
        raise StartupError(f"the paper market has no {', '.join(unknown)}")
    specs = {
        p: ProductSpec(
            product_id=p,
            base_increment=schedule.products[p].base_increment,
            min_size=schedule.products[p].base_min_size,
        )
        for p in products
    }
    return _Market(ScheduledReplay(schedule), specs, "the gate's paper replay")


async def _coinbase_market(
    options: AgentOptions, venue_url: str, stack: contextlib.AsyncExitStack
) -> _Market:
    """Public Coinbase market data (no key): the real venue or the loopback one."""
    if not options.products:
        raise StartupError("with --venue-url, name the products to trade (--product)")
    rest = await stack.enter_async_context(RestClient(base_url=venue_url))
    specs: dict[str, ProductSpec] = {}
    try:
        for product in options.products:
            rules = product_rules(await rest.get_product(product))
            specs[product] = ProductSpec(
                product_id=product,
                base_increment=rules.base_increment,
                min_size=rules.base_min_size,
            )
    except CoinbaseError as exc:
        raise StartupError(f"cannot read the products from {venue_url}: {exc}") from exc
    ws_url = options.venue_ws_url or MARKET_DATA_URL
    granularity = Granularity[options.granularity]
    feed = WebsocketFeed(url=ws_url)
    # Coinbase's candles channel is five-minute: finer bars are built from its trades.
    source: AsyncIterable[Candle] = (
        LiveTradeBars(rest=rest, feed=feed, products=options.products, granularity=granularity)
        if granularity is Granularity.ONE_MINUTE
        else LiveCandles(rest=rest, feed=feed, products=options.products, granularity=granularity)
    )
    return _Market(source, specs, f"{venue_url} ({options.granularity.lower()} candles)")


class _Session:
    """One engine, one link, one store: candles in, orders out, everything recorded."""

    def __init__(
        self,
        engine: Engine,
        link: GateLink,
        store: EventStore,
        pushed: list[c.GateMessage],
        *,
        data_dir: Path,
        journal_dir: Path,
        rules_dir: Path | None = None,
    ) -> None:
        self._data_dir, self._journal_dir = data_dir, journal_dir
        self._rules_dir = rules_dir
        self._day: dt.date | None = None
        self._engine = engine
        self._link = link
        self._store = store
        self._pushed = pushed

    async def run(self, source: AsyncIterable[Candle], products: set[str]) -> None:
        async for candle in source:
            self.deliver(self._take_pushed())
            self._journal_if_new_day()
            if candle.product_id not in products:
                continue
            for order in self._engine.on_candle(candle):
                try:
                    reply = await self._link.request(order)
                except GateUnavailable as exc:
                    log.warning("order %s not answered: %s", order.intent_id, exc)
                    self._engine.request_failed(order, str(exc), time.time_ns())
                    continue
                self.deliver([reply])
            self._store.append(self._engine.drain_events())
            self._store.flush()

    def _journal_if_new_day(self) -> None:
        """At the first candle of a new UTC day, write yesterday's journal page."""
        today = dt.datetime.now(dt.UTC).date()
        if self._day is not None and today != self._day:
            self._store.flush()
            try:
                page = write_journal(
                    self._data_dir, self._journal_dir, self._day, rules_dir=self._rules_dir
                )
                log.info("journal written: %s", page)
            except JournalError as exc:
                log.warning("could not write the journal for %s: %s", self._day, exc)
        self._day = today

    async def settle(self, timeout_s: float) -> None:
        """Stopping: send nothing new, but book what the gate still says about orders
        in flight (their fills), for up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self._engine.in_flight and time.monotonic() < deadline:
            self.deliver(self._take_pushed())
            await asyncio.sleep(0.05)
        self.deliver(self._take_pushed())

    def _take_pushed(self) -> list[c.GateMessage]:
        taken = list(self._pushed)
        self._pushed.clear()
        return taken

    def deliver(self, messages: Sequence[c.GateMessage]) -> None:
        now = time.time_ns()
        for message in messages:
            self._engine.on_message(message, now)

    def close(self) -> None:
        self.deliver(self._take_pushed())
        self._store.append(self._engine.drain_events())
        self._store.close()


async def _until_stopped(work: Coroutine[Any, Any, None], duration_s: float | None) -> None:
    """Run `work` until it ends, `duration_s` passes, or SIGINT/SIGTERM arrives."""
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    # asyncio.wait, not wait_for: it neither raises the task's cancel nor absorbs ours,
    # where Python 3.11's wait_for can lose a cancel (cpython#86296).
    done, _ = await asyncio.wait({task}, timeout=duration_s)
    if not done:
        log.info("duration of %s s reached; stopping", duration_s)
        task.cancel()
        await asyncio.wait({task})
    elif task.cancelled():
        log.info("stopping on a signal")
    if not task.cancelled():
        task.result()  # the work's own error, if it failed


async def _connected(link: GateLink, socket: Path) -> None:
    try:
        async with asyncio.timeout(_WAIT_FOR_GATE_S):
            await link.connected.wait()
    except TimeoutError as exc:
        raise StartupError(f"no gate answered on {socket}") from exc


async def _wait_for(*paths: Path) -> None:
    deadline = time.monotonic() + _WAIT_FOR_GATE_S
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            missing = ", ".join(str(p) for p in paths if not p.exists())
            raise StartupError(f"the gate has not started: no {missing}")
        await asyncio.sleep(0.1)


async def _cash(link: GateLink) -> Decimal:
    reply = await link.request(
        c.Query(
            request_id=c.RequestId("q-balances"), kind=c.QueryKind.BALANCES, sent_ns=time.time_ns()
        )
    )
    if not isinstance(reply, c.QueryReply) or not isinstance(reply.result, c.BalancesResult):
        raise StartupError(f"the gate did not report balances: {reply}")
    usd = [b for b in reply.result.balances if b.currency == "USD"]
    return usd[0].available if usd else Decimal(0)


def _slots(options: AgentOptions, products: tuple[str, ...]) -> list[StrategySlot]:
    loaded = load_strategy_dir(options.strategy_dir)
    missing = [s for s in options.strategies if s not in loaded]
    if missing:
        raise StartupError(f"no parameter file for {', '.join(missing)} in {options.strategy_dir}")
    return [
        StrategySlot(
            strategy=build_strategy(name, p, loaded[name]), product_id=p, sizing=loaded[name].sizing
        )
        for p in products
        for name in options.strategies
    ]
