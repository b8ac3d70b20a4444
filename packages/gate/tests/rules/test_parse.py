"""Parsing: positions, literals, the AST's shape, and the grammar itself."""

from datetime import date
from decimal import Decimal

import pytest
from lark import Lark
from lark.common import ParserConf
from lark.parsers.lalr_analysis import LALR_Analyzer

from trading_gate.rules import RuleLoadError, ast, parse_rules, print_rules
from trading_gate.rules.errors import RuleProblem
from trading_gate.rules.parse import _PARSER

EXAMPLE = """\
# comments run to end of line
rule "no momentum entries in high volatility"
  id momentum_high_vol            # required
  author "human:alice"            # or "proposal:P-0012"
  created 2026-11-30              # ISO date
  when order.strategy == "momentum" and regime.volatility == "high" and not order.reduces_position
  deny "momentum entries paused in a high-volatility regime"

rule "cap ETH exposure at 20% of equity"
  id eth_cap
  author "human:alice"
  created 2026-11-30
  when order.product == "ETH-USD"
  deny if position.notional_after_usd > 20% * account.equity_usd
"""


def test_grammar_when_analysed_strictly_then_no_lalr_conflicts() -> None:
    """The LALR table has no shift/reduce conflicts (what strict=True would check;
    lark's strict mode also needs the `interegular` extra for terminal collisions)."""
    assert isinstance(_PARSER, Lark)
    analyzer = LALR_Analyzer(ParserConf(_PARSER.rules, {}, ["rule"]), strict=True)

    analyzer.compute_lalr()  # raises GrammarError on a conflict


def test_parse_rules_when_brief_example_then_fields_and_positions() -> None:
    """The brief's example: metadata, a three-way `and`, positions and source text."""
    first, second = parse_rules(EXAMPLE, source="example.rule")

    assert (first.id, first.author, first.created) == (
        "momentum_high_vol",
        "human:alice",
        date(2026, 11, 30),
    )
    assert (first.line, first.column, second.line) == (2, 1, 9)
    assert isinstance(first.when, ast.Logical)
    assert len(first.when.operands) == 3
    assert (first.when.line, first.when.column) == (6, 8)
    assert first.effect == ast.Deny(message="momentum entries paused in a high-volatility regime")
    assert second.source_text.startswith('rule "cap ETH')
    assert second.source_text.endswith("equity_usd")
    assert isinstance(second.effect.condition, ast.Comparison)
    assert second.effect.condition.right == ast.Arithmetic(
        op="*", left=ast.PercentLit(percent=Decimal(20)), right=ast.Field(name="account.equity_usd")
    )


def test_parse_rules_when_rule_text_changes_then_digest_changes() -> None:
    """content_sha256 is the SHA-256 of the rule's own text (hashlib as the reference)."""
    import hashlib

    (rule, _) = parse_rules(EXAMPLE, source="example.rule")

    assert rule.content_sha256 == hashlib.sha256(rule.source_text.encode()).hexdigest()


def test_print_rules_when_brief_example_then_reparses_equal() -> None:
    """The canonical print of the example parses back to equal rules."""
    rules = parse_rules(EXAMPLE, source="example.rule")

    assert parse_rules(print_rules(rules), source="printed.rule") == rules


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("500ms", ast.DurationLit(amount=Decimal(500), unit="ms")),
        ("1.5h", ast.DurationLit(amount=Decimal("1.5"), unit="h")),
        ("20%", ast.PercentLit(percent=Decimal(20))),
        ("1e-3", ast.NumberLit(value=Decimal("0.001"))),
        ("2E+2", ast.NumberLit(value=Decimal(200))),
        ('"a\\"b\\\\"', ast.StringLit(value='a"b\\')),
        ("true", ast.BoolLit(value=True)),
    ],
)
def test_parse_rules_when_literal_then_value(literal: str, expected: ast.Expr) -> None:
    """Each literal form becomes its node with the written value."""
    header = 'rule "x"\n  id x\n  author "human:a"\n  created 2026-01-01\n'
    text = header + f"  when {literal} == {literal}\n  deny\n"

    (rule,) = parse_rules(text, source="lit.rule")

    assert rule.when == ast.Comparison(op="==", left=expected, right=expected)


def test_parse_rules_when_not_in_and_negative_items_then_inlist() -> None:
    """`x not in [-1, 2%]` is one negated InList whose items keep their sign."""
    text = (
        'rule "x"\n id x\n author "human:a"\n created 2026-01-01\n when a not in [-1, 2%]\n deny\n'
    )

    (rule,) = parse_rules(text, source="in.rule")

    assert rule.when == ast.InList(
        subject=ast.Field(name="a"),
        items=(ast.NumberLit(value=Decimal(-1)), ast.PercentLit(percent=Decimal(2))),
        negated=True,
    )


def test_parse_rules_when_keyword_used_as_id_then_syntax_error_or_plain_name() -> None:
    """An id may not be a keyword the grammar expects next; the error is positioned."""
    text = 'rule "x"\n  id when\n  author "human:a"\n  created 2026-01-01\n  deny\n'

    (rule,) = parse_rules(text, source="kw.rule")  # the contextual lexer keeps it a name

    assert rule.id == "when"


def test_rule_problem_render_when_long_line_then_caret_under_column() -> None:
    """render() shows file:line:col, the line, and a caret under the column, even for
    a line longer than the shown window."""
    short = RuleProblem(source="f.rule", line=3, column=5, message="boom", line_text="abcdefgh")
    long = RuleProblem(
        source="f.rule", line=1, column=300, message="far", line_text="x" * 299 + "Y" + "z" * 400
    )

    assert short.render() == "f.rule:3:5: error: boom\n  abcdefgh\n      ^"
    shown, caret = long.render().splitlines()[1:]
    assert shown[caret.index("^")] == "Y"


def test_parse_rules_when_several_broken_rules_then_one_problem_each() -> None:
    """A syntax error in one rule does not hide the next rule's."""
    broken = 'rule "a"\n id a\n author "human:a"\n created 2026-01-01\n deny if\n'
    text = broken + broken.replace('"a"', '"b"').replace("id a", "id b").replace(
        "deny if", "deny )"
    )

    with pytest.raises(RuleLoadError) as raised:
        parse_rules(text, source="two.rule")

    assert [(p.line, p.column) for p in raised.value.problems] == [(5, 9), (10, 7)]


def test_parse_rules_when_empty_file_then_no_rules() -> None:
    """A file of comments only holds no rules."""
    assert parse_rules("# nothing yet\n\n", source="empty.rule") == ()
