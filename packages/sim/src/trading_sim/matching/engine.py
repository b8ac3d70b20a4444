"""The matching engine as pure functions: (state, input) -> (new state, events).

The fill model is described in the package docstring; the state and how a fill
changes it are in `book.py`.
"""

import bisect
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Final, NamedTuple

import msgspec

from trading_sim.matching import accounts
from trading_sim.matching.book import VOLUME, EngineState, ProductBook, Traded, fill, put, spend
from trading_sim.matching.config import EngineConfig, ProductSpec
from trading_sim.matching.fees import FeeTier, tier_for
from trading_sim.matching.lifecycle import Trigger, apply
from trading_sim.matching.model import (
    TERMINAL,
    ZERO,
    Balance,
    Bar,
    CancelRejected,
    Liquidity,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderKind,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    Quote,
    Reason,
    Side,
    SimEvent,
    SimOrder,
    StopDirection,
    TimeInForce,
)
from trading_sim.matching.prices import (
    draw_slippage_bps,
    marketable,
    remaining_base,
    taker_price,
    touch,
)
from trading_sim.matching.rounding import floor_to, in_engine_context
from trading_sim.matching.validation import order_problem

_replace = msgspec.structs.replace

Events = tuple[SimEvent, ...]


@in_engine_context
def new_state(config: EngineConfig, balances: Mapping[str, Decimal]) -> EngineState:
    """An engine with no orders and no market yet, holding `balances`.

    Raises:
        ValueError: a negative starting balance.
    """
    if any(not (v.is_finite() and v >= 0) for v in balances.values()):
        raise ValueError("starting balances must be finite and not negative")
    return EngineState(config=config, balances=dict(balances))


@in_engine_context
def account_balances(state: EngineState) -> tuple[Balance, ...]:
    """Total and held amount of every currency the account has touched, by currency."""
    held = accounts.holds(state.working, state.config)
    names = sorted(set(state.balances) | set(held))
    return tuple(
        Balance(currency=c, total=state.balances.get(c, ZERO), hold=held.get(c, ZERO))
        for c in names
    )


# ---------------------------------------------------------------- submit


class _Plan(NamedTuple):
    take: Decimal  # base units filled as taker on arrival
    price: Decimal  # the taker price, when take > 0
    rest: bool  # the remainder joins the book
    kill: Reason | None  # otherwise the remainder is cancelled for this reason


_REST: Final = _Plan(take=ZERO, price=ZERO, rest=True, kill=None)


@in_engine_context
def submit(
    state: EngineState,
    order: SimOrder,
    now_ns: int,
    rng: random.Random,
    quote: Quote | None = None,
) -> tuple[EngineState, Events]:
    """The venue receives `order` at `now_ns`: it is rejected, or accepted and then
    filled at once as far as it is marketable, resting or cancelled for the rest.

    Raises:
        ValueError: the order is not NEW, its id is already working, or `quote` is
            for another product (caller bugs, not venue refusals).
    """
    _require_new(state, order, quote)
    spec = state.config.product(order.product_id)
    if spec is None:
        return _reject(state, order, Reason.INVALID_PRODUCT_ID, now_ns)
    problem = order_problem(order, spec, now_ns)
    if problem is not None:
        return _reject(state, order, problem, now_ns)
    tier, state = _tier(state, now_ns)
    accepted = apply(
        order,
        Trigger.ACCEPT,
        accepted_ns=now_ns,
        active_ns=now_ns,
        maker_rate=tier.maker_rate,
        taker_rate=tier.taker_rate,
    )
    plan = _plan(state, spec, accepted, quote, rng)
    if isinstance(plan, Reason):
        return _reject(state, order, plan, now_ns)
    after, events = _carry_out(state, spec, accepted, plan, now_ns)
    currencies = (spec.base_currency, spec.quote_currency)
    if not accounts.covered(
        after.balances, accounts.holds(after.working, state.config), currencies
    ):
        return _reject(state, order, Reason.INSUFFICIENT_FUND, now_ns)
    return after, events


def _require_new(state: EngineState, order: SimOrder, quote: Quote | None) -> None:
    fresh = order.status is OrderStatus.NEW and order.fill_count == 0 and order.filled_size == 0
    if not fresh or order.accepted_ns is not None:
        raise ValueError(f"{order.order_id}: submit takes a NEW, unfilled order")
    if any(w.order_id == order.order_id for w in state.working):
        raise ValueError(f"{order.order_id}: already working")
    if quote is not None and quote.product_id != order.product_id:
        raise ValueError(f"{order.order_id}: quote for {quote.product_id}")


def _reject(
    state: EngineState, order: SimOrder, reason: Reason, now_ns: int
) -> tuple[EngineState, Events]:
    rejected = apply(order, Trigger.REJECT, reason=reason.value)
    return state, (OrderRejected(ts_ns=now_ns, order=rejected),)


