"""Rules against one order's context: pure, bounded, and failing closed.

`evaluate` matches on node classes and applies operators from closed tables; rule text
never becomes an attribute lookup. Every evaluation carries fuel (a step budget): a
rule that would take more steps stops with an error outcome, as does a division by
zero, an overflow, or a read of a field that is unavailable for this order. An error
outcome is not a pass: the gate treats it as a denial (RuleOutcome.blocks).
"""

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, DivisionByZero, InvalidOperation, Overflow
from types import MappingProxyType
from typing import Final, TypeAlias

from trading_gate.rules import ast
from trading_gate.rules.limits import MAX_DEPTH

__all__ = [
    "DEFAULT_BUDGET",
    "EvaluationError",
    "RuleContext",
    "RuleOutcome",
    "Value",
    "effect_kind",
    "evaluate",
    "evaluate_expr",
    "evaluate_ruleset",
]

Value: TypeAlias = Decimal | str | bool  # a duration is Decimal seconds
DEFAULT_BUDGET: Final = 10_000

# Division is inexact by nature (rounded to 34 digits); what is trapped is what would
# make a value meaningless.
_ARITH: Final = Context(prec=34, traps=[Overflow, InvalidOperation, DivisionByZero])
_ARITH_OPS: Final[Mapping[ast.ArithOp, Callable[[Decimal, Decimal], Decimal]]] = {
    "+": _ARITH.add,
    "-": _ARITH.subtract,
    "*": _ARITH.multiply,
    "/": _ARITH.divide,
}
_ORDER_OPS: Final[Mapping[ast.CompareOp, Callable[[Decimal, Decimal], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SECONDS: Final[Mapping[ast.DurationUnit, Decimal]] = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
}
_EFFECT_KINDS: Final = {
    ast.Deny: "deny",
    ast.ReduceOnly: "reduce_only",
    ast.Require: "require",
    ast.Halt: "halt",
}


class EvaluationError(ValueError):
    """An expression that cannot be evaluated in this context (evaluate_expr only;
    evaluate turns it into an error outcome)."""


class RuleContext(Mapping[str, Value]):
    """Field name -> value for one decision, plus the fields that are unavailable and
    why. Read-only; every Decimal is finite."""

    __slots__ = ("_unavailable", "_values")

    def __init__(self, values: Mapping[str, Value], unavailable: Mapping[str, str]) -> None:
        both = sorted(set(values) & set(unavailable))
        if both:
            raise ValueError(f"fields both present and unavailable: {', '.join(both)}")
        for name, value in values.items():
            if isinstance(value, Decimal) and not value.is_finite():
                raise ValueError(f"field {name} is {value}; rule values must be finite")
        self._values: Mapping[str, Value] = MappingProxyType(dict(values))
        self._unavailable: Mapping[str, str] = MappingProxyType(dict(unavailable))

    def __getitem__(self, name: str) -> Value:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"RuleContext({dict(self._values)!r}, unavailable={dict(self._unavailable)!r})"

    @property
    def unavailable(self) -> Mapping[str, str]:
        """Field name -> why it has no value for this order (reading it is an error)."""
        return self._unavailable


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleOutcome:
    """One rule's result: fired or not, or an error (which the gate treats as deny)."""

    rule_id: str
    effect: ast.Effect
    fired: bool
    message: str
    error: str | None = None
    steps: int = 0

    @property
    def kind(self) -> str:
        """deny, reduce_only, require or halt."""
        return effect_kind(self.effect)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def blocks(self) -> bool:
        """Fired, or failed: fail closed."""
        return self.fired or self.error is not None


def effect_kind(effect: ast.Effect) -> str:
    """The effect's keyword: deny, reduce_only, require or halt."""
    return _EFFECT_KINDS[type(effect)]


def evaluate(rule: ast.Rule, ctx: RuleContext, *, budget: int = DEFAULT_BUDGET) -> RuleOutcome:
    """Whether `rule` fires for this context: its `when` and its effect's `if` both
    hold, and (reduce_only, require) the order breaks what the effect asks for.

    Never raises for a rule that passed check_rules: failures are error outcomes.
    """
    effect = rule.effect
    message = effect.message if effect.message is not None else rule.name
    run = _Run(ctx, budget)
    try:
        fired = run.holds(rule.when) and run.holds(effect.condition) and _breaks(effect, run)
    except EvaluationError as exc:
        return RuleOutcome(
            rule_id=rule.id,
            effect=effect,
            fired=False,
            message=message,
            error=str(exc),
            steps=run.steps,
        )
    return RuleOutcome(
        rule_id=rule.id, effect=effect, fired=fired, message=message, steps=run.steps
    )


def evaluate_ruleset(
    rules: Iterable[ast.Rule], ctx: RuleContext, *, budget: int = DEFAULT_BUDGET
) -> tuple[RuleOutcome, ...]:
    """Every rule's outcome, in order (each rule has its own budget)."""
    return tuple(evaluate(rule, ctx, budget=budget) for rule in rules)


def evaluate_expr(expr: ast.Expr, ctx: RuleContext, *, budget: int = DEFAULT_BUDGET) -> Value:
    """The value of one expression.

    Raises:
        EvaluationError: naming the operator or field and its position.
    """
    return _Run(ctx, budget).value(expr, 1)


def _breaks(effect: ast.Effect, run: "_Run") -> bool:
    match effect:
        case ast.ReduceOnly():
            return run.flag("order.reduces_position", effect) is False
        case ast.Require(field=flag):
            return run.flag(f"order.{flag}", effect) is False
        case _:
            return True


def _where(node: ast.Expr | ast.Effect) -> str:
    return f"line {node.line}:{node.column}"


class _Run:
    """One evaluation's fuel and context."""

    __slots__ = ("budget", "ctx", "steps")

    def __init__(self, ctx: RuleContext, budget: int) -> None:
        self.ctx, self.budget, self.steps = ctx, budget, 0

    def holds(self, condition: ast.Expr | None) -> bool:
        if condition is None:
            return True
        return self.boolean(condition, 1)

    def flag(self, name: str, effect: ast.Effect) -> bool:
        value = self.read(name, effect)
        if not isinstance(value, bool):
            raise EvaluationError(f"{_where(effect)}: {name} is not true or false")
        return value

    def read(self, name: str, node: ast.Expr | ast.Effect) -> Value:
        ctx = self.ctx
        if name in ctx:
            return ctx[name]
        reason = ctx.unavailable.get(name)
        if reason is not None:
            raise EvaluationError(f"{_where(node)}: {name} is unavailable: {reason}")
        raise EvaluationError(f"{_where(node)}: {name} is not in the context")

    def boolean(self, expr: ast.Expr, depth: int) -> bool:
        value = self.value(expr, depth)
        if not isinstance(value, bool):
            raise EvaluationError(f"{_where(expr)}: expected true or false")
        return value

    def number(self, expr: ast.Expr, depth: int) -> Decimal:
        value = self.value(expr, depth)
        if not isinstance(value, Decimal):
            raise EvaluationError(f"{_where(expr)}: expected a number or duration")
        return value

    def spend(self, expr: ast.Expr) -> None:
        self.steps += 1
        if self.steps > self.budget:
            raise EvaluationError(f"{_where(expr)}: step budget of {self.budget} exceeded")

    def tick(self, expr: ast.Expr, depth: int) -> None:
        self.spend(expr)
        if depth > MAX_DEPTH:
            raise EvaluationError(f"{_where(expr)}: nested deeper than {MAX_DEPTH}")

    def value(self, expr: ast.Expr, depth: int) -> Value:
        self.tick(expr, depth)
        match expr:
            case ast.Field(name=name):
                return self.read(name, expr)
            case ast.Logical(op=op, operands=operands):
                return self.logical(op, operands, depth + 1)
            case ast.Not(operand=operand):
                return not self.boolean(operand, depth + 1)
            case ast.Comparison():
                return self.compare(expr, depth + 1)
            case ast.Arithmetic(op=op, left=left, right=right):
                a, b = self.number(left, depth + 1), self.number(right, depth + 1)
                return _decimal(op, expr, lambda: _ARITH_OPS[op](a, b))
            case ast.Negate(operand=operand):
                x = self.number(operand, depth + 1)
                return _decimal("-", expr, lambda: _ARITH.minus(x))
            case ast.InList(subject=subject, items=items, negated=negated):
                found = self.member(subject, items, depth + 1)
                return found is not negated
            case ast.Between(subject=subject, low=low, high=high):
                x = self.number(subject, depth + 1)
                return self.number(low, depth + 1) <= x <= self.number(high, depth + 1)
            case _:
                return _literal(expr)

    def logical(self, op: ast.LogicalOp, operands: tuple[ast.Expr, ...], depth: int) -> bool:
        # Short-circuit: `or` stops at the first true operand, `and` at the first false.
        stop = op == "or"
        for operand in operands:
            if self.boolean(operand, depth) is stop:
                return stop
        return not stop

    def compare(self, expr: ast.Comparison, depth: int) -> bool:
        left, right = self.value(expr.left, depth), self.value(expr.right, depth)
        # Python would call True == Decimal(1) equal; rule values of two types never are.
        if type(left) is not type(right):
            raise EvaluationError(f"{_where(expr)}: {expr.op} between values of two types")
        if expr.op == "==":
            return left == right
        if expr.op == "!=":
            return left != right
        if not isinstance(left, Decimal) or not isinstance(right, Decimal):
            raise EvaluationError(f"{_where(expr)}: {expr.op} needs numbers or durations")
        return _ORDER_OPS[expr.op](left, right)

    def member(self, subject: ast.Expr, items: tuple[ast.LiteralExpr, ...], depth: int) -> bool:
        value = self.value(subject, depth)
        for item in items:
            self.spend(item)
            candidate = _literal(item)
            if type(candidate) is type(value) and candidate == value:
                return True
        return False


def _decimal(op: str, node: ast.Expr, compute: Callable[[], Decimal]) -> Decimal:
    try:
        return compute()
    except DivisionByZero:
        raise EvaluationError(f"{_where(node)}: division by zero") from None
    except DecimalException as exc:
        name = "overflow" if isinstance(exc, Overflow) else "invalid operation"
        raise EvaluationError(f"{_where(node)}: {name} in {op}") from None


def _literal(expr: ast.Expr) -> Value:
    match expr:
        case ast.StringLit(value=text):
            return text
        case ast.BoolLit(value=truth):
            return truth
        case ast.NumberLit(value=number):
            return number
        case ast.PercentLit(percent=percent):
            return _decimal("%", expr, lambda: _ARITH.multiply(percent, Decimal("0.01")))
        case ast.DurationLit(amount=amount, unit=unit):
            return _decimal(unit, expr, lambda: _ARITH.multiply(amount, _SECONDS[unit]))
        case _:
            raise EvaluationError(f"{_where(expr)}: not an expression: {type(expr).__name__}")
