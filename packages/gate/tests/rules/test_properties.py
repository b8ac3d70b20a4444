"""Properties of the rule language over generated syntax trees (hypothesis).

- printing a well-typed rule and parsing the text gives back an equal rule;
- the checker never raises on any tree, well-typed or not, and a well-typed rule
  passes it unless constant folding proves it dead or failing;
- a rule that passes the checker never makes `evaluate` raise, in any context, and
  takes at most one step per node: far inside the default budget.

CI runs EXAMPLES (150) examples per property, to stay within seconds; the nightly
figure of RELIABILITY G18 is 10 000, which is this file with EXAMPLES raised.
"""

import string
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading_gate.rules import (
    DEFAULT_BUDGET,
    RuleContext,
    ast,
    check_rules,
    evaluate,
    parse_rules,
    print_rule,
)
from trading_gate.rules.limits import measure
from trading_gate.rules.vocabulary import VOCABULARY, Kind, Unit

EXAMPLES: Final = 150
FAST: Final = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MAX_LEVEL: Final = 3

# ---------------------------------------------------------------- leaves

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + ' _-:"\\%#', max_size=12)
_AMOUNT = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)
_UNITS: Final = (Unit.USD, Unit.BASE, Unit.RATIO, Unit.COUNT, Unit.BPS)


def _fields(kind: Kind, unit: Unit | None = None) -> list[str]:
    return [f.name for f in VOCABULARY.values() if f.kind is kind and f.unit is unit]


def _field(names: list[str]) -> st.SearchStrategy[ast.Expr]:
    return st.sampled_from(names).map(lambda n: ast.Field(name=n))


_NUMBER = _AMOUNT.map(lambda d: ast.NumberLit(value=d))
_PERCENT = _AMOUNT.map(lambda d: ast.PercentLit(percent=d))
_DURATION = st.builds(
    lambda a, u: ast.DurationLit(amount=a, unit=u),
    _AMOUNT,
    st.sampled_from(["ms", "s", "m", "h", "d"]),
)

# ---------------------------------------------------------------- typed expressions


@cache
def number(unit: Unit, level: int) -> st.SearchStrategy[ast.Expr]:
    """A well-typed decimal expression of `unit` (a plain number fits any unit)."""
    leaves = st.one_of(_field(_fields(Kind.DECIMAL, unit)), _NUMBER)
    if unit is Unit.RATIO:
        leaves = st.one_of(leaves, _PERCENT)
    if level == 0:
        return leaves
    same = number(unit, level - 1)
    # A plain number scales any unit and keeps it; 20% * 5 is a ratio, not usd.
    scalar = _PERCENT if unit is Unit.RATIO else _NUMBER

    def arith(op: ast.ArithOp) -> Callable[[ast.Expr, ast.Expr], ast.Expr]:
        return lambda a, b: ast.Arithmetic(op=op, left=a, right=b)

    return st.one_of(
        leaves,
        st.builds(arith("+"), same, same),
        st.builds(arith("-"), same, same),
        st.builds(arith("*"), scalar, same),
        st.builds(arith("/"), same, _NUMBER),
        same.map(lambda e: ast.Negate(operand=e)),
    )


@cache
def duration(level: int) -> st.SearchStrategy[ast.Expr]:
    leaves = st.one_of(_field(_fields(Kind.DURATION)), _DURATION)
    if level == 0:
        return leaves
    same = duration(level - 1)
    return st.one_of(
        leaves,
        st.builds(lambda a, b: ast.Arithmetic(op="+", left=a, right=b), same, same),
        st.builds(lambda a, b: ast.Arithmetic(op="*", left=a, right=b), _NUMBER, same),
    )


def _enum_compare() -> st.SearchStrategy[ast.Expr]:
    enums = [f for f in VOCABULARY.values() if f.kind is Kind.ENUM]

    def build(spec_index: int, data: st.DataObject) -> ast.Expr:
        spec = enums[spec_index % len(enums)]
        values = data.draw(st.lists(st.sampled_from(spec.values), min_size=1, max_size=3))
        subject = ast.Field(name=spec.name)
        if len(values) == 1:
            op = data.draw(st.sampled_from(["==", "!="]))
            return ast.Comparison(op=op, left=subject, right=ast.StringLit(value=values[0]))
        items = tuple(ast.StringLit(value=v) for v in values)
        return ast.InList(subject=subject, items=items, negated=data.draw(st.booleans()))

    return st.builds(build, st.integers(0, 100), st.data())


