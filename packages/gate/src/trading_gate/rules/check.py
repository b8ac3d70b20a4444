"""Load-time checks over parsed rules, every problem reported at once.

Names must be vocabulary fields (with a "did you mean"); types and units must agree
(usd + usd, ratio x usd, usd / usd = ratio, base x usd = usd; never usd against base
or a duration);
an enum compared with a literal must name one of its values; conditions must be true
or false; `halt` belongs to core rules only; ids and names are unique within a set;
and a rule whose condition folds to a constant false, which can never fire, is refused
as the mistake it surely is.

The walk recurses over the tree, which is safe because it first measures the tree with
an explicit stack and skips typing any rule beyond the depth or node limit.
"""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from trading_gate.rules import ast
from trading_gate.rules.errors import RuleProblem, line_text
from trading_gate.rules.evaluate import EvaluationError, RuleContext, evaluate_expr
from trading_gate.rules.limits import MAX_DEPTH, MAX_NODES, measure
from trading_gate.rules.vocabulary import VOCABULARY, Kind, Unit

__all__ = ["Tier", "check_rules"]

Tier = Literal["core", "active", "shadow"]

_ID: Final = re.compile(r"[a-z][a-z0-9_]{0,47}")
_AUTHOR: Final = re.compile(r"human:[A-Za-z0-9_.-]{1,64}|proposal:P-[0-9]{1,8}")
_DIMENSIONLESS: Final = (Unit.NUMBER, Unit.RATIO)
_EMPTY: Final = RuleContext({}, {})


@dataclass(frozen=True, slots=True)
class _Type:
    kind: Kind
    unit: Unit | None = None
    values: tuple[str, ...] = ()  # an enum's allowed values

    @property
    def name(self) -> str:
        if self.kind is Kind.ENUM:
            return "enum " + "|".join(self.values)
        if self.unit is Unit.NUMBER:
            return "number"
        return self.kind.value if self.unit is None else f"{self.kind.value} {self.unit.value}"


_BOOL: Final = _Type(Kind.BOOL)
_STRING: Final = _Type(Kind.STRING)
_DURATION: Final = _Type(Kind.DURATION)


def _decimal(unit: Unit) -> _Type:
    return _Type(Kind.DECIMAL, unit)


_LITERAL_TYPES: Final[dict[type[ast.Expr], _Type]] = {
    ast.StringLit: _STRING,
    ast.BoolLit: _BOOL,
    ast.NumberLit: _decimal(Unit.NUMBER),
    ast.PercentLit: _decimal(Unit.RATIO),
}


@dataclass
class _Checker:
    source: str
    text: str
    problems: list[RuleProblem] = field(default_factory=list)

    def report(self, node: ast.Expr | ast.Effect | ast.Rule, message: str) -> None:
        self.problems.append(
            RuleProblem(
                source=self.source,
                line=node.line,
                column=node.column,
                message=message,
                line_text=line_text(self.text, node.line),
            )
        )


def check_rules(
    rules: Iterable[ast.Rule], *, tier: Tier, source_text: str, source: str
) -> tuple[RuleProblem, ...]:
    """Every problem in `rules`, loaded from `source` into `tier`; empty if none."""
    checker = _Checker(source=source, text=source_text)
    rules = tuple(rules)
    _check_unique(checker, rules)
    for rule in rules:
        _check_rule(checker, rule, tier)
    return tuple(checker.problems)


def _check_unique(checker: _Checker, rules: Sequence[ast.Rule]) -> None:
    first_id: dict[str, ast.Rule] = {}
    first_name: dict[str, ast.Rule] = {}
    for rule in rules:
        for what, key, seen in (("id", rule.id, first_id), ("name", rule.name, first_name)):
            earlier = seen.setdefault(key, rule)
            if earlier is not rule:
                checker.report(
                    rule, f"duplicate rule {what} {key[:60]!r} (first at line {earlier.line})"
                )


def _check_metadata(checker: _Checker, rule: ast.Rule) -> None:
    if not _ID.fullmatch(rule.id):
        checker.report(rule, f"rule id {rule.id[:60]!r} must match [a-z][a-z0-9_]{{0,47}}")
    if not _AUTHOR.fullmatch(rule.author):
        message = f"author {rule.author[:60]!r} must be human:<name> or proposal:P-<number>"
        checker.report(rule, message)
    if not rule.name.strip():
        checker.report(rule, "rule name is empty")


def _check_rule(checker: _Checker, rule: ast.Rule, tier: Tier) -> None:
    _check_metadata(checker, rule)
    effect = rule.effect
    if isinstance(effect, ast.Halt) and tier != "core":
        checker.report(effect, f"halt is allowed only in core rules, not in {tier} rules")
    depth, count = measure((rule.when, effect.condition))
    if depth > MAX_DEPTH or count > MAX_NODES:
        checker.report(rule, f"rule exceeds {MAX_DEPTH} levels or {MAX_NODES} nodes")
        return
    before = len(checker.problems)
    for keyword, condition in (("when", rule.when), ("if", effect.condition)):
        if condition is not None:
            _check_condition(checker, keyword, condition)
    if len(checker.problems) > before:
        return  # folding an ill-typed rule would only repeat its problems
    for keyword, condition in (("when", rule.when), ("if", effect.condition)):
        if condition is None:
            continue
        if _constant_failures(checker, condition):
            continue
        if _fold(condition) is False:
            checker.report(condition, f"rule can never fire: its `{keyword}` is always false")


