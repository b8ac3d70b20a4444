"""Every vocabulary field for one order, from the gate's own data.

The figures come from `OrderTerms` (what the limit checks already derived) and the
`CheckContext` snapshot; the clock is `ctx.now_ns`, never read here. A field that
cannot be known for this order (no mid, a statistic the agent did not report) is
listed as unavailable with the reason, so a rule reading it fails closed.
"""

import re
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, DecimalException, InvalidOperation, Overflow
from typing import Final

from trading_contract import OrderType, PlaceOrder, Side
from trading_gate.core.checks import OrderTerms
from trading_gate.core.context import CheckContext
from trading_gate.rules.evaluate import RuleContext, Value

__all__ = ["parse_regime", "rule_context", "utc_clock_fields"]

_ARITH: Final = Context(prec=34, traps=[Overflow, InvalidOperation])
_NS_PER_S: Final = 1_000_000_000
_NS_PER_MINUTE: Final = 60 * _NS_PER_S
_NS_PER_HOUR: Final = 60 * _NS_PER_MINUTE
_NS_PER_DAY: Final = 24 * _NS_PER_HOUR
# 1970-01-01 was a Thursday.
_WEEKDAYS: Final = ("thu", "fri", "sat", "sun", "mon", "tue", "wed")
_REGIME: Final = re.compile(r"(trend|range|neutral)_(high|low)_vol")
_STATS: Final = (
    ("strategy.confidence", "confidence"),
    ("strategy.win_rate", "win_rate"),
    ("strategy.expectancy_bps", "expectancy_bps"),
    ("strategy.trade_count", "trade_count"),
)


class _Fields:
    """Values and unavailable fields as they are gathered."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}
        self.unavailable: dict[str, str] = {}

    def set(self, name: str, value: Value) -> None:
        self.values[name] = value

    def put(self, name: str, value: Value | None, why_missing: str) -> None:
        if value is None:
            self.unavailable[name] = why_missing
        else:
            self.values[name] = value


def rule_context(order: PlaceOrder, ctx: CheckContext, terms: OrderTerms) -> RuleContext:
    """The rule context of `order` in `ctx`, with `terms = order_terms(order, ctx)`."""
    fields = _Fields()
    _order_fields(fields, order, terms)
    _position_fields(fields, order, ctx, terms)
    _account_fields(fields, ctx, terms)
    reference = ctx.mids.get(order.product_id)
    no_mid = f"no reference mid for {order.product_id}"
    fields.put("market.mid_usd", terms.mid, no_mid)
    age = None if reference is None else _seconds(ctx.now_ns - reference.observed_ns)
    fields.put("market.mid_age", age, no_mid)
    trend, volatility = parse_regime(order.reason.regime)
    fields.set("regime.label", order.reason.regime)
    fields.set("regime.trend", trend)
    fields.set("regime.volatility", volatility)
    _stat_fields(fields, order.reason.stats)
    hour, minute, weekday = utc_clock_fields(ctx.now_ns)
    fields.set("time.hour", Decimal(hour))
    fields.set("time.minute", Decimal(minute))
    fields.set("time.weekday", weekday)
    fields.set("gate.mode", ctx.mode.state.value)
    fields.set("gate.open_orders", Decimal(len(ctx.live_orders)))
    return RuleContext(fields.values, fields.unavailable)


def _order_fields(fields: _Fields, order: PlaceOrder, terms: OrderTerms) -> None:
    no_mid = f"a quote-sized order with no reference mid for {order.product_id}"
    fields.set("order.product", order.product_id)
    fields.set("order.side", order.side.value)
    fields.set("order.type", order.order_type.value)
    fields.set("order.time_in_force", order.time_in_force.value)
    fields.set("order.strategy", order.strategy_id)
    fields.put("order.size_base", terms.size_base, no_mid)
    fields.put("order.notional_usd", terms.notional_usd, f"no reference mid for {order.product_id}")
    price = terms.mid if order.order_type is OrderType.MARKET else order.limit_price
    fields.put("order.price_usd", price, f"no reference mid for {order.product_id}")
    fields.set("order.post_only", order.post_only)
    fields.set("order.reduce_only", order.reduce_only)
    fields.set("order.reduces_position", terms.reduces)


def _position_fields(
    fields: _Fields, order: PlaceOrder, ctx: CheckContext, terms: OrderTerms
) -> None:
    before = ctx.positions_base.get(order.product_id, Decimal(0))
    fields.set("position.base_before", before)
    after = None
    if terms.size_base is not None:
        signed = terms.size_base if order.side is Side.BUY else -terms.size_base
        after = _exact(lambda: _ARITH.add(before, signed))
    no_size = f"a quote-sized order with no reference mid for {order.product_id}"
    fields.put("position.base_after", after, no_size)
    no_mid = f"no reference mid for {order.product_id}"
    fields.put("position.notional_before_usd", terms.position_before_usd, no_mid)
    fields.put("position.notional_after_usd", terms.position_after_usd, no_mid)


def _account_fields(fields: _Fields, ctx: CheckContext, terms: OrderTerms) -> None:
    account = ctx.account
    fields.set("account.equity_usd", account.equity_usd)
    fields.set("account.equity_peak_usd", account.equity_peak_usd)
    day = _exact(lambda: _ARITH.subtract(account.equity_usd, account.day_start_equity_usd))
    fields.put("account.day_pnl_usd", day, "equity too large to subtract")
    drawdown = None
    if account.equity_peak_usd > 0:
        drawdown = _exact(
            lambda: _ARITH.subtract(1, _ARITH.divide(account.equity_usd, account.equity_peak_usd))
        )
    fields.put("account.drawdown", drawdown, "the equity peak is not above zero")
    gross_before, gross_after = terms.gross_before_usd, terms.gross_after_usd
    why = "a quote-sized order with no reference mid"
    if terms.gross_unvalued is not None:
        # The sums stop at the first product with no mid: neither is the whole exposure.
        gross_before = gross_after = None
        why = f"no reference mid for {terms.gross_unvalued}"
    fields.put("account.gross_exposure_before_usd", gross_before, why)
    fields.put("account.gross_exposure_after_usd", gross_after, why)


def _stat_fields(fields: _Fields, stats: Mapping[str, Decimal]) -> None:
    for name, key in _STATS:
        value = stats.get(key)
        if value is not None and not value.is_finite():
            value = None
        fields.put(name, value, f"the agent did not report the {key} statistic")


def _exact(compute: Callable[[], Decimal]) -> Decimal | None:
    try:
        return compute()
    except DecimalException:
        return None


def _seconds(ns: int) -> Decimal:
    return _ARITH.divide(Decimal(ns), Decimal(_NS_PER_S))


def parse_regime(label: str) -> tuple[str, str]:
    """(trend, volatility) of a label like "trend_high_vol"; unknown, unknown otherwise."""
    match = _REGIME.fullmatch(label)
    if match is None:
        return "unknown", "unknown"
    return match.group(1), match.group(2)


def utc_clock_fields(now_ns: int) -> tuple[int, int, str]:
    """(hour 0-23, minute 0-59, weekday mon..sun) in UTC of a nanosecond timestamp."""
    day, within = divmod(now_ns, _NS_PER_DAY)
    return within // _NS_PER_HOUR, within % _NS_PER_HOUR // _NS_PER_MINUTE, _WEEKDAYS[day % 7]
