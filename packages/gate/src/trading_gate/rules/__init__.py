"""The rule language: text -> AST (parse) -> static checks (check) -> outcomes (evaluate).

Pure: the only file this package reads is its own grammar.lark, once, at import.
`load_rules` is what a loader calls: it parses, checks for the file's tier, and either
returns the rules or raises one RuleLoadError listing every problem, each of which
renders as `file:line:col: error: ...` with the line and a caret.
"""

from trading_gate.rules.ast import (
    Deny,
    Effect,
    Expr,
    Halt,
    ReduceOnly,
    Require,
    Rule,
)
from trading_gate.rules.check import Tier, check_rules
from trading_gate.rules.context import rule_context
from trading_gate.rules.errors import RuleLoadError, RuleProblem
from trading_gate.rules.evaluate import (
    DEFAULT_BUDGET,
    RuleContext,
    RuleOutcome,
    Value,
    evaluate,
    evaluate_ruleset,
)
from trading_gate.rules.parse import parse_partial, parse_rules
from trading_gate.rules.printer import print_rule, print_rules
from trading_gate.rules.vocabulary import VOCABULARY, FieldSpec, describe

__all__ = [
    "DEFAULT_BUDGET",
    "VOCABULARY",
    "Deny",
    "Effect",
    "Expr",
    "FieldSpec",
    "Halt",
    "ReduceOnly",
    "Require",
    "Rule",
    "RuleContext",
    "RuleLoadError",
    "RuleOutcome",
    "RuleProblem",
    "Tier",
    "Value",
    "check_rules",
    "describe_vocabulary",
    "evaluate",
    "evaluate_ruleset",
    "load_rules",
    "parse_rules",
    "print_rule",
    "print_rules",
    "rule_context",
]


def load_rules(text: str, *, source: str, tier: Tier) -> tuple[Rule, ...]:
    """The rules of the file `source` holding `text`, parsed and checked for `tier`.

    Raises:
        RuleLoadError: listing every problem (limits, syntax, names, types, dead rules).
    """
    rules, syntax = parse_partial(text, source=source)
    problems = syntax + check_rules(rules, tier=tier, source_text=text, source=source)
    if problems:
        raise RuleLoadError(sorted(problems, key=lambda p: (p.line, p.column)))
    return rules


def describe_vocabulary() -> str:
    """Every field a rule may read, and the operators, as Markdown tables."""
    return describe()
