"""The data-driven cases in cases/*.yaml: evaluation verdicts and static-check problems.

Each evaluation case is one rule and a context written by hand, with the verdict a
reader can work out from the rule's text alone; each check case names the line, column
and message of every problem the loader must report.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from trading_gate.rules import RuleContext, RuleLoadError, Value, evaluate, load_rules
from trading_gate.rules.vocabulary import VOCABULARY, Kind

CASES = Path(__file__).parent / "cases"
HEADER = 'rule "case"\n  id case\n  author "human:alice"\n  created 2026-11-30\n'


def _load(name: str) -> list[dict[str, Any]]:
    cases = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
    assert isinstance(cases, list)
    return cases


def _text(case: dict[str, Any]) -> str:
    if "text" in case:
        return str(case["text"])
    when = f"  when {case['when']}\n" if "when" in case else ""
    effect = str(case.get("effect", "deny")).replace("{long}", "x" * 257)
    if not when:
        when = "  when true\n"  # keeps the effect on line 6 in every case
    return HEADER + when + f"  {effect}\n"


def _typed(name: str, text: str) -> Value:
    kind = VOCABULARY[name].kind
    if kind is Kind.BOOL:
        assert text in ("true", "false"), f"{name}: {text!r} is not a bool"
        return text == "true"
    if kind in (Kind.DECIMAL, Kind.DURATION):
        return Decimal(text)
    return text


def _context(case: dict[str, Any]) -> RuleContext:
    values = {name: _typed(name, str(v)) for name, v in case.get("context", {}).items()}
    unavailable = {name: "not known in this case" for name in case.get("unavailable", [])}
    return RuleContext(values, unavailable)


EVALUATE = _load("evaluate.yaml")
CHECK = _load("check.yaml")


@pytest.mark.parametrize("case", EVALUATE, ids=[c["name"] for c in EVALUATE])
def test_evaluation_case(case: dict[str, Any]) -> None:
    """The rule, loaded for the core tier, gives the case's verdict in its context."""
    (rule,) = load_rules(_text(case), source="case.rule", tier="core")

    outcome = evaluate(rule, _context(case))

    verdict = "error" if outcome.failed else "fired" if outcome.fired else "not_fired"
    assert verdict == case["expect"], outcome.error
    if case["expect"] == "error":
        assert outcome.error is not None
        assert case["error"] in outcome.error
        assert outcome.blocks


@pytest.mark.parametrize("case", CHECK, ids=[c["name"] for c in CHECK])
def test_check_case(case: dict[str, Any]) -> None:
    """load_rules reports exactly the case's problems, at their line and column."""
    text = _text(case)
    tier = case.get("tier", "core")
    expected = case["problems"]

    if not expected:
        assert load_rules(text, source="case.rule", tier=tier)
        return
    with pytest.raises(RuleLoadError) as raised:
        load_rules(text, source="case.rule", tier=tier)

    got = [(f"{p.line}:{p.column}", p.message) for p in raised.value.problems]
    assert len(got) == len(expected), got
    for (at, message), want in zip(got, expected, strict=True):
        assert (at, want["contains"] in message) == (want["at"], True), (at, message)


def test_every_operator_and_field_type_has_an_evaluation_case() -> None:
    """The evaluation cases use every operator and every kind and unit of field."""
    texts = " ".join(f"{c.get('when', '')} {c.get('effect', '')}" for c in EVALUATE)
    for operator in ("==", "!=", "<=", ">=", " < ", " > ", "+", " - ", "*", "/", "-a", "%"):
        assert operator.replace("-a", "-account") in texts, operator
    for keyword in (" and ", " or ", "not ", " in [", " not in [", " between ", "("):
        assert keyword in texts, keyword
    used = {name for c in EVALUATE for name in c.get("context", {})}
    kinds = {(VOCABULARY[n].kind, VOCABULARY[n].unit) for n in used}
    every = {(f.kind, f.unit) for f in VOCABULARY.values()}
    assert every <= kinds, every - kinds
    for effect in ("deny", "reduce_only", "require post_only", "require reduce_only", "halt"):
        assert effect in texts, effect
