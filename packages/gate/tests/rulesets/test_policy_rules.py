"""The policy with rules: fixed checks first, then core, then active; shadow only recorded;
errors deny; a core halt latches; the throttle counts only orders every rule approved."""

from decimal import Decimal
from pathlib import Path

import pytest

from gate_stubs import config, context, order
from rule_stubs import rule_text, write_rule
from trading_contract import Reason, RejectCode, TradingState
from trading_gate.core.rule_set import RuleSet
from trading_gate.policy import decide, rule_context_record
from trading_gate.rule_files import load_rule_dir

D = Decimal


def _rules(tmp_path: Path, **tiers: list[str]) -> RuleSet:
    for tier, texts in tiers.items():
        for i, text in enumerate(texts):
            write_rule(tmp_path, tier, f"{i:02d}.rule", text)
    return load_rule_dir(tmp_path)


BIG = rule_text("big_orders", "order.notional_usd > 40", 'deny "orders above 40 USD"')
MOMENTUM_HIGH_VOL = rule_text(
    "momentum_high_vol",
    'order.strategy == "momentum" and regime.volatility == "high" and not order.reduces_position',
    'deny "momentum entries paused in a high-volatility regime"',
)


def test_decide_when_an_active_rule_fires_then_rule_denied_naming_the_rule(tmp_path: Path) -> None:
    """A 50 USD order passes every limit; the rule refuses it, by id, with its message."""
    verdict = decide(order(), context(), config(), _rules(tmp_path, active=[BIG]))
    assert verdict.rejection is not None
    assert verdict.rejection.code is RejectCode.RULE_DENIED
    assert verdict.rejection.fired_by == "big_orders"
    assert "orders above 40 USD" in verdict.rejection.message
    assert [(r.rule_id, r.tier, r.outcome) for r in verdict.rules] == [
        ("big_orders", "active", "fired")
    ]


def test_decide_when_the_rule_does_not_match_then_approved_and_recorded_as_passed(
    tmp_path: Path,
) -> None:
    """The rule is evaluated and recorded even when it lets the order through."""
    small = order(size=D("0.0005"))  # 25 USD
    verdict = decide(small, context(), config(), _rules(tmp_path, active=[BIG]))
    assert verdict.approved
    assert [r.outcome for r in verdict.rules] == ["passed"]


def test_decide_when_the_issue_example_then_momentum_entries_denied_only_in_high_vol(
    tmp_path: Path,
) -> None:
    """The issue's first example: momentum entries in a high-volatility regime only."""
    rules = _rules(tmp_path, core=[MOMENTUM_HIGH_VOL])
    high = order(strategy_id="momentum", reason=Reason(regime="trend_high_vol"))
    low = order(strategy_id="momentum", reason=Reason(regime="trend_low_vol"))
    other = order(strategy_id="mean_reversion", reason=Reason(regime="trend_high_vol"))
    outcomes = [decide(o, context(), config(), rules).rejection for o in (high, low, other)]
    assert outcomes[0] is not None
    assert outcomes[0].fired_by == "momentum_high_vol"
    assert outcomes[1] is None
    assert outcomes[2] is None


def test_decide_when_a_shadow_rule_would_fire_then_the_decision_is_unchanged(
    tmp_path: Path,
) -> None:
    """Shadow rules never change a decision; they are recorded as would-have outcomes."""
    without = decide(order(), context(), config())
    shadowed = decide(order(), context(), config(), _rules(tmp_path, shadow=[BIG]))
    assert without.approved
    assert shadowed.approved
    assert shadowed.order_window == without.order_window
    assert [(r.rule_id, r.tier, r.outcome) for r in shadowed.shadow] == [
        ("big_orders", "shadow", "fired")
    ]
    assert shadowed.rules == ()


