"""Candles built from a stream of trades, as the live feed needs for 1-minute bars.

One bucket is open at a time: the bucket of the newest trade. A trade in a later
bucket completes the open one; so does `close_until(now_ns)` once the clock passes its
end, so a quiet market still gets its bar on time. A bucket with no trades yields no
candle: the series shows a gap, never an invented flat bar.

A trade is never merged into a bar that is already out. Anything older than the open
bucket (or than the bucket of the last `close_until`) is *late*: refused and counted
in `stats`, so the shell can report a feed delivering out of order. Trades repeated by
the venue (same `trade_id`, e.g. after a reconnect) are dropped and counted too.

Within a bucket, open and close are the earliest and latest trade by `ts_ns`; trades
with equal times keep their arrival order.
"""

from decimal import Decimal
from typing import Final

import msgspec

from trading_agent.domain.market import NS_PER_S, Candle

__all__ = ["BarBuilder", "BarStats", "Trade"]


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    """One public trade (a match) of one product, at the venue's time `ts_ns`."""

    product_id: str
    trade_id: str
    price: Decimal
    size: Decimal
    ts_ns: int

    def __post_init__(self) -> None:
        if not (self.price.is_finite() and self.price > 0):
            raise ValueError(f"trade {self.trade_id}: price must be positive, got {self.price}")
        if not (self.size.is_finite() and self.size > 0):
            raise ValueError(f"trade {self.trade_id}: size must be positive, got {self.size}")


class BarStats(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to the trades fed in so far."""

    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    late_volume: Decimal = Decimal(0)


class _Bucket:
    __slots__ = ("close", "close_ts", "high", "low", "open", "open_ts", "start_ns", "volume")

    def __init__(self, start_ns: int, trade: Trade) -> None:
        self.start_ns = start_ns
        self.open = self.high = self.low = self.close = trade.price
        self.open_ts = self.close_ts = trade.ts_ns
        self.volume = trade.size

    def add(self, trade: Trade) -> None:
        price = trade.price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += trade.size
        if trade.ts_ns < self.open_ts:
            self.open, self.open_ts = price, trade.ts_ns
        if trade.ts_ns >= self.close_ts:
            self.close, self.close_ts = price, trade.ts_ns


class BarBuilder:
    """Trades of one product in, complete candles of `granularity_s` seconds out.

    `dedupe_buckets` is how many closed buckets keep their trade ids for
    de-duplication; a repeat older than that is refused as late anyway.
    """

    def __init__(self, product_id: str, granularity_s: int = 60, *, dedupe_buckets: int = 2):
        if granularity_s <= 0:
            raise ValueError(f"granularity_s must be positive, got {granularity_s}")
        if dedupe_buckets < 0:
            raise ValueError(f"dedupe_buckets must not be negative, got {dedupe_buckets}")
        self.product_id: Final = product_id
        self.granularity_s: Final = granularity_s
        self._step_ns: Final = granularity_s * NS_PER_S
        self._keep_ns: Final = dedupe_buckets * self._step_ns
        self._open: _Bucket | None = None
        # Trades before this time belong to buckets that are closed (emitted or empty).
        self._watermark_ns: int | None = None
        self._seen: dict[str, int] = {}  # trade_id -> its bucket start
        self._stats = BarStats()

    @property
    def stats(self) -> BarStats:
        return self._stats

    @property
    def open_bucket_start_ns(self) -> int | None:
        return None if self._open is None else self._open.start_ns

    def add(self, trade: Trade) -> Candle | None:
        """Take one trade; return the candle it completes, if it opens a later bucket.

        Raises:
            ValueError: the trade is of another product.
        """
        if trade.product_id != self.product_id:
            raise ValueError(f"trade {trade.trade_id} is {trade.product_id}, not {self.product_id}")
        if trade.trade_id in self._seen:
            self._count(duplicates=1)
            return None
        if self._watermark_ns is not None and trade.ts_ns < self._watermark_ns:
            s = self._stats
            self._stats = msgspec.structs.replace(
                s, late=s.late + 1, late_volume=s.late_volume + trade.size
            )
            return None
        start_ns = trade.ts_ns // self._step_ns * self._step_ns
        self._seen[trade.trade_id] = start_ns
        self._count(accepted=1)
        if self._open is not None and self._open.start_ns == start_ns:
            self._open.add(trade)
            return None
        done = self._close_open()
        self._open = _Bucket(start_ns, trade)
        self._advance(start_ns)
        return done

    def close_until(self, now_ns: int) -> Candle | None:
        """The open bucket's candle if it ends at or before `now_ns`; after this, trades
        older than the bucket holding `now_ns` are late.
        """
        self._advance(now_ns // self._step_ns * self._step_ns)
        if self._open is None or self._open.start_ns + self._step_ns > now_ns:
            return None
        return self._close_open()

    def _close_open(self) -> Candle | None:
        b, self._open = self._open, None
        if b is None:
            return None
        return Candle(
            product_id=self.product_id,
            start_ns=b.start_ns,
            granularity_s=self.granularity_s,
            open=b.open,
            high=b.high,
            low=b.low,
            close=b.close,
            volume=b.volume,
        )

    def _advance(self, watermark_ns: int) -> None:
        if self._watermark_ns is not None and watermark_ns <= self._watermark_ns:
            return
        self._watermark_ns = watermark_ns
        horizon = watermark_ns - self._keep_ns
        self._seen = {tid: start for tid, start in self._seen.items() if start >= horizon}

    def _count(self, *, accepted: int = 0, duplicates: int = 0) -> None:
        s = self._stats
        self._stats = msgspec.structs.replace(
            s, accepted=s.accepted + accepted, duplicates=s.duplicates + duplicates
        )
