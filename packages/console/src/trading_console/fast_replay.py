"""The backtest replay, per bar or skipping the bars on which nothing can happen.

`Replay` holds what both modes share: the engine, the in-process gate, the one clock,
the agent store, and `visit`, the one way a candle is processed (clock, venue and
gate sync, engine, orders). The per-bar mode (`trading_console.backtest`) visits every
candle in completion order. `FastReplay` visits, in the same order, only:

- the first candle of each product and every candle a strategy's plan names
  (`strategies.base.Planned`: the only bars on which it could signal);
- every candle while the gate has live orders or fills it has not synced: those bars
  feed the venue and the sync, which then say something;
- every candle of a product while `Engine.busy` there (an order in flight, an exit
  being worked, a cool-down, which counts candles), and the next candle of any product
  while `Engine.owes_equity` (a fill arrived after the engine's last candle).

Nothing else acts on a skipped candle: with no live order and every fill synced the
gate's bar says nothing, and what the engine does on a candle outside its strategies is
either named above or caught up (below).

What a skipped candle would have changed is applied before the next visit: the venue
is fed each product's latest complete candle (the clock moved to its end first, so the
gate's reference mids and their times are the per-bar ones; with no working order the
venue's state depends on the last bar only), and the engine gets `catch_up` (marks, and
the open trade's excursions). Regime and realized vol come precomputed
(`features.PrecomputedFeatures`). The result: the same agent.db events, the same
gate.db audit chain, the same trades (tests/test_fast_replay.py).

`equity_curve` gives both modes' per-bar equity curve after the run, from the closes
and the fills, so no mode values the book on every bar.
"""

import bisect
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt

import trading_contract as c
import trading_sim as sim
from trading_agent.domain.market import Candle
from trading_agent.engine import Engine
from trading_agent.marketdata.columns import columns_of
from trading_agent.marketdata.source import CandleOrderError
from trading_agent.store.event_store import EventStore
from trading_gate import InProcessGate, ReplayClock

__all__ = ["CompletionOrder", "FastReplay", "Replay", "completion_order", "equity_curve"]

Progress = Callable[[int, int], None]
FLUSH_EVERY: Final = 5_000
_NEVER: Final = 1 << 62
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class CompletionOrder:
    """`merge_by_completion`'s order as arrays: step k is bar `index[k]` of product
    `products[product[k]]`; `steps[p][i]` is the step of bar i of product p."""

    def __init__(self, series: Mapping[str, Sequence[Candle]]) -> None:
        self.products = sorted(series)
        ends = [columns_of(series[p]).end_ns for p in self.products]
        for p, e in zip(self.products, ends, strict=True):
            bad = np.flatnonzero(np.diff(e) <= 0)
            if len(bad):
                raise CandleOrderError(
                    f"candle {p} ending {int(e[bad[0] + 1])} arrives after {p} ending "
                    f"{int(e[bad[0]])}: an input stream is out of order"
                )
        all_ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
        codes = np.concatenate([np.full(len(e), j, dtype=np.int64) for j, e in enumerate(ends)])
        local = np.concatenate([np.arange(len(e), dtype=np.int64) for e in ends])
        order = np.lexsort((codes, all_ends))
        self.end_ns: IntArray = all_ends[order]
        self.product: IntArray = codes[order]
        self.index: IntArray = local[order]
        self.steps: list[IntArray] = []
        for j, e in enumerate(ends):
            at = np.empty(len(e), dtype=np.int64)
            at[self.index[self.product == j]] = np.flatnonzero(self.product == j)
            self.steps.append(at)

    def __len__(self) -> int:
        return len(self.end_ns)


def completion_order(series: Mapping[str, Sequence[Candle]]) -> CompletionOrder:
    """The completion order of `series` (end time, then product id).

    Raises:
        CandleOrderError: a product's candles do not end strictly later one by one.
    """
    return CompletionOrder(series)


