"""Live candles from Coinbase's public market data (or the loopback venue): no keys.

`LiveCandles` is an async candle source. It follows the websocket `candles` channel,
which re-sends the forming candle as it changes: a candle is complete, and delivered,
when the first update of a later one arrives. The first update of each product also
says where the market is, and the `history_bars` complete candles before it come over
REST first (the strategies' warm-up). The
granularity is the venue's (five minutes on Coinbase; the loopback venue sends its
data's own).

When a session ends (a drop, an idle feed, an error frame) or its sequence numbers
jump, the source reconnects with capped backoff and backfills what it missed over
REST before following the stream again, so a gap in the socket never becomes a silent
hole in the series: a bucket the venue itself has no candle for stays a gap.
Candles come out per product in start order, never twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Final

from trading_agent.domain.market import NS_PER_S, Candle
from trading_agent.marketdata.history import from_ohlcv
from trading_agent.marketdata.trade_bars import BarBuilder, Trade
from trading_coinbase import schemas as w
from trading_coinbase.errors import CoinbaseError
from trading_coinbase.rest import RestClient
from trading_coinbase.translate import Granularity, parse_decimal, parse_rfc3339_ns
from trading_coinbase.translate import candles as rest_candles
from trading_coinbase.websocket import SequenceGap, Subscription, WebsocketFeed

__all__ = ["LiveCandles", "LiveTradeBars"]

log = logging.getLogger(__name__)

_BACKOFF_FIRST_S: Final = 0.5
_BACKOFF_MAX_S: Final = 10.0
_MAX_BACKFILL_BARS: Final = 300  # one REST call per product (the venue allows 350)


class LiveCandles:
    """Complete candles of `products`, history first, then as they complete."""

    def __init__(
        self,
        *,
        rest: RestClient,
        feed: WebsocketFeed,
        products: Sequence[str],
        granularity: Granularity,
        history_bars: int = 200,
    ) -> None:
        if not products:
            raise ValueError("LiveCandles needs at least one product")
        self._rest = rest
        self._feed = feed
        self._products = tuple(products)
        self._granularity = granularity
        self._history_bars = min(history_bars, _MAX_BACKFILL_BARS)
        self._last_start: dict[str, int] = {}  # newest start delivered, per product
        self._forming: dict[str, Candle] = {}

    def __aiter__(self) -> AsyncIterator[Candle]:
        return _reconnecting(self._session, "market data session")

    async def _session(self) -> AsyncIterator[Candle]:
        """One connection: per product, the first update says where the market is; what
        came before it (history, or what a drop missed) is backfilled over REST first.
        The market's own time is used, never ours: a replay may run faster than life."""
        subscription = Subscription(channel="candles", product_ids=self._products)
        self._forming.clear()
        synced: set[str] = set()
        async with contextlib.aclosing(self._feed.session([subscription])) as session:
            async for event in session:
                if isinstance(event, SequenceGap):
                    # Updates were lost: the forming candles may be wrong; REST knows.
                    log.warning("market data sequence gap: %s", event)
                    return
                if not isinstance(event, w.CandlesMessage):
                    continue
                for update in (c for e in event.events for c in e.candles):
                    if update.product_id in self._products and update.start.isdigit():
                        if update.product_id not in synced:
                            synced.add(update.product_id)
                            start_ns = int(update.start) * NS_PER_S
                            for candle in await self.backfill(update.product_id, start_ns):
                                yield candle
                        done = self._on_update(update)
                        if done is not None:
                            yield done

    async def backfill(self, product: str, before_ns: int) -> list[Candle]:
        """The complete candles before `before_ns` not yet delivered, oldest first."""
        step = self._granularity.seconds
        before_s = before_ns // NS_PER_S
        last = self._last_start.get(product)
        start_s = before_s - self._history_bars * step if last is None else last // NS_PER_S
        start_s = max(start_s, before_s - _MAX_BACKFILL_BARS * step)
        reply = await self._rest.get_candles(
            product, start_s=start_s, end_s=before_s, granularity=self._granularity
        )
        out = []
        for bar in rest_candles(reply):
            candle = from_ohlcv(product, step, bar)
            if candle.start_ns < before_ns and self.claim(candle):
                out.append(candle)
        return out

    def _on_update(self, update: w.WsCandle) -> Candle | None:
        """Track the forming candle; return the previous one once a later one starts."""
        product = update.product_id
        if product not in self._products or not update.start.isdigit():
            return None
        step = self._granularity.seconds
        candle = _candle(product, step, int(update.start) * NS_PER_S, update)
        forming = self._forming.get(product)
        if forming is None or candle.start_ns >= forming.start_ns:
            self._forming[product] = candle
        if forming is not None and candle.start_ns > forming.start_ns and self.claim(forming):
            return forming
        return None

    def claim(self, candle: Candle) -> bool:
        """True, and remembered, if no candle of its product at or after it went out."""
        last = self._last_start.get(candle.product_id)
        if last is not None and candle.start_ns <= last:
            return False
        self._last_start[candle.product_id] = candle.start_ns
        return True