def _tier(state: EngineState, now_ns: int) -> tuple[FeeTier, EngineState]:
    start = now_ns - state.config.fees.window_ns
    traded, volume = state.traded, state.traded_volume
    expired = bisect.bisect_right(traded, start, key=_ts)  # fills at or before `start`
    if expired:
        for gone in traded[:expired]:
            volume = VOLUME.subtract(volume, gone.notional)
        traded = traded[expired:]
        state = _replace(state, traded=traded, traded_volume=volume)
    return tier_for(state.config.fees, VOLUME.add(state.config.prior_volume_quote, volume)), state


def _ts(traded: Traded) -> int:
    return traded.ts_ns


def _plan(
    state: EngineState,
    spec: ProductSpec,
    order: SimOrder,
    quote: Quote | None,
    rng: random.Random,
) -> _Plan | Reason:
    if order.kind is OrderKind.STOP_LIMIT:
        return _REST
    touch_prices = _touch(state, spec, quote)
    if touch_prices is None:
        # No market seen yet: a market order has nothing to take, a limit cannot cross.
        return Reason.INVALID_NO_LIQUIDITY if order.kind is OrderKind.MARKET else _passive(order)
    limit = order.limit_price
    if limit is not None and not marketable(order.side, limit, *touch_prices):
        return _passive(order)
    if order.post_only:
        # Coinbase rejects a crossing post-only order rather than repricing it.
        return Reason.INVALID_LIMIT_PRICE_POST_ONLY
    slippage = draw_slippage_bps(state.config, rng)
    price = taker_price(order.side, touch_prices, slippage, limit, spec)
    return _taker_plan(state, spec, order, price)


def _touch(
    state: EngineState, spec: ProductSpec, quote: Quote | None
) -> tuple[Decimal, Decimal] | None:
    if quote is not None:
        return quote.bid, quote.ask
    book = state.books.get(spec.product_id)
    return None if book is None else touch(book.bar.close, state.config.spread_bps, spec)


def _passive(order: SimOrder) -> _Plan:
    if order.tif is TimeInForce.FOK:
        return _Plan(take=ZERO, price=ZERO, rest=False, kill=Reason.FOK_NOT_FILLED)
    if order.tif is TimeInForce.IOC:
        return _Plan(take=ZERO, price=ZERO, rest=False, kill=Reason.IOC_REMAINDER)
    return _REST


def _taker_plan(
    state: EngineState, spec: ProductSpec, order: SimOrder, price: Decimal
) -> _Plan | Reason:
    wanted = remaining_base(order, price, spec)
    if wanted == 0:
        return Reason.SIZE_TOO_SMALL
    book = state.books.get(spec.product_id)
    take = min(wanted, ZERO if book is None else book.budget)
    if take == wanted:
        return _Plan(take=take, price=price, rest=False, kill=None)
    if order.tif is TimeInForce.FOK:
        return _Plan(take=ZERO, price=price, rest=False, kill=Reason.FOK_NOT_FILLED)
    if order.tif in (TimeInForce.GTC, TimeInForce.GTD):
        return _Plan(take=take, price=price, rest=True, kill=None)
    return _Plan(take=take, price=price, rest=False, kill=Reason.IOC_REMAINDER)


def _carry_out(
    state: EngineState, spec: ProductSpec, order: SimOrder, plan: _Plan, now_ns: int
) -> tuple[EngineState, Events]:
    events: list[SimEvent] = [OrderAccepted(ts_ns=now_ns, order=order)]
    if plan.take > 0:
        state, order, filled = fill(state, spec, order, plan.take, plan.price, now_ns)
        state = spend(state, spec.product_id, plan.take)
        events.append(filled)
    if order.status in TERMINAL:
        return state, tuple(events)
    if plan.rest:
        return _replace(state, working=(*state.working, order)), tuple(events)
    reason = (plan.kill or Reason.IOC_REMAINDER).value
    events.append(OrderCancelled(ts_ns=now_ns, order=apply(order, Trigger.CANCEL, reason=reason)))
    return state, tuple(events)


# ---------------------------------------------------------------- bars


@in_engine_context
def on_bar(state: EngineState, bar: Bar, rng: random.Random) -> tuple[EngineState, Events]:
    """A bar closes: expire GTD orders, fill resting limits it traded through as
    maker, fire stops it crossed, then make it the product's market.

    Raises:
        ValueError: the product is not listed, or the bar does not follow its last one.
    """
    spec = state.config.product(bar.product_id)
    if spec is None:
        raise ValueError(f"bar for unlisted product {bar.product_id}")
    last = state.books.get(bar.product_id)
    if last is not None and bar.open_ns <= last.bar.open_ns:
        raise ValueError(
            f"{bar.product_id}: bar at {bar.open_ns} does not follow {last.bar.open_ns}"
        )
    state, expired = expire(state, bar.end_ns)
    budget = floor_to(state.config.participation * bar.volume, spec.base_increment)
    state, budget, made = _make(state, spec, bar, budget)
    state, budget, stopped = _fire_stops(state, spec, bar, budget, rng)
    books = {**state.books, bar.product_id: ProductBook(bar=bar, budget=budget)}
    return _replace(state, books=books), expired + made + stopped


