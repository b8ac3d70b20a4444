"""evaluate and RuleContext beyond the data-driven cases: fuel, order, errors, shape."""

from decimal import Decimal

import pytest

import trading_gate.rules as rules_api
from trading_gate.rules import (
    RuleContext,
    ast,
    evaluate,
    evaluate_ruleset,
    load_rules,
)
from trading_gate.rules.evaluate import EvaluationError, evaluate_expr

HEADER = 'rule "{name}"\n  id {id}\n  author "human:alice"\n  created 2026-11-30\n'


def _rule(body: str, rule_id: str = "r") -> ast.Rule:
    (rule,) = load_rules(HEADER.format(name=rule_id, id=rule_id) + body, source="t", tier="core")
    return rule


def test_evaluate_when_budget_smaller_than_rule_then_error_outcome() -> None:
    """Fuel: a rule of 3 nodes with a budget of 2 stops with an error, not a verdict."""
    rule = _rule("  when order.notional_usd > 1\n  deny\n")
    ctx = RuleContext({"order.notional_usd": Decimal(5)}, {})

    short = evaluate(rule, ctx, budget=2)
    enough = evaluate(rule, ctx, budget=3)

    assert short.error is not None
    assert "step budget of 2 exceeded" in short.error
    assert short.blocks
    assert not short.fired
    assert enough.fired
    assert enough.steps == 3


def test_evaluate_when_or_short_circuits_then_fewer_steps() -> None:
    """`or` stops at its first true operand: the rest costs no steps."""
    rule = _rule("  when order.post_only or order.notional_usd > 1\n  deny\n")

    early = evaluate(rule, RuleContext({"order.post_only": True}, {}))
    late = evaluate(
        rule, RuleContext({"order.post_only": False, "order.notional_usd": Decimal(2)}, {})
    )

    assert (early.fired, early.steps) == (True, 2)  # the `or`, then its first operand
    assert (late.fired, late.steps) == (True, 5)


def test_evaluate_ruleset_when_several_then_every_outcome_in_order() -> None:
    """Every rule is evaluated, in order, whether or not an earlier one fired or failed."""
    text = (
        HEADER.format(name="a", id="a")
        + "  deny\n"
        + HEADER.format(name="b", id="b")
        + "  deny if market.mid_usd > 0\n"
        + HEADER.format(name="c", id="c")
        + '  when order.side == "sell"\n  deny "c"\n'
    )
    ruleset = load_rules(text, source="set", tier="active")
    ctx = RuleContext({"order.side": "buy"}, {"market.mid_usd": "no mid for BTC-USD"})

    outcomes = evaluate_ruleset(ruleset, ctx)

    assert [(o.rule_id, o.fired, o.failed) for o in outcomes] == [
        ("a", True, False),
        ("b", False, True),
        ("c", False, False),
    ]
    assert outcomes[1].error is not None
    assert "no mid for BTC-USD" in outcomes[1].error
    assert (outcomes[0].message, outcomes[2].message, outcomes[0].kind) == ("a", "c", "deny")


def test_evaluate_when_overflow_then_error_outcome() -> None:
    """Arithmetic past the private context's range is an error, never an infinity."""
    rule = _rule("  when order.notional_usd * 1e30 * 1e30 > 1\n  deny\n")
    ctx = RuleContext({"order.notional_usd": Decimal("9e999990")}, {})

    outcome = evaluate(rule, ctx)

    assert outcome.error is not None
    assert "overflow" in outcome.error


def test_evaluate_when_field_missing_from_context_then_error_names_it() -> None:
    """A context that lacks a field (neither present nor unavailable) fails closed."""
    outcome = evaluate(_rule("  when gate.open_orders > 3\n  deny\n"), RuleContext({}, {}))

    assert outcome.error == "line 5:8: gate.open_orders is not in the context"


def test_evaluate_expr_when_wrong_types_then_evaluation_error() -> None:
    """The evaluator guards its own operators: a bool is never equal to a number."""
    expr = ast.Comparison(
        op="==", left=ast.BoolLit(value=True), right=ast.NumberLit(value=Decimal(1))
    )

    with pytest.raises(EvaluationError, match="two types"):
        evaluate_expr(expr, RuleContext({}, {}))


def test_rule_context_when_bad_values_then_value_error() -> None:
    """A context cannot hold NaN, nor a field that is both present and unavailable."""
    with pytest.raises(ValueError, match="finite"):
        RuleContext({"market.mid_usd": Decimal("NaN")}, {})
    with pytest.raises(ValueError, match="both present and unavailable"):
        RuleContext({"market.mid_usd": Decimal(1)}, {"market.mid_usd": "x"})


def test_rule_context_when_source_dict_changes_then_context_does_not() -> None:
    """The context copies its input: it is a frozen snapshot."""
    values: dict[str, rules_api.Value] = {"order.post_only": True}
    ctx = RuleContext(values, {})

    values["order.post_only"] = False

    assert ctx["order.post_only"] is True
    assert len(ctx) == 1


def test_public_face_when_listed_then_every_name_importable() -> None:
    """__all__ names exactly what the package exports."""
    exported = {name for name in dir(rules_api) if not name.startswith("_")}

    assert set(rules_api.__all__) <= exported
    for name in (
        "parse_rules",
        "check_rules",
        "load_rules",
        "evaluate",
        "evaluate_ruleset",
        "rule_context",
        "print_rules",
        "VOCABULARY",
        "describe_vocabulary",
    ):
        assert name in rules_api.__all__


def test_describe_vocabulary_when_printed_then_one_row_per_field() -> None:
    """The docs table lists every field once with its type (a | inside a cell escaped, so
    Markdown keeps the columns), and the operators."""
    table = rules_api.describe_vocabulary()

    for spec in rules_api.VOCABULARY.values():
        shown = spec.type_name.replace("|", "\\|")
        assert table.count(f"| `{spec.name}` | {shown} |") == 1
    for row in table.splitlines():
        assert row == "" or row.replace("\\|", "").count("|") in (3, 4), row
    assert "| `x between a and b` |" in table
    assert rules_api.VOCABULARY["order.side"].type_name == "enum buy|sell"