def _candle(product: str, step_s: int, start_ns: int, bar: w.WsCandle) -> Candle:
    return Candle(
        product_id=product,
        start_ns=start_ns,
        granularity_s=step_s,
        open=parse_decimal(bar.open, "candle.open"),
        high=parse_decimal(bar.high, "candle.high"),
        low=parse_decimal(bar.low, "candle.low"),
        close=parse_decimal(bar.close, "candle.close"),
        volume=parse_decimal(bar.volume, "candle.volume"),
    )


class LiveTradeBars:
    """Complete candles of `granularity_s` built from the public `market_trades` channel.

    For bars the venue's candle channel does not offer (Coinbase's is five-minute): the
    trades of each product feed a `BarBuilder`, and a bar is complete when a trade of a
    later bucket arrives (a quiet minute has no bar: a visible gap, never a flat one).

    A session joins the stream mid-bucket, so the bucket of its first trade of each
    product may lack trades from before the subscribe: that bar comes from REST instead
    (when the venue has it), and so does every complete bar before it that was not yet
    delivered (warm-up history, or what a drop missed). Trades are deduplicated by id.
    """

    def __init__(
        self,
        *,
        rest: RestClient,
        feed: WebsocketFeed,
        products: Sequence[str],
        granularity: Granularity = Granularity.ONE_MINUTE,
        history_bars: int = 200,
    ) -> None:
        if not products:
            raise ValueError("LiveTradeBars needs at least one product")
        self._rest = rest
        self._feed = feed
        self._products = tuple(products)
        self._granularity = granularity
        self._history = LiveCandles(
            rest=rest, feed=feed, products=products, granularity=granularity,
            history_bars=history_bars,
        )  # fmt: skip  # its backfill and its "never twice" book-keeping
        self._builders: dict[str, BarBuilder] = {}
        self._joined: dict[str, int] = {}  # product -> start of the bucket joined mid-way

    def __aiter__(self) -> AsyncIterator[Candle]:
        return _reconnecting(self._session, "trade stream")

    async def _session(self) -> AsyncIterator[Candle]:
        step = self._granularity.seconds
        self._builders = {p: BarBuilder(p, step) for p in self._products}
        self._joined = {}
        subscription = Subscription(channel="market_trades", product_ids=self._products)
        async with contextlib.aclosing(self._feed.session([subscription])) as session:
            async for event in session:
                if isinstance(event, SequenceGap):
                    log.warning("trade stream sequence gap: %s", event)
                    return
                if not isinstance(event, w.MarketTradesMessage):
                    continue
                for trade in (t for e in event.events for t in e.trades):
                    if trade.product_id in self._builders:
                        for candle in await self._on_trade(_trade(trade)):
                            yield candle

    async def _on_trade(self, tick: Trade) -> list[Candle]:
        out: list[Candle] = []
        product, step_ns = tick.product_id, self._granularity.seconds * NS_PER_S
        if product not in self._joined:
            self._joined[product] = tick.ts_ns // step_ns * step_ns
            out += await self._history.backfill(product, self._joined[product])
        done = self._builders[product].add(tick)
        if done is not None and done.start_ns == self._joined[product]:
            # Joined mid-bucket: the venue's own candle for it, if it has one.
            out += await self._history.backfill(product, done.end_ns)
        elif done is not None and self._history.claim(done):
            out.append(done)
        return out


async def _reconnecting(
    session: Callable[[], AsyncIterator[Candle]], what: str
) -> AsyncIterator[Candle]:
    """Run `session` again and again, with capped backoff after each end or failure."""
    backoff = _BACKOFF_FIRST_S
    while True:
        try:
            async for candle in session():
                backoff = _BACKOFF_FIRST_S
                yield candle
        except CoinbaseError as exc:
            log.warning("%s ended (%s); reconnecting", what, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, _BACKOFF_MAX_S)


def _trade(trade: w.WsTrade) -> Trade:
    return Trade(
        product_id=trade.product_id,
        trade_id=trade.trade_id,
        price=parse_decimal(trade.price, "trade.price"),
        size=parse_decimal(trade.size, "trade.size"),
        ts_ns=parse_rfc3339_ns(trade.time, "trade.time"),
    )