@cache
def boolean(level: int) -> st.SearchStrategy[ast.Expr]:
    """A well-typed condition."""
    leaves = st.one_of(
        _field(_fields(Kind.BOOL)), st.booleans().map(lambda b: ast.BoolLit(value=b))
    )
    if level == 0:
        return leaves
    lower = boolean(level - 1)
    compare_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    numeric = st.sampled_from(_UNITS).flatmap(lambda u: st.tuples(*[number(u, level - 1)] * 3))
    strings = st.tuples(_field(_fields(Kind.STRING)), _TEXT.map(lambda t: ast.StringLit(value=t)))
    return st.one_of(
        leaves,
        lower.map(lambda e: ast.Not(operand=e)),
        st.builds(
            lambda op, xs: ast.Logical(op=op, operands=tuple(xs)),
            st.sampled_from(["and", "or"]),
            st.lists(lower, min_size=2, max_size=3),
        ),
        st.builds(lambda op, t: ast.Comparison(op=op, left=t[0], right=t[1]), compare_ops, numeric),
        st.builds(lambda t: ast.Between(subject=t[0], low=t[1], high=t[2]), numeric),
        st.builds(
            lambda op, a, b: ast.Comparison(op=op, left=a, right=b),
            compare_ops,
            duration(level - 1),
            duration(level - 1),
        ),
        strings.map(lambda t: ast.Comparison(op="==", left=t[0], right=t[1])),
        _enum_compare(),
    )


def _effect(condition: st.SearchStrategy[ast.Expr | None]) -> st.SearchStrategy[ast.Effect]:
    message = st.none() | _TEXT

    def build(kind: str, text: str | None, cond: ast.Expr | None, flag: Any) -> ast.Effect:
        if kind == "deny":
            return ast.Deny(message=text, condition=cond)
        if kind == "reduce_only":
            return ast.ReduceOnly(message=text, condition=cond)
        if kind == "halt":
            return ast.Halt(message=text, condition=cond)
        return ast.Require(field=flag, message=text, condition=cond)

    kinds = st.sampled_from(["deny", "reduce_only", "halt", "require"])
    flags = st.sampled_from(["post_only", "reduce_only"])
    return st.builds(build, kinds, message, condition, flags)


def rules(condition: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Rule]:
    ids = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
    return st.builds(
        lambda rule_id, name, when, effect, day: ast.Rule(
            id=rule_id,
            name=name or "unnamed",
            author="human:alice",
            created=date(2026, 1, 1) + day,
            when=when,
            effect=effect,
        ),
        ids,
        _TEXT,
        st.none() | condition,
        _effect(st.none() | condition),
        st.timedeltas(min_value=date.min - date.min, max_value=date(2030, 1, 1) - date(2026, 1, 1)),
    )


WELL_TYPED: Final = rules(boolean(MAX_LEVEL))

# ---------------------------------------------------------------- any tree at all


def _any_leaf() -> st.SearchStrategy[ast.Expr]:
    names = st.sampled_from([*VOCABULARY, "order.prodcut", "__class__", "x"])
    return st.one_of(
        names.map(lambda n: ast.Field(name=n)),
        _NUMBER,
        _PERCENT,
        _DURATION,
        _TEXT.map(lambda t: ast.StringLit(value=t)),
        st.booleans().map(lambda b: ast.BoolLit(value=b)),
        st.sampled_from(["high", "buy", "sun"]).map(lambda t: ast.StringLit(value=t)),
    )


