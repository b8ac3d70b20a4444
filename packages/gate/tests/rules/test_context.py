"""rule_context: every vocabulary field from the gate's own data, checked by hand."""

from datetime import UTC, datetime
from decimal import Decimal

from gate_stubs import NOW, context, mode, order
from trading_contract import (
    OrderType,
    PlaceOrder,
    Reason,
    Side,
    SizeUnit,
    TimeInForce,
    TradingState,
)
from trading_gate.core.checks import order_terms
from trading_gate.core.context import AccountState, CheckContext, LiveOrder, ReferenceMid
from trading_gate.rules import VOCABULARY, RuleContext, evaluate, load_rules, rule_context
from trading_gate.rules.context import parse_regime, utc_clock_fields


def _ctx_for(o: PlaceOrder | None = None, c: CheckContext | None = None) -> RuleContext:
    o = order() if o is None else o
    c = context() if c is None else c
    return rule_context(o, c, order_terms(o, c))


def test_rule_context_when_plain_order_then_every_field_present_or_unavailable() -> None:
    """No vocabulary field is missing from the context, and no extra one appears."""
    ctx = _ctx_for()

    assert set(ctx) | set(ctx.unavailable) == set(VOCABULARY)
    assert not set(ctx) & set(ctx.unavailable)


def test_rule_context_when_no_mid_and_quote_size_then_unavailable_with_reasons() -> None:
    """A quote-sized market order with no mid: sizes, prices and mid fields are
    unavailable, each with a reason naming the product, and still nothing drifts."""
    o = order(
        order_type=OrderType.MARKET,
        size=Decimal("100"),
        size_in=SizeUnit.QUOTE,
        limit_price=None,
        time_in_force=TimeInForce.IOC,
    )
    c = context(mids={})

    ctx = _ctx_for(o, c)

    assert set(ctx) | set(ctx.unavailable) == set(VOCABULARY)
    for name in ("order.size_base", "order.price_usd", "market.mid_usd", "market.mid_age"):
        assert "BTC-USD" in ctx.unavailable[name], name
    assert ctx["order.notional_usd"] == Decimal("100")  # a quote size is its own notional


def test_rule_context_values_when_hand_computed_then_equal() -> None:
    """Figures worked out by hand from the stub context: a 0.001 BTC limit buy at
    50 000 while long 0.01 BTC, with equity 9 000 after a 10 000 start and peak."""
    c = context(
        positions_base={"BTC-USD": Decimal("0.01")},
        account=AccountState(
            equity_usd=Decimal("9000"),
            equity_peak_usd=Decimal("10000"),
            day_start_equity_usd=Decimal("9500"),
        ),
        live_orders=(LiveOrder(product_id="ETH-USD", side=Side.SELL, remaining_base=Decimal(1)),),
        mids={
            "BTC-USD": ReferenceMid(mid=Decimal("50000"), observed_ns=NOW - 1_500_000_000),
            "ETH-USD": ReferenceMid(mid=Decimal("2500"), observed_ns=NOW),
        },
        mode=mode(TradingState.REDUCING),
    )
    o = order(reason=Reason(regime="trend_high_vol", stats={"win_rate": Decimal("0.55")}))

    ctx = _ctx_for(o, c)

    assert ctx["order.notional_usd"] == Decimal("50")  # 0.001 x 50 000
    assert ctx["order.price_usd"] == Decimal("50000")
    assert ctx["position.base_before"] == Decimal("0.01")
    assert ctx["position.base_after"] == Decimal("0.011")
    assert ctx["position.notional_before_usd"] == Decimal("500")  # 0.01 x 50 000
    assert ctx["position.notional_after_usd"] == Decimal("550")
    assert ctx["account.gross_exposure_before_usd"] == Decimal("3000")  # 500 + 1 x 2500
    assert ctx["account.gross_exposure_after_usd"] == Decimal("3050")
    assert ctx["account.day_pnl_usd"] == Decimal("-500")
    assert ctx["account.drawdown"] == Decimal("0.1")  # 1 - 9000 / 10000
    assert ctx["market.mid_age"] == Decimal("1.5")
    assert ctx["order.reduces_position"] is False
    assert (ctx["regime.trend"], ctx["regime.volatility"]) == ("trend", "high")
    assert ctx["strategy.win_rate"] == Decimal("0.55")
    assert "confidence" in ctx.unavailable["strategy.confidence"]
    assert ctx["gate.mode"] == "reducing"
    assert ctx["gate.open_orders"] == Decimal(1)
    assert ctx["order.side"] == "buy"
    assert ctx["order.type"] == "limit"


def test_rule_context_when_rule_reads_it_then_verdict_follows() -> None:
    """The shape the gate will use: load, build the context, evaluate."""
    (rule,) = load_rules(
        'rule "cap"\n  id cap\n  author "human:a"\n  created 2026-11-30\n'
        "  deny if order.notional_usd > 1% * account.equity_usd\n",
        source="cap.rule",
        tier="active",
    )

    small = evaluate(rule, _ctx_for())  # 50 USD against 1% of 10 000 = 100
    large = evaluate(rule, _ctx_for(order(size=Decimal("0.003"))))  # 150 USD

    assert (small.fired, large.fired) == (False, True)


def test_utc_clock_fields_when_compared_with_datetime_then_equal() -> None:
    """Hour, minute and weekday agree with datetime's UTC calendar, pre-1970 too."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for seconds in (0, 59, 3599, 86_399, 1_764_614_400, 1_764_700_799, -1, -86_401, 2**33):
        moment = datetime.fromtimestamp(seconds, tz=UTC)

        got = utc_clock_fields(seconds * 1_000_000_000 + 999)

        assert got == (moment.hour, moment.minute, names[moment.weekday()]), seconds


def test_parse_regime_when_labels_then_parts_or_unknown() -> None:
    """The agent's labels split into trend and volatility; anything else is unknown."""
    assert parse_regime("range_low_vol") == ("range", "low")
    assert parse_regime("neutral_high_vol") == ("neutral", "high")
    assert parse_regime("trend_high") == ("unknown", "unknown")
    assert parse_regime("TREND_HIGH_VOL") == ("unknown", "unknown")
