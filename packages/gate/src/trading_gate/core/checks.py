"""One pure check per limit: `check_<limit>(order, ctx, config) -> Rejection | None`.

Every comparison is written positively ("allow only if 0 < value <= limit") and in
exact Decimal arithmetic without division, so NaN, rounding and a sign slip can only
deny. A check that lacks the data it needs denies too (a missing mid is a rejection,
never a pass). `policy.py` runs them in one fixed order.
"""

from collections.abc import Callable, Iterable
from decimal import ROUND_CEILING, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Final

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
from trading_gate.core.context import CheckContext, LiveOrder
from trading_gate.core.throttle import admit
from trading_gate.core.trading_state import Action, permits, reduces_position

# Inputs are bounded by the contract (60 digits); products and sums of them fit in 300
# digits, so any rounding at all would be a bug: Inexact traps it.
_EXACT: Final = Context(prec=300, traps=[InvalidOperation, Overflow, Inexact])
_CEILING: Final = Context(prec=60, rounding=ROUND_CEILING, traps=[InvalidOperation, Overflow])
_ZERO: Final = Decimal(0)
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


Check = Callable[[PlaceOrder, CheckContext, GateConfig], "Rejection | None"]


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


def _position(order: PlaceOrder, ctx: CheckContext) -> Decimal:
    return ctx.positions_base.get(order.product_id, _ZERO)


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


def _reduces(order: PlaceOrder, ctx: CheckContext) -> bool:
    size = base_size(order, ctx)
    if size is None:
        return False
    # Live orders on the same side already use up part of the position: a sell of 1
    # while long 1 with another sell of 1 working would flip the position when both fill.
    working = sum((o.remaining_base for o in ctx.live_orders if _same_leg(o, order)), start=_ZERO)
    position = _position(order, ctx)
    available = (
        _EXACT.subtract(position, working) if position > 0 else _EXACT.add(position, working)
    )
    if (position > 0) != (available > 0):
        return False
    return reduces_position(order.side, size, available)


def _same_leg(live: LiveOrder, order: PlaceOrder) -> bool:
    return live.product_id == order.product_id and live.side is order.side


def check_order_values(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
) -> Rejection | None:
    """Every amount finite and above zero. The codec already refuses anything else; this
    is the gate's own guarantee, and the policy stops here if it fails, so no later
    check ever compares a NaN."""
    for name, value in (
        ("size", order.size),
        ("limit_price", order.limit_price),
        ("stop_price", order.stop_price),
    ):
        if value is not None and not (value.is_finite() and value > 0):
            return Rejection(
                code=RejectCode.INVALID_ORDER,
                message=f"{name} must be a finite amount above zero, got {value}",
                fired_by=f"order.{name}",
            )
    return None


def check_product_rules(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
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
    increment = rules.base_increment if order.size_in is SizeUnit.BASE else rules.quote_increment
    for name, value, step in (
        ("size", order.size, increment),
        ("limit_price", order.limit_price, rules.price_increment),
        ("stop_price", order.stop_price, rules.price_increment),
    ):
        if value is not None and not _on_grid(value, step):
            return _off_rules(order, f"{name} {value} is not a multiple of {step}")
    if (
        order.size_in is SizeUnit.BASE
        and not rules.base_min_size <= order.size <= rules.base_max_size
    ):
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
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
) -> Rejection | None:
    """HALTED: cancels only. REDUCING: only orders that reduce the position."""
    action = Action.REDUCE_RISK if _reduces(order, ctx) else Action.INCREASE_RISK
    permission = permits(ctx.mode, action)
    if permission.allowed or permission.code is None:
        return None
    return Rejection(
        code=permission.code,
        message=f"the gate is {ctx.mode.state.value} ({ctx.mode.cause.value}): "
        f"{_STATE_ALLOWS[ctx.mode.state]}",
        fired_by="trading_state",
    )


