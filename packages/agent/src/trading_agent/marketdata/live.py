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
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Final

from trading_agent.domain.market import NS_PER_S, Candle
from trading_coinbase import schemas as w
from trading_coinbase.errors import CoinbaseError
from trading_coinbase.rest import RestClient
from trading_coinbase.translate import Granularity, parse_decimal
from trading_coinbase.translate import candles as rest_candles
from trading_coinbase.websocket import SequenceGap, Subscription, WebsocketFeed

__all__ = ["LiveCandles"]

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
        return self._candles()

    async def _candles(self) -> AsyncIterator[Candle]:
        backoff = _BACKOFF_FIRST_S
        while True:
            try:
                async for candle in self._session():
                    backoff = _BACKOFF_FIRST_S
                    yield candle
            except CoinbaseError as exc:
                log.warning("market data session ended (%s); reconnecting", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)

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
                            for candle in await self._backfill(update.product_id, start_ns):
                                yield candle
                        done = self._on_update(update)
                        if done is not None:
                            yield done

    async def _backfill(self, product: str, before_ns: int) -> list[Candle]:
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
            candle = _candle(product, step, bar.start_ns, bar)
            if candle.start_ns < before_ns and self._is_new(candle):
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
        if forming is not None and candle.start_ns > forming.start_ns and self._is_new(forming):
            return forming
        return None

    def _is_new(self, candle: Candle) -> bool:
        last = self._last_start.get(candle.product_id)
        if last is not None and candle.start_ns <= last:
            return False
        self._last_start[candle.product_id] = candle.start_ns
        return True


def _candle(product: str, step_s: int, start_ns: int, bar: object) -> Candle:
    def value(name: str) -> Decimal:
        raw = getattr(bar, name)
        return raw if isinstance(raw, Decimal) else parse_decimal(raw, f"candle.{name}")

    return Candle(
        product_id=product,
        start_ns=start_ns,
        granularity_s=step_s,
        open=value("open"),
        high=value("high"),
        low=value("low"),
        close=value("close"),
        volume=value("volume"),
    )