def equity_curve(
    series: Mapping[str, Sequence[Candle]],
    fills: Sequence[tuple[int, c.Fill]],
    starting_cash_usd: Decimal,
    order: CompletionOrder | None = None,
) -> tuple[IntArray, FloatArray]:
    """(end_ns, equity) after every step of the completion order: cash plus holdings
    at each product's latest close, with the fills delivered up to that step.

    `fills` are (step, fill) as the replay delivered them; a fill seen twice counts
    once, as in `portfolio.apply_fill`. Cash and holdings are summed exactly (Decimal)
    per fill and are constant between fills, so only the valuation is float.
    """
    order = order or completion_order(series)
    n = len(order)
    steps, cash, held = _books_after_fills(fills, starting_cash_usd, order.products)
    # Which books hold at each step: those after the last fill delivered at or before
    # it (entry 0 is the start, at step -1).
    which = np.searchsorted(steps, np.arange(n), side="right") - 1
    equity = cash[which]
    for j, p in enumerate(order.products):
        size = held[j][which]
        if not size.any():
            continue
        closes = columns_of(series[p]).floats("close")
        latest = np.searchsorted(order.steps[j], np.arange(n), side="right") - 1
        # A holding implies its product has a close by then (fills follow a first bar).
        equity = equity + np.where(size != 0.0, size * closes[np.maximum(latest, 0)], 0.0)
    return order.end_ns.copy(), equity.astype(np.float64)


def _books_after_fills(
    fills: Sequence[tuple[int, c.Fill]], start: Decimal, products: Sequence[str]
) -> tuple[IntArray, FloatArray, list[FloatArray]]:
    seen: set[tuple[str, str]] = set()
    code = {p: j for j, p in enumerate(products)}
    cash, base = start, [Decimal(0)] * len(products)
    steps: list[int] = [-1]
    cash_after: list[float] = [float(start)]
    held_after: list[list[float]] = [[0.0] for _ in products]
    for step, fill in fills:
        key = (fill.product_id, fill.trade_id)
        if key in seen:
            continue
        seen.add(key)
        notional = fill.price * fill.size
        j = code[fill.product_id]
        if fill.side is c.Side.BUY:
            cash, base[j] = cash - notional - fill.fee, base[j] + fill.size
        else:
            cash, base[j] = cash + notional - fill.fee, base[j] - fill.size
        steps.append(step)
        cash_after.append(float(cash))
        for k, b in enumerate(base):
            held_after[k].append(float(b))
    return (
        np.array(steps, dtype=np.int64),
        np.array(cash_after, dtype=np.float64),
        [np.array(h, dtype=np.float64) for h in held_after],
    )


class Replay:
    """Engine, gate, clock and store wired together; `visit` processes one candle."""

    def __init__(
        self,
        engine: Engine,
        gate: InProcessGate,
        clock: ReplayClock,
        store: EventStore,
        series: Mapping[str, Sequence[Candle]],
    ) -> None:
        self.engine = engine
        self.gate = gate
        self.clock = clock
        self.store = store
        self.series = series
        self.step = 0  # the completion-order step being processed
        self.fills: list[tuple[int, c.Fill]] = []
        self.unsent = 0
        self.candles = 0
        self.orders = 0
        self.rejections: dict[str, int] = {}

    async def start(self) -> None:
        self.deliver(await self.gate.start())
        query = self.engine.limits_query(self.clock.now_ns())
        self.deliver(await self.gate.query(query))

    async def visit(self, candle: Candle, position: int) -> None:
        """Candle `position` of its product: the venue and the gate see it, then the
        engine, whose orders go out at once."""
        product = candle.product_id
        self.clock.advance(candle.end_ns)
        self.deliver(await self.gate.on_bar(bar_of(candle)))
        decided = self.engine.on_candle(candle)
        self.store.append(self.engine.drain_events())
        following = self.series[product]
        if decided and position + 1 < len(following):
            # Sent now, at this close; the first trade after it is the next bar's open.
            self.gate.on_open(product, following[position + 1].open)
            for order in decided:
                self.orders += 1
                self.deliver(await self.gate.place(order))
        elif decided:
            self.unsent += len(decided)  # decided on the last bar: no market left to fill them

    async def feed_venue(self, candle: Candle) -> None:
        """Only the venue and the gate see `candle` (the engine skips it)."""
        self.clock.advance(candle.end_ns)
        self.deliver(await self.gate.on_bar(bar_of(candle)))

    def deliver(self, messages: Sequence[c.GateMessage]) -> None:
        now = self.clock.now_ns()
        for message in messages:
            if isinstance(message, c.Decision) and isinstance(message.verdict, c.Rejected):
                code = message.verdict.code.value
                self.rejections[code] = self.rejections.get(code, 0) + 1
            elif isinstance(message, c.Fill):
                self.fills.append((self.step, message))
            self.engine.on_message(message, now)


