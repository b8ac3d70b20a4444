"""The agent's loop as a story: a candle closes, the regime updates, strategies speak,
sizing makes orders; the gate answers, fills fold into the books.

`Engine` holds no socket, file or clock. Its two entry points are called by a shell:
the live and paper shell (`app.py`, over `gate_link`) and the backtest harness (in the
console, with the gate's policy core and the paper venue in the same process). Both
exchange the same contract messages, so a backtest runs exactly this code. Time is the
candle's: every decision is stamped with the close of the candle it was made on.

Books. The account `portfolio` is what the gate's fills say the agent owns. Each
strategy also keeps its own book of the same fills (`books`), so two strategies on
one product never sell each other's position, and each sees its own entry.

Rules the engine keeps whatever a strategy says:
- one order in flight per (strategy, product): a strategy that signals while its
  last order is unanswered is recorded as skipped, and so is one whose last order the
  gate refused less than `COOLDOWN_CANDLES` candles ago;
- an entry only when that strategy is flat there, and only while the gate is ACTIVE;
  an exit only of what that strategy holds, marked reduce-only, in any state but HALTED;
- every signal, skip, order, decision and fill becomes an `EngineEvent` for the store.
"""

import decimal
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Final

import msgspec

import trading_contract as c
from trading_agent.config import SizingParams
from trading_agent.domain.events import EngineEvent, EventBody
from trading_agent.domain.intents import Action, Signal
from trading_agent.domain.market import Candle
from trading_agent.domain.portfolio import Portfolio, apply_fill, mark, open_portfolio, position
from trading_agent.domain.regime import Regime, RegimeParams
from trading_agent.domain.sizing import size_entry
from trading_agent.domain.strategy_stats import StrategyTally, fold_trade, reported_stats
from trading_agent.domain.trades import EntryTag, TradeLog, on_candle, on_fill
from trading_agent.features import VOL_WINDOW_BARS, FeatureSource, IncrementalFeatures
from trading_agent.strategies.base import Strategy, StrategyContext

__all__ = [
    "VOL_WINDOW_BARS",
    "Confidence",
    "Engine",
    "EngineEvent",
    "ProductSpec",
    "StrategySlot",
]

_TERMINAL: Final = frozenset(
    {c.OrderStatus.FILLED, c.OrderStatus.CANCELLED, c.OrderStatus.REJECTED, c.OrderStatus.EXPIRED}
)
_SIGNAL_DIGITS: Final = Decimal("1e-12")
_SIGNAL_MAX: Final = 1e18
_SIGNAL_CONTEXT: Final = decimal.Context(prec=40)
LIMIT_MARGIN: Final = Decimal("0.9")
COOLDOWN_CANDLES: Final = 3
EQUITY_EVERY_NS: Final = 60 * 1_000_000_000
_ACCOUNT_NOTIONAL: Final = "account.max_order_notional_usd"
_NO_TRADES: Final = StrategyTally()

Confidence = Callable[[str, str, Regime], Decimal]
"""Loop 1's size multiplier for (strategy, product, regime); 1 until Loop 1 exists."""


def full_confidence(strategy_id: str, product_id: str, regime: Regime) -> Decimal:
    return Decimal(1)


class ProductSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue lists for a product, as far as sizing an order needs it."""

    product_id: str
    base_increment: Decimal
    min_size: Decimal


class StrategySlot(msgspec.Struct, frozen=True, kw_only=True):
    """One strategy running on one product, with how its entries are sized."""

    strategy: Strategy
    product_id: str
    sizing: SizingParams


class Engine:
    """The agent's state and decisions; the shell feeds it candles and gate messages."""

    def __init__(
        self,
        *,
        slots: Sequence[StrategySlot],
        specs: Mapping[str, ProductSpec],
        starting_cash_usd: Decimal,
        regime_params: RegimeParams | None = None,
        confidence: Confidence = full_confidence,
        features: FeatureSource | None = None,
        equity_every_ns: int | None = EQUITY_EVERY_NS,
    ) -> None:
        """`features` default to the incremental per-candle updates (every candle of a
        product must then be fed); a replay that skips candles passes precomputed ones.
        `equity_every_ns=None`: `equity` events only at the start and after fills (a
        backtest computes its per-bar curve afterwards from the closes and the fills)."""
        missing = sorted({s.product_id for s in slots} - set(specs))
        if missing:
            raise ValueError(f"no product spec for {', '.join(missing)}")
        ids = [(s.strategy.strategy_id, s.product_id) for s in slots]
        if len(set(ids)) != len(ids):
            raise ValueError("each (strategy, product) may run only once")
        self._slots: dict[str, list[StrategySlot]] = {}
        for slot in slots:
            self._slots.setdefault(slot.product_id, []).append(slot)
        self._specs = dict(specs)
        self._confidence = confidence
        self._features = features or IncrementalFeatures(list(specs), regime_params)
        self._vol: dict[str, float | None] = {}
        self._equity_every_ns = equity_every_ns
        self.portfolio: Portfolio = open_portfolio(starting_cash_usd)
        self.books: dict[str, Portfolio] = {
            s.strategy.strategy_id: open_portfolio(starting_cash_usd) for s in slots
        }
        self.trades = TradeLog()
        self.marks: dict[str, Decimal] = {}
        self.regimes: dict[str, Regime] = {}
        self.gate_state: c.TradingState = c.TradingState.REDUCING
        self._pending: dict[tuple[str, str], str] = {}  # (strategy, product) -> intent id
        self._intents: dict[str, tuple[str, str]] = {}  # intent id -> (strategy, product)
        self._tags: dict[str, EntryTag] = {}
        self._limits: tuple[c.LimitInForce, ...] = ()
        self._equity_at_ns: int | None = None
        self._filled_since_equity = False
        self._exiting: dict[tuple[str, str], Signal] = {}  # exits still being worked
        self._cooldown: dict[tuple[str, str], int] = {}  # candles to wait after a refusal
        self._requests = 0
        self._tallies: dict[str, StrategyTally] = {}  # closed-trade record per strategy
        self._events: list[EngineEvent] = []

    # ------------------------------------------------------------ candles

    def on_candle(self, candle: Candle) -> list[c.PlaceOrder]:
        """A complete candle: update, ask each strategy on its product, return the orders."""
        product = candle.product_id
        if product not in self._specs:
            raise ValueError(f"candle for {product}, which the engine does not trade")
        if self._equity_at_ns is None:
            self._record(
                candle.end_ns, "started", {"starting_cash_usd": self.portfolio.start_cash_usd}
            )
        self.marks[product] = candle.close
        regime, self._vol[product] = self._features.at(candle)
        self.regimes[product] = regime
        self.trades = on_candle(self.trades, candle)
        for key in [k for k in self._cooldown if k[1] == product]:
            self._cooldown[key] -= 1
            if self._cooldown[key] <= 0:
                del self._cooldown[key]
        orders = self._continue_exits(product, regime, candle.end_ns)
        for slot in self._slots.get(product, ()):
            sid = slot.strategy.strategy_id
            ctx = StrategyContext(
                candle=candle,
                position=position(self.books[sid], product),
                regime=regime,
                pending=(sid, product) in self._pending,
            )
            for signal in slot.strategy.on_candle(ctx):
                order = self._order_for(slot, signal, regime, candle.end_ns)
                if order is not None:
                    orders.append(order)
        self._record_equity(candle.end_ns)
        return orders

    def _order_for(
        self, slot: StrategySlot, signal: Signal, regime: Regime, now_ns: int
    ) -> c.PlaceOrder | None:
        sid, product = slot.strategy.strategy_id, slot.product_id
        self._record(now_ns, "signal", signal)
        held = position(self.books[sid], product).base_size
        why = self._refusal(sid, product, signal.action, held)
        if why is None and signal.action is Action.EXIT_LONG:
            self._exiting[(sid, product)] = signal
            return self._exit_chunk(slot, signal, regime, held, now_ns)
        if why is None:
            m = self._confidence(sid, product, regime)
            spec = self._specs[product]
            sizing = size_entry(
                signal,
                equity_usd=self.equity_usd(),
                cash_usd=self.portfolio.cash_usd,
                realized_vol=self._vol.get(product),
                params=slot.sizing,
                confidence=m,
                base_increment=spec.base_increment,
                min_size=spec.min_size,
            )
            size, why = sizing.size_base, sizing.reason
            if size is not None:
                size, why = self._within_limits(
                    product,
                    size,
                    signal.reference_price,
                    slot,
                    fixed=slot.sizing.fixed_size_base is not None,
                )
            if size is not None:
                return self._place(slot, signal, regime, c.Side.BUY, size, m, now_ns)
        self._record(
            now_ns,
            "skipped",
            {"strategy_id": sid, "product_id": product, "action": signal.action, "why": why},
        )
        return None

    def _exit_chunk(
        self, slot: StrategySlot, signal: Signal, regime: Regime, held: Decimal, now_ns: int
    ) -> c.PlaceOrder | None:
        """Sell what the strategy holds, or as much of it as one order may carry.

        An exit larger than the gate's order limits (a position that grew in value) goes
        out in pieces: the rest follows on later candles until the strategy is flat.
        """
        size, why = self._within_limits(
            slot.product_id, held, signal.reference_price, slot, fixed=False
        )
        if size is None:
            self._record(
                now_ns,
                "skipped",
                {"strategy_id": slot.strategy.strategy_id, "product_id": slot.product_id,
                 "action": signal.action, "why": why},
            )  # fmt: skip
            return None
        return self._place(slot, signal, regime, c.Side.SELL, size, Decimal(1), now_ns)

    def _continue_exits(self, product: str, regime: Regime, now_ns: int) -> list[c.PlaceOrder]:
        orders: list[c.PlaceOrder] = []
        for slot in self._slots.get(product, ()):
            key = (slot.strategy.strategy_id, product)
            signal = self._exiting.get(key)
            if signal is None or key in self._pending or key in self._cooldown:
                continue
            held = position(self.books[key[0]], product).base_size
            if held <= 0 or self.gate_state is c.TradingState.HALTED:
                if held <= 0:
                    del self._exiting[key]
                continue
            order = self._exit_chunk(slot, signal, regime, held, now_ns)
            if order is not None:
                orders.append(order)
        return orders

    def _within_limits(
        self, product: str, size: Decimal, price: Decimal, slot: StrategySlot, *, fixed: bool
    ) -> tuple[Decimal | None, str]:
        """The size cut to the gate's order limits (as last queried), or why none is left.

        The notional is checked at `LIMIT_MARGIN` of the limit: a market order is valued
        by the gate at the mid when it arrives, which may be above the close it was
        sized on. A fixed size (the reference strategy) is never cut, only refused.
        """
        caps = [
            lim
            for lim in self._limits
            if lim.product_id in (None, product)
            and lim.key in ("max_order_size_base", "max_order_notional_usd", _ACCOUNT_NOTIONAL)
        ]
        allowed = size
        for lim in caps:
            if lim.key == "max_order_size_base":
                allowed = min(allowed, lim.value)
            elif price > 0:
                allowed = min(allowed, lim.value * LIMIT_MARGIN / price)
        step = self._specs[product].base_increment
        allowed = (allowed // step) * step
        if allowed == size:
            return size, "within the gate's limits"
        if fixed:
            return None, f"the fixed size {size} is above the gate's order limits"
        if allowed < self._specs[product].min_size:
            return None, "the gate's order limits leave less than the minimum size"
        return allowed, f"cut from {size} to the gate's order limits"

    def _refusal(self, sid: str, product: str, action: Action, held: Decimal) -> str | None:
        """Why the engine will not act on this signal now, or None."""
        if (sid, product) in self._pending:
            return "an order of this strategy is in flight"
        cooling = self._cooldown.get((sid, product), 0)
        if cooling > 0:
            return f"cooling down after a refusal by the gate ({cooling} candles left)"
        if action is Action.EXIT_LONG:
            if held <= 0:
                return "nothing to exit"
            if self.gate_state is c.TradingState.HALTED:
                return "the gate is halted"
            return None
        if held > 0:
            return "already long"
        if self.gate_state is not c.TradingState.ACTIVE:
            return f"the gate is {self.gate_state.value}"
        return None

    def _place(
        self,
        slot: StrategySlot,
        signal: Signal,
        regime: Regime,
        side: c.Side,
        size: Decimal,
        confidence: Decimal,
        now_ns: int,
    ) -> c.PlaceOrder:
        sid, product = slot.strategy.strategy_id, slot.product_id
        self._requests += 1
        intent_id = f"{sid}:{product}:{now_ns // 1_000_000_000}:{self._requests}"
        order = c.PlaceOrder(
            request_id=c.RequestId(f"r{self._requests}"),
            intent_id=c.IntentId(intent_id),
            product_id=c.ProductId(product),
            side=side,
            order_type=c.OrderType.MARKET,
            size=size,
            size_in=c.SizeUnit.BASE,
            time_in_force=c.TimeInForce.IOC,
            reduce_only=side is c.Side.SELL,
            strategy_id=c.StrategyId(sid),
            reason=c.Reason(
                regime=regime.label,
                signals=_wire_values(signal.values),
                stats=reported_stats(self._tallies.get(sid, _NO_TRADES), confidence),
                note=signal.note[:500],
            ),
            sent_ns=now_ns,
        )
        self._pending[(sid, product)] = intent_id
        self._intents[intent_id] = (sid, product)
        if side is c.Side.BUY:
            risk = None if signal.stop_price is None else signal.reference_price - signal.stop_price
            self._tags[intent_id] = EntryTag(
                strategy_id=sid, risk_per_unit_usd=risk if risk is not None and risk > 0 else None
            )
        self._record(now_ns, "order", order)
        return order

    # ------------------------------------------------------------ skipped candles

    def busy(self, product: str) -> bool:
        """True while the engine's next candle of `product` may act whatever the strategies
        say: an order in flight, an exit still being worked, or a refusal's cool-down (which
        counts candles). A replay that skips candles must feed every one while busy."""
        return any(
            key[1] == product
            for keys in (self._pending, self._exiting, self._cooldown)
            for key in keys
        )

    @property
    def owes_equity(self) -> bool:
        """True after a fill until the next candle (of any product) records the `equity`
        event the fill is owed: a replay that skips candles must feed that one."""
        return self._filled_since_equity

    def catch_up(
        self, product: str, *, first_start_ns: int, low: Decimal, high: Decimal, close: Decimal
    ) -> None:
        """What candles of `product` the engine was not fed would have changed, in one call:
        the mark (the last one's close) and the open trade's excursions (their lowest low
        and highest high), exactly as feeding them one by one to `on_candle` would, for a
        replay that skipped them because nothing could happen on them.

        Raises:
            ValueError: `product` is not traded, the engine is busy there (those candles
                count and must be fed), or the skipped span starts before the open
                trade's entry (its first candles would not count; feed them instead).
        """
        if product not in self._specs:
            raise ValueError(f"catch-up for {product}, which the engine does not trade")
        if self.busy(product):
            raise ValueError(f"catch-up for {product} while an order or cool-down is live there")
        current = self.trades.open.get(product)
        if current is not None and first_start_ns < current.entry_ns:
            raise ValueError(
                f"catch-up for {product} from {first_start_ns}, before the open trade's entry "
                f"at {current.entry_ns}"
            )
        self.marks[product] = close
        # The skipped range as one candle: `on_candle` widens by its low and high only.
        span = Candle(
            product_id=product, start_ns=first_start_ns, granularity_s=1,
            open=close, high=high, low=low, close=close, volume=Decimal(0),
        )  # fmt: skip
        self.trades = on_candle(self.trades, span)

    # ------------------------------------------------------------ the gate

    def on_message(self, message: c.GateMessage, now_ns: int) -> None:
        """A message from the gate: a reply to our request, or something it pushed."""
        match message:
            case c.Decision(verdict=c.Rejected()):
                owner = self._intents.get(message.intent_id or "")
                if owner is not None:
                    # Not the same order again at once: the gate said no for a reason
                    # (and would call an identical resend a duplicate).
                    self._cooldown[owner] = COOLDOWN_CANDLES
                self._done(message.intent_id)
                self._record(now_ns, "rejected", message)
            case c.Decision():
                self._record(now_ns, "accepted", message)
            case c.OrderUpdate():
                self._record(now_ns, "order_update", message)
                if message.status in _TERMINAL:
                    self._done(message.intent_id)
            case c.Fill():
                self._on_fill(message, now_ns)
            case c.QueryReply(result=c.LimitsResult() as limits):
                self._limits = limits.limits
                self._record(now_ns, "limits", message)
            case c.GateState():
                self.gate_state = message.state
                self._record(now_ns, "gate_state", message)
            case _:
                self._record(now_ns, "gate_message", message)

    def _on_fill(self, fill: c.Fill, now_ns: int) -> None:
        owner = self._intents.get(fill.intent_id)
        self.portfolio = apply_fill(self.portfolio, fill)
        before = len(self.trades.closed)
        if owner is not None:
            sid, _ = owner
            self.books[sid] = apply_fill(self.books[sid], fill)
            self.trades = on_fill(self.trades, fill, self._tags)
        self._record(now_ns, "fill", fill)
        self._filled_since_equity = True
        for trade in self.trades.closed[before:]:
            self._tallies[trade.strategy_id] = fold_trade(
                self._tallies.get(trade.strategy_id, _NO_TRADES), trade
            )
            self._record(now_ns, "trade_closed", trade)

    def request_failed(self, order: c.PlaceOrder, why: str, now_ns: int) -> None:
        """The gate never answered `order`: free its slot so the strategy is not stuck.

        If the gate did take it, its updates and fills still arrive and are booked.
        """
        self._done(order.intent_id)
        self._record(now_ns, "request_failed", {"intent_id": order.intent_id, "why": why})

    def _done(self, intent_id: str | None) -> None:
        owner = self._intents.get(intent_id or "")
        if owner is not None and self._pending.get(owner) == intent_id:
            del self._pending[owner]

    # ------------------------------------------------------------ views

    def equity_usd(self) -> Decimal:
        """Cash plus every holding at its last close."""
        holdings = self.portfolio.holdings
        if not holdings:  # flat: most bars of most runs
            return self.portfolio.cash_usd
        return mark(self.portfolio, {p: self.marks[p] for p in holdings}).equity_usd

    @property
    def in_flight(self) -> int:
        """Orders sent and not yet done (filled, cancelled, expired or refused)."""
        return len(self._pending)

    def limits_query(self, now_ns: int) -> c.Query:
        """The query whose reply tells the engine the gate's order limits (send it first)."""
        self._requests += 1
        return c.Query(
            request_id=c.RequestId(f"r{self._requests}"), kind=c.QueryKind.LIMITS, sent_ns=now_ns
        )

    def _record_equity(self, now_ns: int) -> None:
        """An `equity` event (marked equity, cash, the marks) at most once per
        `equity_every_ns` of candle time (never by time if None), at the first candle and
        after every fill: the live equity curve."""
        every = self._equity_every_ns
        due = self._equity_at_ns is None or (
            every is not None and now_ns - self._equity_at_ns >= every
        )
        if not (due or self._filled_since_equity):
            return
        self._equity_at_ns, self._filled_since_equity = now_ns, False
        self._record(
            now_ns,
            "equity",
            {
                "equity_usd": self.equity_usd(),
                "cash_usd": self.portfolio.cash_usd,
                "marks": {p: self.marks[p] for p in sorted(self.marks)},
            },
        )

    def drain_events(self) -> list[EngineEvent]:
        """The events recorded since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def _record(self, ts_ns: int, kind: str, body: EventBody) -> None:
        self._events.append(EngineEvent(ts_ns=ts_ns, kind=kind, body=body))


def _wire_values(values: Mapping[str, float]) -> dict[str, Decimal]:
    """Signal values as the contract's bounded decimals, 12 places, sorted by name.

    Left out: non-finite values and magnitudes of 1e18 or more (the contract bounds a
    decimal's digits, and no indicator of ours is that large unless it is broken).
    """
    out: dict[str, Decimal] = {}
    for name, value in sorted(values.items())[: c.MAX_SIGNALS]:
        if math.isfinite(value) and abs(value) < _SIGNAL_MAX:
            out[name] = Decimal(repr(value)).quantize(_SIGNAL_DIGITS, context=_SIGNAL_CONTEXT)
    return out
