"""Recorded candles as the venue's market, replayed on a fixed schedule.

Schedule. Bar i (a global index over laps) becomes the market at
`start_ns + (i - history_bars) * bar_ns` on the venue clock: bars 0..history_bars are
the market already at the start, so a client finds history to warm up on. The file
loops; each lap shifts its timestamps by the span replayed (last open - first open +
one step), as the gate's paper replay does, so bars stay in order forever. All products
share the index; each is cut to the shortest file so laps stay aligned. With
`align_to_start` the whole market timeline shifts so the bar current at the start ends
at the start.

Two timelines, on purpose. Market data (candle starts, public trade times) keeps the
recorded timeline (shifted per lap), because candles must keep
their real bucket boundaries at any replay speed. What the venue itself does (orders,
fills, frames, `GET /time`) is on the venue clock. The matching engine runs on the
venue clock too: `engine_bar` restamps bar i to span the step before it became the
market, so "an order working by the bar's open" means working before the bar arrived
(the fill model in `trading_sim.matching`). At real-time speed (`bar_ns` equal to the
granularity) with `align_to_start`, the two timelines coincide.

Pure: no clock is read here; times arrive as arguments.
"""

import bisect
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Final

import msgspec

from trading_sim.matching.model import Bar

__all__ = ["Bucket", "DayStats", "Replay", "ReplayError", "aggregate"]

_NS_PER_S: Final = 1_000_000_000
_DAY_NS: Final = 86_400 * _NS_PER_S


class ReplayError(ValueError):
    """Bars that cannot be replayed (too few, no close, gaps in the schedule's inputs)."""