def _any_node(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    lits = st.lists(_any_leaf().filter(lambda e: not isinstance(e, ast.Field)), max_size=3)
    return st.one_of(
        children.map(lambda e: ast.Not(operand=e)),
        children.map(lambda e: ast.Negate(operand=e)),
        st.builds(
            lambda op, a, b: ast.Arithmetic(op=op, left=a, right=b),
            st.sampled_from(["+", "-", "*", "/"]),
            children,
            children,
        ),
        st.builds(
            lambda op, a, b: ast.Comparison(op=op, left=a, right=b),
            st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
            children,
            children,
        ),
        st.builds(
            lambda op, xs: ast.Logical(op=op, operands=tuple(xs)),
            st.sampled_from(["and", "or"]),
            st.lists(children, max_size=3),
        ),
        st.builds(
            lambda s, xs, n: ast.InList(subject=s, items=tuple(xs), negated=n),
            children,
            lits,
            st.booleans(),
        ),
        st.builds(
            lambda a, b, c: ast.Between(subject=a, low=b, high=c), children, children, children
        ),
    )


ANY_TREE: Final = rules(st.recursive(_any_leaf(), _any_node, max_leaves=40))

# ---------------------------------------------------------------- contexts


def _value(kind: Kind, values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.ENUM:
        return st.sampled_from(values)
    if kind is Kind.STRING:
        return _TEXT
    return st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)


CONTEXTS: Final = st.fixed_dictionaries(
    {f.name: st.tuples(st.booleans(), _value(f.kind, f.values)) for f in VOCABULARY.values()}
).map(
    lambda drawn: RuleContext(
        {name: v for name, (present, v) in drawn.items() if present or name.startswith("order.")},
        {
            name: "unavailable in this example"
            for name, (present, _) in drawn.items()
            if not present and not name.startswith("order.")
        },
    )
)


def _size(rule: ast.Rule) -> int:
    total = 0
    for root in (rule.when, rule.effect.condition):
        stack = [] if root is None else [root]
        while stack:
            node = stack.pop()
            total += 1 + (len(node.items) if isinstance(node, ast.InList) else 0)
            stack.extend(ast.children(node))
    return total


# ---------------------------------------------------------------- properties


@FAST
@given(WELL_TYPED)
def test_print_then_parse_when_well_typed_rule_then_equal(rule: ast.Rule) -> None:
    """print_rule's text parses back to the same rule, and printing is idempotent."""
    text = print_rule(rule)

    (parsed,) = parse_rules(text, source="generated.rule")

    assert parsed == rule
    assert print_rule(parsed) == text


@FAST
@given(WELL_TYPED, CONTEXTS)
def test_check_when_well_typed_then_passes_and_evaluates_in_budget(
    rule: ast.Rule, ctx: RuleContext
) -> None:
    """A generated well-typed rule passes the checker, unless folding finds it dead or
    failing on constants; then it evaluates without raising, one step per node."""
    text = print_rule(rule)

    problems = check_rules((rule,), tier="core", source_text=text, source="generated.rule")
    for problem in problems:
        assert "never fire" in problem.message or "constant" in problem.message, problem.render()
    if problems:
        return
    outcome = evaluate(rule, ctx)

    assert outcome.steps <= _size(rule) <= DEFAULT_BUDGET
    assert outcome.error is None or "budget" not in outcome.error


@FAST
@given(ANY_TREE, CONTEXTS)
def test_check_when_any_tree_then_no_crash_and_passing_rules_evaluate(
    rule: ast.Rule, ctx: RuleContext
) -> None:
    """The checker returns problems (never raises) for any tree; a tree it passes
    evaluates without raising and within one step per node."""
    depth, _ = measure((rule.when, rule.effect.condition))

    problems = check_rules((rule,), tier="core", source_text="", source="random.rule")

    assert all(p.render() for p in problems)
    if not problems:
        assert depth <= 32
        outcome = evaluate(rule, ctx)
        assert outcome.steps <= _size(rule)


@FAST
@given(WELL_TYPED, CONTEXTS, st.integers(min_value=0, max_value=20))
def test_evaluate_when_budget_is_small_then_error_outcome_not_exception(
    rule: ast.Rule, ctx: RuleContext, budget: int
) -> None:
    """A rule that needs more steps than the budget ends in an error outcome."""
    outcome = evaluate(rule, ctx, budget=budget)

    assert outcome.steps <= budget + 1
    if outcome.steps > budget:
        assert outcome.error is not None
        assert "budget" in outcome.error