def _check_condition(checker: _Checker, keyword: str, condition: ast.Expr) -> None:
    found = _type(checker, condition)
    if found is not None and found.kind is not Kind.BOOL:
        checker.report(condition, f"`{keyword}` needs true or false, got {found.name}")


# ---------------------------------------------------------------- types


def _type(checker: _Checker, expr: ast.Expr) -> _Type | None:
    """The type of `expr`, or None once a problem inside it is reported."""
    match expr:
        case ast.StringLit() | ast.BoolLit() | ast.NumberLit() | ast.PercentLit():
            return _LITERAL_TYPES[type(expr)]
        case ast.DurationLit():
            return _DURATION
        case ast.Field(name=name):
            return _field(checker, expr, name)
        case ast.Not(operand=operand) | ast.Negate(operand=operand):
            return _unary(checker, expr, _type(checker, operand))
        case ast.Logical(operands=operands):
            return _logical(checker, expr, operands)
        case ast.Arithmetic(left=left, right=right):
            return _arithmetic(checker, expr, _type(checker, left), _type(checker, right))
        case ast.Comparison():
            return _comparison(checker, expr)
        case ast.InList():
            return _in_list(checker, expr)
        case ast.Between():
            return _between(checker, expr)


def _field(checker: _Checker, node: ast.Field, name: str) -> _Type | None:
    spec = VOCABULARY.get(name)
    if spec is not None:
        return _Type(spec.kind, spec.unit, spec.values)
    shown = name[:60]
    if "__" in name:
        checker.report(node, f'name "{shown}" is not allowed: rules read vocabulary fields only')
        return None
    close = difflib.get_close_matches(name, VOCABULARY, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    checker.report(node, f'unknown field "{shown}"{hint}')
    return None


def _unary(checker: _Checker, node: ast.Not | ast.Negate, operand: _Type | None) -> _Type | None:
    if operand is None:
        return None
    if isinstance(node, ast.Not):
        if operand.kind is Kind.BOOL:
            return _BOOL
        checker.report(node, f"`not` needs true or false, got {operand.name}")
        return None
    if operand.kind in (Kind.DECIMAL, Kind.DURATION):
        return operand
    checker.report(node, f"unary - needs a number or a duration, got {operand.name}")
    return None


def _logical(checker: _Checker, node: ast.Logical, operands: tuple[ast.Expr, ...]) -> _Type | None:
    ok = len(operands) >= 2
    if not ok:
        checker.report(node, f"`{node.op}` needs at least two operands")
    for operand in operands:
        found = _type(checker, operand)
        if found is None:
            ok = False
        elif found.kind is not Kind.BOOL:
            checker.report(operand, f"`{node.op}` needs true or false, got {found.name}")
            ok = False
    return _BOOL if ok else None


def _join(a: Unit | None, b: Unit | None) -> Unit | None:
    """The unit of a sum or comparison of a and b; None if they do not mix."""
    if a is None or b is None:
        return None
    if a is b or b is Unit.NUMBER:
        return a
    return b if a is Unit.NUMBER else None


def _scaled(op: str, a: Unit | None, b: Unit | None) -> Unit | None:
    """The unit of a * b or a / b; None if it has none we know (usd x usd)."""
    if a is None or b is None:
        return None
    # A size times a price is a notional, and a notional over a size is a price.
    if (op == "*" and {a, b} == {Unit.BASE, Unit.USD}) or (op, a, b) == ("/", Unit.USD, Unit.BASE):
        return Unit.USD
    if op == "*":
        if a in _DIMENSIONLESS and b in _DIMENSIONLESS:
            return Unit.RATIO if Unit.RATIO in (a, b) else Unit.NUMBER
        if b in _DIMENSIONLESS:
            return a
        return b if a in _DIMENSIONLESS else None
    if b is Unit.NUMBER:
        return a
    if b is Unit.RATIO:
        return Unit.RATIO if a is Unit.NUMBER else a
    return Unit.RATIO if a is b else None


_VERB: Final = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def _arithmetic(
    checker: _Checker, node: ast.Arithmetic, left: _Type | None, right: _Type | None
) -> _Type | None:
    if left is None or right is None:
        return None
    result = _arithmetic_type(node.op, left, right)
    if result is None:
        checker.report(node, f"cannot {_VERB[node.op]} {left.name} and {right.name}")
    return result


def _arithmetic_type(op: ast.ArithOp, left: _Type, right: _Type) -> _Type | None:
    kinds = (left.kind, right.kind)
    if kinds == (Kind.DECIMAL, Kind.DECIMAL):
        unit = _join(left.unit, right.unit) if op in "+-" else _scaled(op, left.unit, right.unit)
        return None if unit is None else _decimal(unit)
    if kinds == (Kind.DURATION, Kind.DURATION):
        return {"+": _DURATION, "-": _DURATION, "/": _decimal(Unit.RATIO)}.get(op)
    # A duration scales by a plain number or ratio: 2 * 5s, 5s / 2; never 2 / 5s.
    if kinds == (Kind.DURATION, Kind.DECIMAL) and op in "*/" and right.unit in _DIMENSIONLESS:
        return _DURATION
    if kinds == (Kind.DECIMAL, Kind.DURATION) and op == "*" and left.unit in _DIMENSIONLESS:
        return _DURATION
    return None


def _comparable(checker: _Checker, node: ast.Expr, op: str, a: _Type, b: _Type) -> bool:
    """Whether `a op b` type-checks; reports why not."""
    ordered = op not in ("==", "!=")
    if a.kind is Kind.DECIMAL and b.kind is Kind.DECIMAL:
        ok = _join(a.unit, b.unit) is not None
    elif a.kind is Kind.DURATION and b.kind is Kind.DURATION:
        ok = True
    elif ordered and not {a.kind, b.kind} <= {Kind.DECIMAL, Kind.DURATION}:
        checker.report(node, f"{op} needs numbers or durations, got {a.name} and {b.name}")
        return False
    else:
        textual = {a.kind, b.kind} <= {Kind.STRING, Kind.ENUM}
        ok = not ordered and (textual or a.kind is b.kind is Kind.BOOL)
    if not ok:
        checker.report(node, f"cannot compare {a.name} with {b.name}")
    return ok


def _enum_literal(checker: _Checker, spec: _Type, literal: ast.Expr) -> bool:
    if spec.kind is not Kind.ENUM or not isinstance(literal, ast.StringLit):
        return True
    if literal.value in spec.values:
        return True
    close = difflib.get_close_matches(literal.value, spec.values, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    allowed = ", ".join(spec.values)
    checker.report(literal, f'"{literal.value[:60]}" is not one of {allowed}{hint}')
    return False


def _comparison(checker: _Checker, node: ast.Comparison) -> _Type | None:
    left, right = _type(checker, node.left), _type(checker, node.right)
    if left is None or right is None:
        return None
    if not _comparable(checker, node, node.op, left, right):
        return None
    ok = _enum_literal(checker, left, node.right) & _enum_literal(checker, right, node.left)
    return _BOOL if ok else None


def _in_list(checker: _Checker, node: ast.InList) -> _Type | None:
    subject = _type(checker, node.subject)
    if subject is None:
        return None
    ok = bool(node.items)
    if not ok:
        checker.report(node, "`in` needs at least one item")
    for item in node.items:
        found = _type(checker, item)
        if found is None or not _comparable(checker, item, "==", subject, found):
            ok = False
            continue
        ok = _enum_literal(checker, subject, item) and ok
    return _BOOL if ok else None


def _between(checker: _Checker, node: ast.Between) -> _Type | None:
    subject = _type(checker, node.subject)
    low, high = _type(checker, node.low), _type(checker, node.high)
    if subject is None or low is None or high is None:
        return None
    low_ok = _comparable(checker, node, "<=", subject, low)
    high_ok = _comparable(checker, node, "<=", subject, high)
    return _BOOL if low_ok and high_ok else None


# ---------------------------------------------------------------- constant folding


def _constant_failures(checker: _Checker, expr: ast.Expr) -> bool:
    """Report each largest constant part of `expr` that cannot be evaluated (1 / 0):
    it would fail for every order. True if there was one."""
    if _constant(expr):
        try:
            evaluate_expr(expr, _EMPTY)
        except EvaluationError as exc:
            checker.report(expr, f"constant expression cannot be evaluated: {exc}")
            return True
        return False
    failures = [_constant_failures(checker, child) for child in ast.children(expr)]
    return any(failures)


def _fold(expr: ast.Expr) -> bool | None:
    """True or False if the condition is constant, None if it depends on the order.
    Only called once `_constant_failures` found nothing, so evaluation succeeds."""
    match expr:
        case ast.Logical(op=op, operands=operands):
            values = [_fold(o) for o in operands]
            decisive = op == "or"
            if decisive in values:
                return decisive
            return (not decisive) if all(v is not None for v in values) else None
        case ast.Not(operand=operand):
            inner = _fold(operand)
            return None if inner is None else not inner
        case ast.Between(low=low, high=high) if _constant(low) and _constant(high):
            lowest, highest = _value(low), _value(high)
            empty = (
                isinstance(lowest, Decimal) and isinstance(highest, Decimal) and lowest > highest
            )
            if empty:
                return False
    if not _constant(expr):
        return None
    value = _value(expr)
    return value if isinstance(value, bool) else None


def _constant(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.Field):
        return False
    return all(_constant(child) for child in ast.children(expr))


def _value(expr: ast.Expr) -> Decimal | str | bool | None:
    try:
        return evaluate_expr(expr, _EMPTY)
    except EvaluationError:
        return None