def check_reduce_only(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """An order marked reduce-only must reduce the position without flipping it."""
    if not order.reduce_only or _reduces(order, ctx):
        return None
    return Rejection(
        code=RejectCode.INVALID_ORDER,
        message="reduce_only order would not reduce the position (or would flip it)",
        fired_by="order.reduce_only",
    )


def check_product_allowed(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
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
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
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


def check_order_size(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """Base size at most products.<id>.max_order_size_base (quote sizes at the mid)."""
    limits = config.products.get(order.product_id)
    if limits is None:
        return None  # check_product_allowed has refused it
    cap = limits.max_order_size_base
    if order.size_in is SizeUnit.BASE:
        allowed = order.size <= cap
    else:
        mid = _mid(ctx, order.product_id)
        # quote <= cap x mid, without dividing; no mid cannot be valued, so deny.
        allowed = mid is not None and order.size <= _mul(cap, mid)
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
    if order.size_in is SizeUnit.QUOTE:
        return order.size
    price = order.limit_price if order.limit_price is not None else _mid(ctx, order.product_id)
    return None if price is None else _mul(order.size, price)


def check_notional(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """Notional at most the product's and the account's max_order_notional_usd."""
    limits = config.products.get(order.product_id)
    if limits is None:
        return None
    notional = order_notional_usd(order, ctx)
    for cap, key in (
        (limits.max_order_notional_usd, f"products.{order.product_id}.max_order_notional_usd"),
        (config.account.max_order_notional_usd, "account.max_order_notional_usd"),
    ):
        if notional is None or not notional <= cap:
            shown = "cannot be valued without a mid" if notional is None else f"{notional} USD"
            return Rejection(
                code=RejectCode.NOTIONAL_LIMIT,
                message=f"notional {shown} exceeds {key.rsplit('.', 1)[1]} {cap} "
                f"for {order.product_id}",
                fired_by=key,
            )
    return None


def check_price_collar(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
) -> Rejection | None:
    """Limit and stop prices within price_collar_bps of the mid: |px - mid| x 10^4 <= bps x mid."""
    limits = config.products.get(order.product_id)
    mid = _mid(ctx, order.product_id)
    if limits is None or mid is None:
        return None  # refused by the allow-list or the reference-price check
    for name, price in (("limit_price", order.limit_price), ("stop_price", order.stop_price)):
        if price is None:
            continue
        distance = abs(_EXACT.subtract(price, mid))
        if not _mul(distance, Decimal(10_000)) <= _mul(Decimal(limits.price_collar_bps), mid):
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
            buys = _EXACT.add(buys, o.remaining_base)
        else:
            sells = _EXACT.add(sells, o.remaining_base)
    return _EXACT.add(position, buys), _EXACT.subtract(position, sells)


def _exposure_base(long: Decimal, short: Decimal) -> Decimal:
    return max(abs(long), abs(short))


def _with_order(order: PlaceOrder, ctx: CheckContext) -> tuple[LiveOrder, ...] | None:
    size = base_size(order, ctx)
    if size is None:
        return None
    new = LiveOrder(
        product_id=order.product_id,
        side=order.side,
        remaining_base=size,
        limit_price=order.limit_price,
    )
    return (*ctx.live_orders, new)


def check_position(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """Worst-case |position| x mid, counting live and unresolved orders, at most
    max_position_usd, unless the order lowers it (a reducing order always passes)."""
    limits = config.products.get(order.product_id)
    mid = _mid(ctx, order.product_id)
    after_orders = _with_order(order, ctx)
    if limits is None or mid is None or after_orders is None:
        return None  # refused earlier: allow-list or reference price
    position = _position(order, ctx)
    before = _mul(_exposure_base(*_legs(order.product_id, position, ctx.live_orders)), mid)
    after = _mul(_exposure_base(*_legs(order.product_id, position, after_orders)), mid)
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
    but no mid to value it (the check then denies)."""
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
        total = _EXACT.add(total, _mul(exposure, mid))
    return total, None


def check_gross_exposure(
    order: PlaceOrder, ctx: CheckContext, config: GateConfig
) -> Rejection | None:
    """Gross worst-case exposure over all products at most account.max_gross_exposure_usd,
    unless the order lowers it."""
    after_orders = _with_order(order, ctx)
    if after_orders is None:
        return None
    after, unvalued = gross_exposure_usd(ctx, after_orders)
    if unvalued is not None:
        return Rejection(
            code=RejectCode.NO_REFERENCE_PRICE,
            message=f"gross exposure cannot be valued: no mid for {unvalued}",
            fired_by="account.max_gross_exposure_usd",
        )
    before, _ = gross_exposure_usd(ctx, ctx.live_orders)
    cap = config.account.max_gross_exposure_usd
    if after <= cap or after <= before:
        return None
    return Rejection(
        code=RejectCode.EXPOSURE_LIMIT,
        message=f"worst-case gross exposure {after} USD would exceed max_gross_exposure_usd {cap}",
        fired_by="account.max_gross_exposure_usd",
    )


def check_open_orders(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """Live orders (unresolved ones included) plus this one at most max_open_orders."""
    cap = config.account.max_open_orders
    if len(ctx.live_orders) + 1 <= cap:
        return None
    return Rejection(
        code=RejectCode.OPEN_ORDERS_LIMIT,
        message=f"{len(ctx.live_orders)} orders are live; max_open_orders is {cap}",
        fired_by="account.max_open_orders",
    )


def check_order_rate(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
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


def check_daily_loss(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
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


def check_drawdown(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """A fall from the equity peak reaching max_drawdown_pct denies and latches HALTED:
    (peak - equity) x 100 >= pct x peak. A peak that is not positive denies."""
    account = ctx.account
    pct = config.account.max_drawdown_pct
    fall = _EXACT.subtract(account.equity_peak_usd, account.equity_usd)
    if account.equity_peak_usd > 0 and _mul(fall, Decimal(100)) < _mul(
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


def check_duplicate(order: PlaceOrder, ctx: CheckContext, config: GateConfig) -> Rejection | None:
    """The same product, side, size and price as an order accepted within
    duplicate_intent_window_s is denied (a new intent id does not make it new)."""
    window_ns = config.duplicate_intent_window_s * _NS_PER_S
    for recent in ctx.recent_orders:
        same = (
            recent.product_id == order.product_id
            and recent.side is order.side
            and recent.size == order.size
            and recent.limit_price == order.limit_price
        )
        if same and 0 <= ctx.now_ns - recent.accepted_ns < window_ns:
            return Rejection(
                code=RejectCode.DUPLICATE_INTENT,
                message=f"the same {order.side.value} {order.size} {order.product_id} "
                f"was accepted {(ctx.now_ns - recent.accepted_ns) / _NS_PER_S:.1f} s ago",
                fired_by="duplicate_intent_window_s",
            )
    return None