class FastReplay(Replay):
    """The skipping replay; see the module docstring for which candles it visits."""

    def __init__(
        self,
        engine: Engine,
        gate: InProcessGate,
        clock: ReplayClock,
        store: EventStore,
        series: Mapping[str, Sequence[Candle]],
        *,
        candidates: Mapping[str, IntArray],
        order: CompletionOrder | None = None,
    ) -> None:
        super().__init__(engine, gate, clock, store, series)
        self.order = order or completion_order(series)
        self.visited = 0
        products = self.order.products
        self._candles = [columns_of(series[p]) for p in products]
        must = [self.order.steps[j][:1] for j in range(len(products))]
        must += [self.order.steps[j][candidates.get(p, _EMPTY)] for j, p in enumerate(products)]
        self._must: list[int] = np.unique(np.concatenate(must)).tolist()
        self._fed = [-1] * len(products)  # per product: the last bar the venue was fed
        self._told = [-1] * len(products)  # the last bar the engine saw or caught up on
        self._fills_at_bar = 0

    async def run(self, progress: Progress | None = None) -> None:
        total = len(self.order)
        k = self._must[0] if self._must else _NEVER
        while k < total:
            await self._visit_step(k)
            self.visited += 1
            if self.visited % FLUSH_EVERY == 0:
                self.store.flush()
                if progress is not None:
                    progress(k + 1, total)
            k = self._next_step(k)
        await self._catch_up(total)
        self.candles = total
        self.store.append(self.engine.drain_events())
        if progress is not None:
            progress(total, total)

    async def _visit_step(self, k: int) -> None:
        j, i = int(self.order.product[k]), int(self.order.index[k])
        await self._catch_up(k, visiting=j)
        self.step = k
        await self.visit(self._candles[j][i], i)
        self._fed[j] = self._told[j] = i
        self._fills_at_bar = self.gate.exchange.fill_count

    def _next_step(self, k: int) -> int:
        unsynced = self.gate.exchange.fill_count != self._fills_at_bar
        if self.engine.owes_equity or unsynced or self.gate.gate.has_live_orders:
            return k + 1
        nxt = _NEVER
        at = bisect.bisect_right(self._must, k)
        if at < len(self._must):
            nxt = self._must[at]
        for j, p in enumerate(self.order.products):
            following = self._told[j] + 1
            if following < len(self._candles[j]) and self.engine.busy(p):
                nxt = min(nxt, int(self.order.steps[j][following]))
        return nxt

    async def _catch_up(self, k: int, visiting: int = -1) -> None:
        """Before step k: the venue fed, and the engine told, what the skipped candles
        completing before step k would have done. The product `visiting` gets its
        candle k itself next, so the venue needs none of its earlier ones."""
        latest = [int(s.searchsorted(k)) - 1 for s in self.order.steps]
        behind = [
            (int(self.order.steps[j][i]), j, i)
            for j, i in enumerate(latest)
            if i > self._fed[j] and j != visiting
        ]
        for step, j, i in sorted(behind):
            self.step = step
            await self.feed_venue(self._candles[j][i])
            self._fed[j] = i
            self._fills_at_bar = self.gate.exchange.fill_count
        for j, i in enumerate(latest):
            first = self._told[j] + 1
            if i >= first:
                bars = self._candles[j]
                self.engine.catch_up(
                    self.order.products[j],
                    first_start_ns=int(bars.start_ns[first]),
                    low=bars.lowest("low", first, i + 1),
                    high=bars.highest("high", first, i + 1),
                    close=Decimal(bars.text("close", i)),
                )
                self._told[j] = i


_EMPTY: Final = np.zeros(0, dtype=np.int64)


def bar_of(candle: Candle) -> sim.Bar:
    """The venue's view of a candle."""
    return sim.Bar(
        product_id=candle.product_id,
        open_ns=candle.start_ns,
        close_ns=candle.end_ns,
        open=candle.open,
        high=candle.high,
        low=candle.low,
        close=candle.close,
        volume=candle.volume,
    )
