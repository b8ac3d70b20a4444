"""Rules back to canonical source text: what parses to an equal AST.

Parentheses are printed only where precedence needs them, so `print_rules` doubles
as a formatter (`te rules fmt`). The printer recurses, which is safe: only trees
within MAX_DEPTH reach it (parse and check both refuse deeper ones).
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from trading_gate.rules import ast
from trading_gate.rules.limits import MAX_DIGITS

__all__ = ["print_expr", "print_rule", "print_rules"]

# Binding strength, loosest first, as in grammar.lark.
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _ATOM = range(1, 9)
_LOGICAL_LEVEL: Final = {"or": _OR, "and": _AND}
_EFFECT_KEYWORD: Final = {ast.Deny: "deny", ast.ReduceOnly: "reduce_only", ast.Halt: "halt"}


def print_rules(rules: Iterable[ast.Rule]) -> str:
    """A rule file holding `rules`, one blank line between them."""
    return "\n".join(print_rule(rule) for rule in rules)


def print_rule(rule: ast.Rule) -> str:
    """One rule as canonical source, ending in a newline."""
    lines = [
        f"rule {_string(rule.name)}",
        f"  id {rule.id}",
        f"  author {_string(rule.author)}",
        f"  created {rule.created.isoformat()}",
    ]
    if rule.when is not None:
        lines.append(f"  when {print_expr(rule.when)}")
    lines.append("  " + _effect(rule.effect))
    return "\n".join(lines) + "\n"


def _effect(effect: ast.Effect) -> str:
    if isinstance(effect, ast.Require):
        words = ["require", effect.field]
    else:
        words = [_EFFECT_KEYWORD[type(effect)]]
    if effect.message is not None:
        words.append(_string(effect.message))
    if effect.condition is not None:
        words += ["if", print_expr(effect.condition)]
    return " ".join(words)


def print_expr(expr: ast.Expr) -> str:
    """An expression as source text."""
    text, _ = _print(expr)
    return text


def _wrap(expr: ast.Expr, needed: int) -> str:
    text, level = _print(expr)
    return text if level >= needed else f"({text})"


def _print(expr: ast.Expr) -> tuple[str, int]:
    """The text of `expr` and how tightly it binds."""
    match expr:
        case ast.Logical(op=op, operands=operands):
            level = _LOGICAL_LEVEL[op]
            return f" {op} ".join(_wrap(o, level + 1) for o in operands), level
        case ast.Not(operand=operand):
            return f"not {_wrap(operand, _NOT)}", _NOT
        case ast.Comparison(op=op, left=left, right=right):
            return f"{_wrap(left, _SUM)} {op} {_wrap(right, _SUM)}", _COMPARE
        case ast.InList(subject=subject, items=items, negated=negated):
            keyword = "not in" if negated else "in"
            shown = ", ".join(_literal(item) for item in items)
            return f"{_wrap(subject, _SUM)} {keyword} [{shown}]", _COMPARE
        case ast.Between(subject=subject, low=low, high=high):
            parts = (_wrap(subject, _SUM), _wrap(low, _SUM), _wrap(high, _SUM))
            return "{} between {} and {}".format(*parts), _COMPARE
        case ast.Arithmetic(op=op, left=left, right=right):
            level = _SUM if op in "+-" else _PRODUCT
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}", level
        case ast.Negate(operand=operand):
            return f"-{_wrap(operand, _UNARY)}", _UNARY
        case ast.Field(name=name):
            return name, _ATOM
        case _:
            return _literal(expr), _ATOM


def _literal(expr: ast.Expr) -> str:
    match expr:
        case ast.StringLit(value=value):
            return _string(value)
        case ast.BoolLit(value=value):
            return "true" if value else "false"
        case ast.NumberLit(value=value):
            return _number(value)
        case ast.PercentLit(percent=percent):
            return f"{percent:f}%"
        case ast.DurationLit(amount=amount, unit=unit):
            return f"{amount:f}{unit}"
        case _:
            raise TypeError(f"not a literal: {type(expr).__name__}")


def _number(value: Decimal) -> str:
    text = str(value)
    # str() writes 1.5E-7 as 0.00000015: more digits than a literal may have.
    if sum(c.isdigit() for c in text.split("E")[0]) > MAX_DIGITS:
        text = f"{value:E}"
    return text


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