def _make(
    state: EngineState, spec: ProductSpec, bar: Bar, budget: Decimal
) -> tuple[EngineState, Decimal, Events]:
    events: list[SimEvent] = []
    for order in state.working:
        limit = _traded_through(order, bar)
        size = ZERO if limit is None else min(remaining_base(order, limit, spec), budget)
        if limit is None or size == 0:
            continue
        state, _, filled = fill(state, spec, order, size, limit, bar.end_ns, Liquidity.MAKER)
        budget -= size
        events.append(filled)
    return state, budget, tuple(events)


def _traded_through(order: SimOrder, bar: Bar) -> Decimal | None:
    """The limit of a resting order this bar traded strictly through; touching is no fill."""
    limit = order.limit_price
    resting = order.kind is OrderKind.LIMIT or order.triggered
    if limit is None or not resting or order.product_id != bar.product_id:
        return None
    if order.active_ns is None or order.active_ns > bar.open_ns:
        return None
    through = bar.low < limit if order.side is Side.BUY else bar.high > limit
    return limit if through else None


def _fire_stops(
    state: EngineState, spec: ProductSpec, bar: Bar, budget: Decimal, rng: random.Random
) -> tuple[EngineState, Decimal, Events]:
    events: list[SimEvent] = []
    for order in state.working:
        reference = _stop_reference(order, bar)
        if reference is None:
            continue
        # It rests from the next bar on; only its marketable part fills on this one.
        fired = _replace(order, triggered=True, active_ns=bar.end_ns)
        state = _replace(state, working=put(state.working, fired))
        events.append(OrderTriggered(ts_ns=bar.end_ns, order=fired))
        state, budget, taken = _take_on_trigger(state, spec, fired, reference, bar, budget, rng)
        events.extend(taken)
    return state, budget, tuple(events)


def _stop_reference(order: SimOrder, bar: Bar) -> Decimal | None:
    """The price at which this bar fires the stop (the open if it gapped past), or None."""
    stop = order.stop_price
    if order.kind is not OrderKind.STOP_LIMIT or order.triggered or stop is None:
        return None
    if order.product_id != bar.product_id:
        return None
    if order.accepted_ns is None or order.accepted_ns > bar.open_ns:
        return None
    if order.stop_direction is StopDirection.UP:
        return max(stop, bar.open) if bar.high >= stop else None
    return min(stop, bar.open) if bar.low <= stop else None


def _take_on_trigger(
    state: EngineState,
    spec: ProductSpec,
    order: SimOrder,
    reference: Decimal,
    bar: Bar,
    budget: Decimal,
    rng: random.Random,
) -> tuple[EngineState, Decimal, Events]:
    limit = order.limit_price
    touch_prices = touch(reference, state.config.spread_bps, spec)
    if limit is None or budget == 0 or not marketable(order.side, limit, *touch_prices):
        return state, budget, ()
    slippage = draw_slippage_bps(state.config, rng)
    price = taker_price(order.side, touch_prices, slippage, limit, spec)
    size = min(remaining_base(order, price, spec), budget)
    if size == 0:
        return state, budget, ()
    state, _, filled = fill(state, spec, order, size, price, bar.end_ns)
    return state, budget - size, (filled,)


# ---------------------------------------------------------------- cancel, expire


@in_engine_context
def cancel(state: EngineState, order_id: str, now_ns: int) -> tuple[EngineState, Events]:
    """Cancel a working order; an id the engine is not working gives `CancelRejected`."""
    for order in state.working:
        if order.order_id == order_id:
            cancelled = apply(order, Trigger.CANCEL, reason=Reason.USER_CANCELLED.value)
            working = tuple(w for w in state.working if w.order_id != order_id)
            return _replace(state, working=working), (
                OrderCancelled(ts_ns=now_ns, order=cancelled),
            )
    rejected = CancelRejected(
        ts_ns=now_ns, order_id=order_id, reason=Reason.UNKNOWN_CANCEL_ORDER.value
    )
    return state, (rejected,)


def expire(state: EngineState, now_ns: int) -> tuple[EngineState, Events]:
    """Expire every GTD order whose end time has come; each event is stamped at its end."""
    # Called before every venue action: when nothing is due (almost always), say so
    # without entering the Decimal context; int compares only, so no rounding is skipped.
    for order in state.working:
        if order.end_ns is not None and order.end_ns <= now_ns:
            return _expire(state, now_ns)
    return state, ()


@in_engine_context
def _expire(state: EngineState, now_ns: int) -> tuple[EngineState, Events]:
    events: list[SimEvent] = []
    working: list[SimOrder] = []
    for order in state.working:
        if order.end_ns is not None and order.end_ns <= now_ns:
            events.append(OrderExpired(ts_ns=order.end_ns, order=apply(order, Trigger.EXPIRE)))
        else:
            working.append(order)
    if not events:
        return state, ()
    return _replace(state, working=tuple(working)), tuple(events)
