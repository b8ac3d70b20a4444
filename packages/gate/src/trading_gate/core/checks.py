"""One pure check per limit: `check_<limit>(order, ctx, config) -> Rejection | None`.

Every comparison is written positively ("allow only if 0 < value <= limit") and in
exact Decimal arithmetic without division, so NaN, rounding and a sign slip can only
deny. A check that lacks the data it needs denies too (a missing mid is a rejection,
never a pass). `policy.py` runs them in one fixed order.

What several checks derive from the order (its base size, notional, whether it reduces,
the worst-case position and gross exposure before and after it) is computed once per
decision by `order_terms` into a frozen `OrderTerms`, which `policy.decide` passes to
every check as `terms`. Called without it, a check computes the terms itself, so
`check_<limit>(order, ctx, config)` stays a complete pure function.
"""

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_CEILING, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Final, Protocol

import msgspec

from trading_contract import (
    OrderType,
    PlaceOrder,
    ProductId,
    RejectCode,
    Side,
    SizeUnit,
    TradingState,
)
from trading_gate.config import GateConfig
from trading_gate.core.context import CheckContext, LiveOrder, RecentOrder
from trading_gate.core.throttle import admit
from trading_gate.core.trading_state import Action, permits, reduces_position

# Inputs are bounded by the contract (60 digits); products and sums of them fit in 300
# digits, so any rounding at all would be a bug: Inexact traps it.
_EXACT: Final = Context(prec=300, traps=[InvalidOperation, Overflow, Inexact])
_CEILING: Final = Context(prec=60, rounding=ROUND_CEILING, traps=[InvalidOperation, Overflow])
_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
_TEN_THOUSAND: Final = Decimal(10_000)
# Bound once: these run in every decision.
_add: Final = _EXACT.add
_subtract: Final = _EXACT.subtract
_multiply: Final = _EXACT.multiply
_NS_PER_MS: Final = 1_000_000
_STATE_ALLOWS: Final = {
    TradingState.ACTIVE: "all orders are accepted",
    TradingState.REDUCING: "only position-reducing orders and cancels are accepted",
    TradingState.HALTED: "only cancels are accepted",
}
_NS_PER_S: Final = 1_000_000_000


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """Why an order is refused, which limit fired, and whether to latch a state."""

    code: RejectCode
    message: str
    fired_by: str  # the safety.yaml key path or the state that refused
    latch: TradingState | None = None


