"""Every check: a pass at its boundary and a denial just past it, from the shipped limits.

The shipped config (config/safety.yaml) allows BTC-USD orders up to 0.002 BTC and
100 USD, a 100 bps collar, 250 USD of position, 500 USD gross, 6 open orders, a 25 USD
daily loss and a 5 % drawdown; the mothers put BTC at 50,000 USD.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from gate_stubs import MONO, NOW, config, context, mode, order, rules
from trading_contract import OrderType, RejectCode, Side, SizeUnit, TimeInForce, TradingState
from trading_gate.core import checks
from trading_gate.core.checks import Check
from trading_gate.core.context import AccountState, LiveOrder, RecentOrder, ReferenceMid
from trading_gate.core.throttle import SlidingWindow
from trading_gate.core.trading_state import Cause

D = Decimal


def _account(equity: str, peak: str = "10000", day_start: str = "10000") -> AccountState:
    return AccountState(
        equity_usd=D(equity), equity_peak_usd=D(peak), day_start_equity_usd=D(day_start)
    )


def _live(
    n: int, side: Side = Side.BUY, size: str = "0.0001", product: str = "BTC-USD"
) -> tuple[LiveOrder, ...]:
    return tuple(
        LiveOrder(product_id=product, side=side, remaining_base=D(size), limit_price=D("50000"))
        for _ in range(n)
    )


def _mid_at(age_ns: int, mid: str = "50000.00") -> dict[str, ReferenceMid]:
    return {"BTC-USD": ReferenceMid(mid=D(mid), observed_ns=NOW - age_ns)}


def _window(admitted: int) -> SlidingWindow:
    return SlidingWindow(
        limit=5,
        window_ns=1_000_000_000,
        admitted_ns=tuple(MONO - 10 - i for i in range(admitted))[::-1],
    )


@dataclass(frozen=True)
class Case:
    id: str
    check: Check
    expected: RejectCode | None
    order: dict[str, Any] = field(default_factory=dict)
    ctx: dict[str, Any] = field(default_factory=dict)


MARKET = {"order_type": OrderType.MARKET, "limit_price": None, "time_in_force": TimeInForce.IOC}
HOUR_AGO = NOW - 3_600_000_000_000

CASES = [
    # order size: max_order_size_base 0.002 BTC
    Case("size at cap", checks.check_order_size, None, {"size": D("0.002")}),
    Case(
        "size past cap", checks.check_order_size, RejectCode.SIZE_LIMIT, {"size": D("0.00200001")}
    ),
    Case(
        "quote size at cap",
        checks.check_order_size,
        None,
        MARKET | {"size": D("100"), "size_in": SizeUnit.QUOTE},
    ),
    Case(
        "quote size past cap",
        checks.check_order_size,
        RejectCode.SIZE_LIMIT,
        MARKET | {"size": D("100.01"), "size_in": SizeUnit.QUOTE},
    ),
    Case(
        "quote size without mid",
        checks.check_order_size,
        RejectCode.SIZE_LIMIT,
        MARKET | {"size": D("1"), "size_in": SizeUnit.QUOTE},
        {"mids": {}},
    ),
    # notional: 100 USD per product and per account
    Case(
        "notional at cap",
        checks.check_notional,
        None,
        {"size": D("0.002"), "limit_price": D("50000")},
    ),
    Case(
        "notional past cap",
        checks.check_notional,
        RejectCode.NOTIONAL_LIMIT,
        {"size": D("0.002"), "limit_price": D("50000.01")},
    ),
    Case("market notional at mid", checks.check_notional, None, MARKET | {"size": D("0.002")}),
    Case(
        "market notional past cap",
        checks.check_notional,
        RejectCode.NOTIONAL_LIMIT,
        MARKET | {"size": D("0.002")},
        {"mids": _mid_at(0, "50000.01")},
    ),
    Case(
        "market without mid", checks.check_notional, RejectCode.NOTIONAL_LIMIT, MARKET, {"mids": {}}
    ),
    # collar: 100 bps around 50,000 = 49,500 .. 50,500
    Case("collar top edge", checks.check_price_collar, None, {"limit_price": D("50500.00")}),
    Case(
        "collar past top",
        checks.check_price_collar,
        RejectCode.PRICE_COLLAR,
        {"limit_price": D("50500.01")},
    ),
    Case("collar bottom edge", checks.check_price_collar, None, {"limit_price": D("49500.00")}),
    Case(
        "collar past bottom",
        checks.check_price_collar,
        RejectCode.PRICE_COLLAR,
        {"limit_price": D("49499.99")},
    ),
    Case(
        "collar on stop price",
        checks.check_price_collar,
        RejectCode.PRICE_COLLAR,
        {
            "side": Side.SELL,
            "order_type": OrderType.STOP_LIMIT,
            "limit_price": D("49600"),
            "stop_price": D("49400"),
            "stop_direction": "down",
        },
    ),
    # reference price: max_age_ms 2000
    Case(
        "mid exactly max age",
        checks.check_reference_price,
        None,
        ctx={"mids": _mid_at(2_000_000_000)},
    ),
    Case(
        "mid 1 ns too old",
        checks.check_reference_price,
        RejectCode.STALE_REFERENCE_PRICE,
        ctx={"mids": _mid_at(2_000_000_001)},
    ),
    Case(
        "mid from the future",
        checks.check_reference_price,
        RejectCode.STALE_REFERENCE_PRICE,
        ctx={"mids": _mid_at(-1)},
    ),
    Case("no mid", checks.check_reference_price, RejectCode.NO_REFERENCE_PRICE, ctx={"mids": {}}),
    Case(
        "zero mid",
        checks.check_reference_price,
        RejectCode.NO_REFERENCE_PRICE,
        ctx={"mids": _mid_at(0, "0")},
    ),
    # position: 250 USD = 0.005 BTC at 50,000, counting live orders
    Case(
        "position at cap",
        checks.check_position,
        None,
        {"size": D("0.001")},
        {"positions_base": {"BTC-USD": D("0.003")}, "live_orders": _live(10)},
    ),
    Case(
        "position past cap",
        checks.check_position,
        RejectCode.POSITION_LIMIT,
        {"size": D("0.00100001")},
        {"positions_base": {"BTC-USD": D("0.003")}, "live_orders": _live(10)},
    ),
    Case(
        "short position past cap",
        checks.check_position,
        RejectCode.POSITION_LIMIT,
        {"side": Side.SELL, "size": D("0.00000001")},
        {"positions_base": {"BTC-USD": D("-0.005")}},
    ),
    Case(
        "reducing while over cap",
        checks.check_position,
        None,
        {"side": Side.SELL, "size": D("0.001")},
        {"positions_base": {"BTC-USD": D("0.006")}},
    ),
    # gross exposure: 500 USD over all products
    Case(
        "gross at cap",
        checks.check_gross_exposure,
        None,
        {"size": D("0.001")},
        {"positions_base": {"ETH-USD": D("0.18")}},
    ),
    Case(
        "gross past cap",
        checks.check_gross_exposure,
        RejectCode.EXPOSURE_LIMIT,
        {"size": D("0.00100001")},
        {"positions_base": {"ETH-USD": D("0.18")}},
    ),
    Case(
        "gross with unvalued product",
        checks.check_gross_exposure,
        RejectCode.NO_REFERENCE_PRICE,
        ctx={"positions_base": {"ETH-USD": D("0.1")}, "mids": _mid_at(0)},
    ),
    # open orders: 6
    Case("open orders at cap", checks.check_open_orders, None, ctx={"live_orders": _live(5)}),
    Case(
        "open orders past cap",
        checks.check_open_orders,
        RejectCode.OPEN_ORDERS_LIMIT,
        ctx={"live_orders": _live(6)},
    ),
    # order rate: 5 per 1000 ms
    Case("rate at cap", checks.check_order_rate, None, ctx={"order_window": _window(4)}),
    Case(
        "rate past cap",
        checks.check_order_rate,
        RejectCode.ORDER_RATE_LIMIT,
        ctx={"order_window": _window(5)},
    ),
    # daily loss: 25 USD, reaching it latches
    Case(
        "loss just under limit", checks.check_daily_loss, None, ctx={"account": _account("9975.01")}
    ),
    Case(
        "loss at limit",
        checks.check_daily_loss,
        RejectCode.DAILY_LOSS_LIMIT,
        ctx={"account": _account("9975.00")},
    ),
    # drawdown: 5 % of a 10,000 peak = 500
    Case(
        "drawdown just under",
        checks.check_drawdown,
        None,
        ctx={"account": _account("9500.01", day_start="9500.01")},
    ),
    Case(
        "drawdown at limit",
        checks.check_drawdown,
        RejectCode.DRAWDOWN_LIMIT,
        ctx={"account": _account("9500.00", day_start="9500")},
    ),
    Case(
        "non-positive peak",
        checks.check_drawdown,
        RejectCode.DRAWDOWN_LIMIT,
        ctx={"account": _account("0", peak="0", day_start="0")},
    ),
    # duplicate: 30 s
    Case(
        "duplicate inside window",
        checks.check_duplicate,
        RejectCode.DUPLICATE_INTENT,
        ctx={
            "recent_orders": (
                RecentOrder(
                    product_id="BTC-USD",
                    side=Side.BUY,
                    size=D("0.001"),
                    limit_price=D("50000.00"),
                    accepted_ns=NOW - 29_999_999_999,
                ),
            )
        },
    ),
    Case(
        "duplicate window over",
        checks.check_duplicate,
        None,
        ctx={
            "recent_orders": (
                RecentOrder(
                    product_id="BTC-USD",
                    side=Side.BUY,
                    size=D("0.001"),
                    limit_price=D("50000.00"),
                    accepted_ns=NOW - 30_000_000_000,
                ),
            )
        },
    ),
    Case(
        "different size is new",
        checks.check_duplicate,
        None,
        {"size": D("0.0011")},
        {
            "recent_orders": (
                RecentOrder(
                    product_id="BTC-USD",
                    side=Side.BUY,
                    size=D("0.001"),
                    limit_price=D("50000.00"),
                    accepted_ns=NOW,
                ),
            )
        },
    ),
    # allow-list and venue rules
    Case("listed product", checks.check_product_allowed, None),
    Case(
        "unlisted product",
        checks.check_product_allowed,
        RejectCode.PRODUCT_NOT_ALLOWED,
        {"product_id": "DOGE-USD"},
    ),
    Case("on the size grid", checks.check_product_rules, None, {"size": D("0.00100001")}),
    Case(
        "off the size grid",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        {"size": D("0.001000001")},
    ),
    Case(
        "off the price grid",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        {"limit_price": D("50000.005")},
    ),
    Case(
        "below venue minimum",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        ctx={"product_rules": {"BTC-USD": rules(base_min_size=D("0.0011"))}},
    ),
    Case(
        "unknown venue rules",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        ctx={"product_rules": {}},
    ),
    Case(
        "cancel-only product",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        ctx={"product_rules": {"BTC-USD": rules(cancel_only=True)}},
    ),
    Case(
        "limit-only product, market order",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        MARKET,
        {"product_rules": {"BTC-USD": rules(limit_only=True)}},
    ),
    Case(
        "post-only product",
        checks.check_product_rules,
        RejectCode.OFF_INCREMENT,
        ctx={"product_rules": {"BTC-USD": rules(post_only=True)}},
    ),
    # trading state and reduce-only
    Case("active accepts", checks.check_trading_state, None),
    Case(
        "halted refuses",
        checks.check_trading_state,
        RejectCode.HALTED,
        ctx={"mode": mode(TradingState.HALTED, Cause.KILL_SWITCH)},
    ),
    Case(
        "halted refuses reducing too",
        checks.check_trading_state,
        RejectCode.HALTED,
        {"side": Side.SELL},
        {
            "mode": mode(TradingState.HALTED, Cause.KILL_SWITCH),
            "positions_base": {"BTC-USD": D("0.002")},
        },
    ),
    Case(
        "reducing accepts a close",
        checks.check_trading_state,
        None,
        {"side": Side.SELL, "size": D("0.002")},
        {
            "mode": mode(TradingState.REDUCING, Cause.RECONCILING),
            "positions_base": {"BTC-USD": D("0.002")},
        },
    ),
    Case(
        "reducing refuses a flip",
        checks.check_trading_state,
        RejectCode.REDUCING_ONLY,
        {"side": Side.SELL, "size": D("0.00200001")},
        {
            "mode": mode(TradingState.REDUCING, Cause.RECONCILING),
            "positions_base": {"BTC-USD": D("0.002")},
        },
    ),
    Case(
        "reducing counts working sells",
        checks.check_trading_state,
        RejectCode.REDUCING_ONLY,
        {"side": Side.SELL, "size": D("0.002")},
        {
            "mode": mode(TradingState.REDUCING, Cause.RECONCILING),
            "positions_base": {"BTC-USD": D("0.002")},
            "live_orders": _live(1, Side.SELL),
        },
    ),
    Case(
        "reduce-only that reduces",
        checks.check_reduce_only,
        None,
        {"side": Side.SELL, "reduce_only": True},
        {"positions_base": {"BTC-USD": D("0.001")}},
    ),
    Case(
        "reduce-only that opens",
        checks.check_reduce_only,
        RejectCode.INVALID_ORDER,
        {"reduce_only": True},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_check_when_at_or_past_boundary_then_expected_verdict(case: Case) -> None:
    """Each check passes exactly at its limit and denies just past it."""
    verdict = case.check(order(**case.order), context(**case.ctx), config())
    assert (verdict.code if verdict else None) == case.expected, verdict


def test_checks_when_listed_then_each_has_a_passing_and_a_denying_case() -> None:
    """No check in the policy goes without both sides of its boundary."""
    from trading_gate.policy import CHECKS

    for name, check in CHECKS:
        verdicts = {c.expected is None for c in CASES if c.check is check}
        assert verdicts == {True, False}, name


@pytest.mark.parametrize(
    "value", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), D("0"), D("-0"), D("-1")]
)
@pytest.mark.parametrize("name", ["size", "limit_price"])
def test_order_values_when_not_finite_positive_then_invalid(name: str, value: Decimal) -> None:
    """NaN, infinities, zero and negatives are invalid, and nothing else is evaluated."""
    from trading_gate.policy import decide

    # The contract refuses these at decode; force them in to test the gate's own guard.
    bad = order()
    msgspec.structs.force_setattr(bad, name, value)
    decision = decide(bad, context(), config())
    assert decision.rejection is not None
    assert decision.rejection.code is RejectCode.INVALID_ORDER
    assert [o.name for o in decision.outcomes] == ["order_values"]


def test_latching_checks_when_fired_then_ask_for_halted() -> None:
    """Daily loss and drawdown ask the gate to latch HALTED; other rejections do not."""
    loss = checks.check_daily_loss(order(), context(account=_account("9000")), config())
    size = checks.check_order_size(order(size=D("1")), context(), config())
    assert loss is not None
    assert loss.latch is TradingState.HALTED
    assert size is not None
    assert size.latch is None