class Bucket(msgspec.Struct, frozen=True, kw_only=True):
    """One candle of a chosen granularity, built from the replayed bars it covers."""

    start_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class DayStats(msgspec.Struct, frozen=True, kw_only=True):
    """The trailing 24 hours of market time up to the current bar (for tickers, products)."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def change_percent(self) -> Decimal:
        return (self.close - self.open) / self.open * 100


class Replay:
    """The schedule and the laps over a fixed set of bar series.

    Raises:
        ReplayError: no products, a series of fewer than two bars, a bar without a
            close, a non-positive step, or a history longer than the data allows.
    """

    def __init__(
        self,
        series: Mapping[str, Sequence[Bar]],
        *,
        start_ns: int,
        bar_ns: int,
        history_bars: int = 0,
        align_to_start: bool = False,
    ) -> None:
        if not series:
            raise ReplayError("a replay needs at least one product")
        if bar_ns <= 0 or history_bars < 0:
            raise ReplayError("bar_ns must be positive and history_bars not negative")
        length = min(len(bars) for bars in series.values())
        if length < 2:
            raise ReplayError("every product needs at least two bars (the step)")
        self._length = length
        self._bars = {p: tuple(bars[:length]) for p, bars in series.items()}
        self._opens = {p: [b.open_ns for b in bars] for p, bars in self._bars.items()}
        self._step_ns = {p: _step_ns(p, bars) for p, bars in self._bars.items()}
        self._span_ns = {
            p: bars[-1].open_ns - bars[0].open_ns + self._step_ns[p]
            for p, bars in self._bars.items()
        }
        self._start_ns = start_ns
        self._bar_ns = bar_ns
        self._history = history_bars
        self._shift_ns = 0
        if align_to_start:
            # The bar current at the start ends at the start: market time = venue time.
            first = next(iter(self._bars))
            self._shift_ns = start_ns - self.bar(first, history_bars).end_ns

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(self._bars)

    @property
    def start_ns(self) -> int:
        return self._start_ns

    @property
    def bar_ns(self) -> int:
        return self._bar_ns

    @property
    def history_bars(self) -> int:
        return self._history

    def granularity_s(self, product_id: str) -> int:
        """The recorded bar length of `product_id` in seconds."""
        return self._step_ns[product_id] // _NS_PER_S

    def due_index(self, now_ns: int) -> int:
        """The last bar that is the market at `now_ns` (-1 if none is yet)."""
        return max(-1, self._history + (now_ns - self._start_ns) // self._bar_ns)

    def arrival_ns(self, index: int) -> int:
        """When bar `index` becomes the market on the venue clock."""
        return self._start_ns + (index - self._history) * self._bar_ns

    def bar(self, product_id: str, index: int) -> Bar:
        """Bar `index` of `product_id` on the market timeline (lap shift applied)."""
        lap, position = divmod(index, self._length)
        shift = lap * self._span_ns[product_id] + self._shift_ns
        return _shifted(self._bars[product_id][position], shift)

    def engine_bar(self, product_id: str, index: int) -> Bar:
        """Bar `index` restamped onto the venue clock: the step up to its arrival."""
        recorded = self._bars[product_id][index % self._length]
        close_ns = self.arrival_ns(index)
        return msgspec.structs.replace(recorded, open_ns=close_ns - self._bar_ns, close_ns=close_ns)

    def market_time_ns(self, product_id: str, index: int) -> int | None:
        """The market timeline's "now" once bar `index` is the market: its end."""
        return None if index < 0 else self.bar(product_id, index).end_ns

    def visible(self, product_id: str, index: int, start_ns: int, end_ns: int) -> list[Bar]:
        """Bars opening in [start_ns, end_ns] (market time) among bars 0..index, oldest first.

        Never a bar past `index`: a client cannot see the replay's future.
        """
        return list(self._visible(product_id, index, start_ns, end_ns))

    def _visible(self, product_id: str, index: int, start_ns: int, end_ns: int) -> Iterator[Bar]:
        if index < 0 or end_ns < start_ns:
            return
        first = self._bars[product_id][0].open_ns + self._shift_ns
        span = self._span_ns[product_id]
        opens = self._opens[product_id]
        first_lap = max(0, (start_ns - first) // span)
        last_lap = min((end_ns - first) // span, index // self._length)
        for lap in range(first_lap, last_lap + 1):
            offset = lap * span + self._shift_ns
            lo = bisect.bisect_left(opens, start_ns - offset)
            hi = bisect.bisect_right(opens, end_ns - offset)
            for position in range(lo, hi):
                if lap * self._length + position > index:
                    return
                yield self.bar(product_id, lap * self._length + position)

    def day(self, product_id: str, index: int) -> DayStats | None:
        """Open, high, low, close and volume of the bars in the last 24 h up to `index`."""
        now_ns = self.market_time_ns(product_id, index)
        if now_ns is None:
            return None
        bars = self.visible(product_id, index, now_ns - _DAY_NS, now_ns)
        return DayStats(
            open=bars[0].open,
            high=max(b.high for b in bars),
            low=min(b.low for b in bars),
            close=bars[-1].close,
            volume=sum((b.volume for b in bars), Decimal(0)),
        )

    def recent(self, product_id: str, index: int, count: int) -> list[Bar]:
        """The last `count` bars up to `index`, oldest first."""
        low = max(0, index - count + 1)
        return [self.bar(product_id, i) for i in range(low, index + 1)]


def _step_ns(product_id: str, bars: Sequence[Bar]) -> int:
    if any(b.close_ns is None for b in bars):
        raise ReplayError(f"{product_id}: every bar needs a close (read with a granularity)")
    step = bars[0].end_ns - bars[0].open_ns
    if step <= 0 or step % _NS_PER_S:
        raise ReplayError(f"{product_id}: the bar length must be whole positive seconds")
    return step


def _shifted(bar: Bar, shift_ns: int) -> Bar:
    if not shift_ns:
        return bar
    close = None if bar.close_ns is None else bar.close_ns + shift_ns
    return msgspec.structs.replace(bar, open_ns=bar.open_ns + shift_ns, close_ns=close)


def aggregate(bars: Sequence[Bar], granularity_s: int) -> list[Bucket]:
    """`bars` (oldest first, each within one bucket) as candles of `granularity_s`.

    A bucket is aligned to a multiple of the granularity since the epoch; the forming
    bucket (not all its bars replayed yet) is included, as Coinbase may (§2.5).

    Raises:
        ValueError: a non-positive granularity.
    """
    if granularity_s <= 0:
        raise ValueError(f"granularity must be positive, got {granularity_s}")
    buckets: list[Bucket] = []
    for bar in bars:
        start_s = bar.open_ns // _NS_PER_S // granularity_s * granularity_s
        last = buckets[-1] if buckets else None
        if last is None or last.start_s != start_s:
            buckets.append(
                Bucket(
                    start_s=start_s,
                    open=bar.open,
                    high=bar.high,
                    low=bar.low,
                    close=bar.close,
                    volume=bar.volume,
                )
            )
            continue
        buckets[-1] = Bucket(
            start_s=start_s,
            open=last.open,
            high=max(last.high, bar.high),
            low=min(last.low, bar.low),
            close=bar.close,
            volume=last.volume + bar.volume,
        )
    return buckets