class OrderTerms(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the checks derive from one order in its context, computed once by
    `order_terms`. A value is None where it cannot be known: no size without a mid to
    value a quote-sized order, no USD figure without the mid."""

    mid: Decimal | None  # the product's reference mid, as the context holds it
    size_base: Decimal | None  # `base_size`
    notional_usd: Decimal | None  # `order_notional_usd`
    reduces: bool  # reduces the position, counting same-side live orders; never flips it
    # Worst-case |position| x mid of the order's product, without and with the order.
    position_before_usd: Decimal | None
    position_after_usd: Decimal | None
    # `gross_exposure_usd` without and with the order, and the first product (by id)
    # that has exposure with the order but no mid to value it.
    gross_before_usd: Decimal | None
    gross_after_usd: Decimal | None
    gross_unvalued: ProductId | None


Check = Callable[[PlaceOrder, CheckContext, GateConfig], "Rejection | None"]


class TermsCheck(Protocol):
    """A `Check` that also takes the order's terms; `policy.decide` computes them once
    and hands them to every check. Without them the check computes them itself."""

    def __call__(
        self,
        order: PlaceOrder,
        ctx: CheckContext,
        config: GateConfig,
        terms: "OrderTerms | None" = None,
        /,
    ) -> "Rejection | None": ...


def _mid(ctx: CheckContext, product_id: ProductId) -> Decimal | None:
    reference = ctx.mids.get(product_id)
    return None if reference is None else reference.mid


def base_size(order: PlaceOrder, ctx: CheckContext) -> Decimal | None:
    """The order's size in base units; for a quote-sized order, at the mid (None if no
    mid). Only this function divides, and only to value an order, never to compare."""
    if order.size_in is SizeUnit.BASE:
        return order.size
    mid = _mid(ctx, order.product_id)
    if mid is None or not mid > 0:
        return None
    # Rounded up, so a valuation can only overstate the order's size.
    return _CEILING.divide(order.size, mid)


def order_terms(order: PlaceOrder, ctx: CheckContext) -> OrderTerms:
    """The order's derived terms, with one pass over the live orders.

    Each figure is what `base_size`, `order_notional_usd` and `gross_exposure_usd` give,
    from the same exact operations on the same operands in the same order, so the values
    (exponents included) and the messages that show them do not change.
    """
    reference = ctx.mids.get(order.product_id)
    mid = None if reference is None else reference.mid
    notional = _notional_at(order, mid)
    if order.size_in is SizeUnit.BASE:
        return _sized_terms(order, ctx, mid, notional, order.size)
    if mid is None or not mid > 0:
        return OrderTerms(
            mid=mid,
            size_base=None,
            notional_usd=notional,
            reduces=False,
            position_before_usd=None,
            position_after_usd=None,
            gross_before_usd=None,
            gross_after_usd=None,
            gross_unvalued=None,
        )
    return _sized_terms(order, ctx, mid, notional, _CEILING.divide(order.size, mid))


def _sized_terms(
    order: PlaceOrder,
    ctx: CheckContext,
    mid: Decimal | None,
    notional: Decimal | None,
    size: Decimal,
) -> OrderTerms:
    product_id, side = order.product_id, order.side
    buys: dict[ProductId, Decimal] = {}
    sells: dict[ProductId, Decimal] = {}
    # Live orders on the same side already use up part of the position: a sell of 1
    # while long 1 with another sell of 1 working would flip the position when both fill.
    # (Summed with `+`, in the ambient context, as the reduce test always has.)
    working = _ZERO
    for live in ctx.live_orders:
        leg = buys if live.side is Side.BUY else sells
        live_id = live.product_id
        leg[live_id] = _add(leg.get(live_id, _ZERO), live.remaining_base)
        if live_id == product_id and live.side is side:
            working = _add(working, live.remaining_base)
    position = ctx.positions_base.get(product_id, _ZERO)
    available = _subtract(position, working) if position > 0 else _add(position, working)
    reduces = (position > 0) == (available > 0) and reduces_position(side, size, available)

    # The order's own product without and with it (as `_legs`, the new order last).
    bought, sold = buys.get(product_id, _ZERO), sells.get(product_id, _ZERO)
    before = _exposure_base(_add(position, bought), _subtract(position, sold))
    if side is Side.BUY:
        bought = _add(bought, size)
    else:
        sold = _add(sold, size)
    after = _exposure_base(_add(position, bought), _subtract(position, sold))
    own_before = own_after = None
    if mid is not None:  # the position check values both, zero or not
        own_before, own_after = _multiply(before, mid), _multiply(after, mid)
    gross_before, gross_after, unvalued = _gross_sums(
        ctx, buys, sells, product_id, (before, after), (own_before, own_after)
    )
    return OrderTerms(
        mid=mid,
        size_base=size,
        notional_usd=notional,
        reduces=reduces,
        position_before_usd=own_before,
        position_after_usd=own_after,
        gross_before_usd=gross_before,
        gross_after_usd=gross_after,
        gross_unvalued=unvalued,
    )


def _gross_sums(
    ctx: CheckContext,
    buys: dict[ProductId, Decimal],
    sells: dict[ProductId, Decimal],
    product_id: ProductId,
    own_exposure: tuple[Decimal, Decimal],
    own_value: tuple[Decimal | None, Decimal | None],
) -> tuple[Decimal, Decimal, ProductId | None]:
    """`gross_exposure_usd` without and with the order, and the after sum's unvalued
    product: products in id order, zero exposure skipped, each sum stopping at its
    first product with exposure but no mid. A product that only the new order trades
    has no exposure before it, so one product set serves both sums."""
    positions, mids = ctx.positions_base, ctx.mids
    total_before = total_after = _ZERO
    unvalued_before: ProductId | None = None
    unvalued_after: ProductId | None = None
    for other in sorted({*positions, *buys, *sells, product_id}):
        if other == product_id:
            (exposure_before, exposure_after), (value_before, value_after) = own_exposure, own_value
        else:
            legs = _legs_of(positions.get(other, _ZERO), buys.get(other), sells.get(other))
            exposure_before = exposure_after = _exposure_base(*legs)
            if not exposure_before:
                continue
            reference = mids.get(other)
            value_before = value_after = (
                None if reference is None else _multiply(exposure_before, reference.mid)
            )
        if exposure_before and unvalued_before is None:
            if value_before is None:
                unvalued_before = other
            else:
                total_before = _add(total_before, value_before)
        if exposure_after and unvalued_after is None:
            if value_after is None:
                unvalued_after = other
            else:
                total_after = _add(total_after, value_after)
    return total_before, total_after, unvalued_after


def _legs_of(
    position: Decimal, bought: Decimal | None, sold: Decimal | None
) -> tuple[Decimal, Decimal]:
    """`_legs` from the summed live buys and sells (None: no live order on that side)."""
    return (
        _add(position, _ZERO if bought is None else bought),
        _subtract(position, _ZERO if sold is None else sold),
    )


def check_order_values(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
) -> Rejection | None:
    """Every amount finite and above zero. The codec already refuses anything else; this
    is the gate's own guarantee, and the policy stops here if it fails, so no later
    check ever compares a NaN."""
    size, limit_price, stop_price = order.size, order.limit_price, order.stop_price
    if not (size.is_finite() and size > 0):
        return _not_positive("size", size)
    if limit_price is not None and not (limit_price.is_finite() and limit_price > 0):
        return _not_positive("limit_price", limit_price)
    if stop_price is not None and not (stop_price.is_finite() and stop_price > 0):
        return _not_positive("stop_price", stop_price)
    return None


def _not_positive(name: str, value: Decimal) -> Rejection:
    return Rejection(
        code=RejectCode.INVALID_ORDER,
        message=f"{name} must be a finite amount above zero, got {value}",
        fired_by=f"order.{name}",
    )


def check_product_rules(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """The venue's increments, minimum and maximum size, and status flags (a product
    whose rules are unknown does not trade)."""
    rules = ctx.product_rules.get(order.product_id)
    if rules is None:
        return _off_rules(order, f"the venue's rules for {order.product_id} are not known")
    if rules.trading_disabled or rules.cancel_only:
        return _off_rules(order, f"{order.product_id} is not trading (disabled or cancel-only)")
    if rules.limit_only and order.order_type is OrderType.MARKET:
        return _off_rules(order, f"{order.product_id} accepts limit orders only")
    if rules.post_only and not order.post_only:
        return _off_rules(order, f"{order.product_id} accepts post-only orders only")
    in_base = order.size_in is SizeUnit.BASE
    increment = rules.base_increment if in_base else rules.quote_increment
    if not _on_grid(order.size, increment):
        return _off_rules(order, f"size {order.size} is not a multiple of {increment}")
    step = rules.price_increment
    for name, value in (("limit_price", order.limit_price), ("stop_price", order.stop_price)):
        if value is not None and not _on_grid(value, step):
            return _off_rules(order, f"{name} {value} is not a multiple of {step}")
    if in_base and not rules.base_min_size <= order.size <= rules.base_max_size:
        return _off_rules(
            order, f"size {order.size} is outside {rules.base_min_size}..{rules.base_max_size}"
        )
    return None


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return step > 0 and _EXACT.remainder(value, step) == 0


def _off_rules(order: PlaceOrder, message: str) -> Rejection:
    return Rejection(
        code=RejectCode.OFF_INCREMENT, message=message, fired_by=f"venue.{order.product_id}"
    )


def check_trading_state(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """HALTED: cancels only. REDUCING: only orders that reduce the position."""
    reduces = (order_terms(order, ctx) if terms is None else terms).reduces
    action = Action.REDUCE_RISK if reduces else Action.INCREASE_RISK
    permission = permits(ctx.mode, action)
    if permission.allowed or permission.code is None:
        return None
    return Rejection(
        code=permission.code,
        message=f"the gate is {ctx.mode.state.value} ({ctx.mode.cause.value}): "
        f"{_STATE_ALLOWS[ctx.mode.state]}",
        fired_by="trading_state",
    )


def check_reduce_only(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """An order marked reduce-only must reduce the position without flipping it."""
    if not order.reduce_only or (order_terms(order, ctx) if terms is None else terms).reduces:
        return None
    return Rejection(
        code=RejectCode.INVALID_ORDER,
        message="reduce_only order would not reduce the position (or would flip it)",
        fired_by="order.reduce_only",
    )


def check_product_allowed(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Only products listed in safety.yaml trade."""
    if order.product_id in config.products:
        return None
    return Rejection(
        code=RejectCode.PRODUCT_NOT_ALLOWED,
        message=f"{order.product_id} is not in the allow-list "
        f"({', '.join(sorted(config.products))})",
        fired_by="products",
    )