def test_decide_when_a_fixed_limit_refuses_then_it_wins_but_rules_are_still_recorded(
    tmp_path: Path,
) -> None:
    """Fixed checks come first; rules still run so counterfactuals see every rule."""
    too_big = order(size=D("0.01"))  # 0.01 BTC: above the shipped 0.002 BTC order size
    verdict = decide(too_big, context(), config(), _rules(tmp_path, active=[BIG]))
    assert verdict.rejection is not None
    assert verdict.rejection.code is RejectCode.SIZE_LIMIT
    assert [r.outcome for r in verdict.rules] == ["fired"]


def test_decide_when_core_and_active_both_fire_then_core_wins(tmp_path: Path) -> None:
    """Core rules are evaluated before active ones; the first to fire gives the verdict."""
    core = rule_text("core_cap", "order.notional_usd > 10", 'deny "core cap"')
    rules = _rules(tmp_path, core=[core], active=[BIG])
    verdict = decide(order(), context(), config(), rules)
    assert verdict.rejection is not None
    assert verdict.rejection.fired_by == "core_cap"
    assert [r.outcome for r in verdict.rules] == ["fired", "fired"]


def test_decide_when_a_rule_reads_an_unavailable_field_then_it_denies(tmp_path: Path) -> None:
    """Fail closed: a statistic the agent did not report makes the rule deny, audibly."""
    rule = rule_text("weak_strategies", "strategy.win_rate < 40%", 'deny "weak"')
    verdict = decide(order(), context(), config(), _rules(tmp_path, active=[rule]))
    assert verdict.rejection is not None
    assert verdict.rejection.code is RejectCode.RULE_ERROR
    assert "strategy.win_rate" in verdict.rejection.message
    assert verdict.rules[0].outcome == "error"
    reported = order(reason=Reason(regime="range_low_vol", stats={"win_rate": D("0.55")}))
    assert decide(reported, context(), config(), load_rule_dir(tmp_path)).approved


def test_decide_when_a_core_halt_fires_then_it_latches_halted(tmp_path: Path) -> None:
    """`halt` (core only) latches HALTED, so the service halts the gate."""
    rule = rule_text("equity_floor", "account.equity_usd < 9000", 'halt "equity below 9000"')
    poor = context(account=context().account.__class__(
        equity_usd=D("8000"), equity_peak_usd=D("8000"), day_start_equity_usd=D("8000")
    ))  # fmt: skip
    verdict = decide(order(), poor, config(), _rules(tmp_path, core=[rule]))
    assert [r.latch for r in verdict.latches] == [TradingState.HALTED]
    assert verdict.rejection is not None
    assert verdict.rejection.fired_by == "equity_floor"


def test_decide_when_a_rule_denies_then_the_order_window_does_not_advance(tmp_path: Path) -> None:
    """Only approved orders count against the order rate."""
    ctx = context()
    verdict = decide(order(), ctx, config(), _rules(tmp_path, active=[BIG]))
    assert verdict.order_window == ctx.order_window
    approved = decide(order(), ctx, config())
    assert approved.order_window != ctx.order_window


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("order.product", "BTC-USD"),
        ("order.notional_usd", "50.00000"),
        ("regime.volatility", "low"),
        ("order.reduces_position", False),
    ],
)
def test_rule_context_record_when_recorded_then_plain_json_values(
    tmp_path: Path, field: str, expected: object
) -> None:
    """The audit row's copy of what the rules read: Decimals as strings, bools as bools."""
    verdict = decide(order(), context(), config(), _rules(tmp_path, shadow=[BIG]))
    assert verdict.rule_context is not None
    record = rule_context_record(verdict.rule_context)
    values = record["values"]
    assert isinstance(values, dict)
    assert values[field] == expected


def test_decide_when_no_rules_then_no_rule_context_is_built() -> None:
    """An empty set costs nothing and records nothing."""
    verdict = decide(order(), context(), config())
    assert verdict.rule_context is None
    assert verdict.rules == ()
    assert verdict.shadow == ()