def check_reference_price(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """A mid no older than reference_price.max_age_ms must exist (none or stale: deny)."""
    reference = ctx.mids.get(order.product_id)
    if reference is None or not reference.mid > 0:
        return Rejection(
            code=RejectCode.NO_REFERENCE_PRICE,
            message=f"no reference mid for {order.product_id}",
            fired_by="reference_price.max_age_ms",
        )
    age_ns = ctx.now_ns - reference.observed_ns
    limit_ns = config.reference_price.max_age_ms * _NS_PER_MS
    if 0 <= age_ns <= limit_ns:
        return None
    shown = "from the future" if age_ns < 0 else f"{age_ns / _NS_PER_MS:.0f} ms old"
    return Rejection(
        code=RejectCode.STALE_REFERENCE_PRICE,
        message=f"reference mid for {order.product_id} is {shown}; "
        f"the limit is {config.reference_price.max_age_ms} ms",
        fired_by="reference_price.max_age_ms",
    )


def check_order_size(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Base size at most products.<id>.max_order_size_base (quote sizes at the mid)."""
    limits = config.products.get(order.product_id)
    if limits is None:
        return None  # check_product_allowed has refused it
    cap = limits.max_order_size_base
    if order.size_in is SizeUnit.BASE:
        allowed = order.size <= cap
    else:
        mid = _mid(ctx, order.product_id) if terms is None else terms.mid
        # quote <= cap x mid, without dividing; no mid cannot be valued, so deny.
        allowed = mid is not None and order.size <= _multiply(cap, mid)
    if allowed:
        return None
    return Rejection(
        code=RejectCode.SIZE_LIMIT,
        message=f"order size {order.size} {order.size_in.value} exceeds "
        f"max_order_size_base {cap} for {order.product_id}",
        fired_by=f"products.{order.product_id}.max_order_size_base",
    )


def order_notional_usd(order: PlaceOrder, ctx: CheckContext) -> Decimal | None:
    """What the order is worth in USD: size x limit price, or x mid for a market order."""
    return _notional_at(order, _mid(ctx, order.product_id))


def _notional_at(order: PlaceOrder, mid: Decimal | None) -> Decimal | None:
    if order.size_in is SizeUnit.QUOTE:
        return order.size
    price = order.limit_price if order.limit_price is not None else mid
    return None if price is None else _multiply(order.size, price)


def check_notional(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Notional at most the product's and the account's max_order_notional_usd."""
    limits = config.products.get(order.product_id)
    if limits is None:
        return None
    notional = order_notional_usd(order, ctx) if terms is None else terms.notional_usd
    product_cap = limits.max_order_notional_usd
    if notional is None or not notional <= product_cap:
        key = f"products.{order.product_id}.max_order_notional_usd"
        return _over_notional(order, notional, product_cap, key)
    account_cap = config.account.max_order_notional_usd
    if not notional <= account_cap:
        return _over_notional(order, notional, account_cap, "account.max_order_notional_usd")
    return None


def _over_notional(
    order: PlaceOrder, notional: Decimal | None, cap: Decimal, key: str
) -> Rejection:
    shown = "cannot be valued without a mid" if notional is None else f"{notional} USD"
    return Rejection(
        code=RejectCode.NOTIONAL_LIMIT,
        message=f"notional {shown} exceeds {key.rsplit('.', 1)[1]} {cap} for {order.product_id}",
        fired_by=key,
    )


def check_price_collar(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Limit and stop prices within price_collar_bps of the mid: |px - mid| x 10^4 <= bps x mid."""
    limits = config.products.get(order.product_id)
    mid = _mid(ctx, order.product_id) if terms is None else terms.mid
    if limits is None or mid is None:
        return None  # refused by the allow-list or the reference-price check
    limit_price, stop_price = order.limit_price, order.stop_price
    if limit_price is None and stop_price is None:
        return None
    reach = _multiply(Decimal(limits.price_collar_bps), mid)
    for name, price in (("limit_price", limit_price), ("stop_price", stop_price)):
        if price is None:
            continue
        distance = _subtract(price, mid).copy_abs()
        if not _multiply(distance, _TEN_THOUSAND) <= reach:
            return Rejection(
                code=RejectCode.PRICE_COLLAR,
                message=f"{name} {price} is more than {limits.price_collar_bps} bps "
                f"from the mid {mid}",
                fired_by=f"products.{order.product_id}.price_collar_bps",
            )
    return None


def _legs(
    product_id: ProductId, position: Decimal, live: Iterable[LiveOrder]
) -> tuple[Decimal, Decimal]:
    """Worst-case long and short positions if every live buy, or every live sell, fills."""
    buys = sells = _ZERO
    for o in live:
        if o.product_id != product_id:
            continue
        if o.side is Side.BUY:
            buys = _add(buys, o.remaining_base)
        else:
            sells = _add(sells, o.remaining_base)
    return _add(position, buys), _subtract(position, sells)


def _exposure_base(long: Decimal, short: Decimal) -> Decimal:
    return max(long.copy_abs(), short.copy_abs())


def check_position(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Worst-case |position| x mid, counting live and unresolved orders, at most
    max_position_usd, unless the order lowers it (a reducing order always passes)."""
    limits = config.products.get(order.product_id)
    if limits is None:
        return None  # refused by the allow-list
    if terms is None:
        terms = order_terms(order, ctx)
    before, after = terms.position_before_usd, terms.position_after_usd
    if before is None or after is None:
        return None  # no mid (or no size without one): refused by the reference price
    if after <= limits.max_position_usd or after <= before:
        return None
    return Rejection(
        code=RejectCode.POSITION_LIMIT,
        message=f"worst-case {order.product_id} position {after} USD would exceed "
        f"max_position_usd {limits.max_position_usd}",
        fired_by=f"products.{order.product_id}.max_position_usd",
    )


def gross_exposure_usd(
    ctx: CheckContext, live: tuple[LiveOrder, ...]
) -> tuple[Decimal, ProductId | None]:
    """Sum of worst-case |position| x mid over products, and a product that has exposure
    but no mid to value it (the check then denies). A decision takes both sums, without
    and with the order, from `order_terms`."""
    products = set(ctx.positions_base) | {o.product_id for o in live}
    total = _ZERO
    for product_id in sorted(products):
        legs = _legs(product_id, ctx.positions_base.get(product_id, _ZERO), live)
        exposure = _exposure_base(*legs)
        if not exposure:
            continue
        mid = _mid(ctx, product_id)
        if mid is None:
            return total, product_id
        total = _add(total, _multiply(exposure, mid))
    return total, None


def check_gross_exposure(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Gross worst-case exposure over all products at most account.max_gross_exposure_usd,
    unless the order lowers it."""
    if terms is None:
        terms = order_terms(order, ctx)
    before, after = terms.gross_before_usd, terms.gross_after_usd
    if before is None or after is None:
        return None  # a quote-sized order without a mid: refused by the reference price
    unvalued = terms.gross_unvalued
    if unvalued is not None:
        return Rejection(
            code=RejectCode.NO_REFERENCE_PRICE,
            message=f"gross exposure cannot be valued: no mid for {unvalued}",
            fired_by="account.max_gross_exposure_usd",
        )
    cap = config.account.max_gross_exposure_usd
    if after <= cap or after <= before:
        return None
    return Rejection(
        code=RejectCode.EXPOSURE_LIMIT,
        message=f"worst-case gross exposure {after} USD would exceed max_gross_exposure_usd {cap}",
        fired_by="account.max_gross_exposure_usd",
    )


def check_open_orders(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """Live orders (unresolved ones included) plus this one at most max_open_orders."""
    cap = config.account.max_open_orders
    if len(ctx.live_orders) + 1 <= cap:
        return None
    return Rejection(
        code=RejectCode.OPEN_ORDERS_LIMIT,
        message=f"{len(ctx.live_orders)} orders are live; max_open_orders is {cap}",
        fired_by="account.max_open_orders",
    )


def check_order_rate(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """At most throttles.orders.max_per_window orders in any window (the next is denied).

    This only asks; policy.py commits the window state when the whole decision approves.
    """
    admitted, _ = admit(ctx.order_window, ctx.order_window_now_ns)
    if admitted:
        return None
    throttle = config.throttles.orders
    return Rejection(
        code=RejectCode.ORDER_RATE_LIMIT,
        message=f"more than {throttle.max_per_window} orders in {throttle.window_ms} ms",
        fired_by="throttles.orders.max_per_window",
    )


def check_daily_loss(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """A loss since 00:00 UTC reaching daily_loss_limit_usd denies and latches HALTED."""
    account = ctx.account
    loss = _EXACT.subtract(account.day_start_equity_usd, account.equity_usd)
    cap = config.account.daily_loss_limit_usd
    if loss < cap:
        return None
    return Rejection(
        code=RejectCode.DAILY_LOSS_LIMIT,
        message=f"loss today {loss} USD has reached daily_loss_limit_usd {cap}",
        fired_by="account.daily_loss_limit_usd",
        latch=TradingState.HALTED,
    )


def check_drawdown(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """A fall from the equity peak reaching max_drawdown_pct denies and latches HALTED:
    (peak - equity) x 100 >= pct x peak. A peak that is not positive denies."""
    account = ctx.account
    pct = config.account.max_drawdown_pct
    fall = _EXACT.subtract(account.equity_peak_usd, account.equity_usd)
    if account.equity_peak_usd > 0 and _multiply(fall, _HUNDRED) < _multiply(
        pct, account.equity_peak_usd
    ):
        return None
    return Rejection(
        code=RejectCode.DRAWDOWN_LIMIT,
        message=f"equity {account.equity_usd} USD is {fall} below its peak "
        f"{account.equity_peak_usd}; max_drawdown_pct is {pct}",
        fired_by="account.max_drawdown_pct",
        latch=TradingState.HALTED,
    )


def check_duplicate(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig, terms: OrderTerms | None = None
) -> Rejection | None:
    """The same product, side, size and price as an order accepted within
    duplicate_intent_window_s is denied (a new intent id does not make it new)."""
    window_ns = config.duplicate_intent_window_s * _NS_PER_S
    for recent in _within(ctx.recent_orders, ctx.now_ns, window_ns):
        same = (
            recent.product_id == order.product_id
            and recent.side is order.side
            and recent.size == order.size
            and recent.limit_price == order.limit_price
        )
        if same:
            return Rejection(
                code=RejectCode.DUPLICATE_INTENT,
                message=f"the same {order.side.value} {order.size} {order.product_id} "
                f"was accepted {(ctx.now_ns - recent.accepted_ns) / _NS_PER_S:.1f} s ago",
                fired_by="duplicate_intent_window_s",
            )
    return None


def _within(recent: tuple[RecentOrder, ...], now_ns: int, window_ns: int) -> Sequence[RecentOrder]:
    """The orders with 0 <= now_ns - accepted_ns < window_ns, in their given order.

    The window first: int compares rule out most of the 256 kept orders before any
    Decimal is compared. The gate keeps them in acceptance order, so the times are
    usually sorted and the window is one slice found by bisection; a clock that went
    back gets the full scan.
    """
    times = [r.accepted_ns for r in recent]
    if times == sorted(times):
        # now - window < t <= now, a contiguous run of sorted times.
        return recent[bisect_right(times, now_ns - window_ns) : bisect_right(times, now_ns)]
    return [r for r in recent if 0 <= now_ns - r.accepted_ns < window_ns]
