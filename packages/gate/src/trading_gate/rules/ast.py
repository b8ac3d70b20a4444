"""The rule language's syntax tree: frozen dataclasses, each with the line and column
where its text starts.

Positions (and a rule's own source text) are left out of `==`, so a rule printed by
`printer.py` and parsed again compares equal to the original. Nodes hold values only:
no node ever evaluates anything, and nothing here knows the vocabulary.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, TypeAlias

__all__ = [
    "ArithOp",
    "Arithmetic",
    "Between",
    "BoolLit",
    "CompareOp",
    "Comparison",
    "Deny",
    "DurationLit",
    "DurationUnit",
    "Effect",
    "Expr",
    "Field",
    "Halt",
    "InList",
    "LiteralExpr",
    "Logical",
    "LogicalOp",
    "Negate",
    "Not",
    "NumberLit",
    "PercentLit",
    "ReduceOnly",
    "Require",
    "RequireField",
    "Rule",
    "StringLit",
    "children",
]

CompareOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]
ArithOp: TypeAlias = Literal["+", "-", "*", "/"]
LogicalOp: TypeAlias = Literal["and", "or"]
DurationUnit: TypeAlias = Literal["ms", "s", "m", "h", "d"]
RequireField: TypeAlias = Literal["post_only", "reduce_only"]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Node:
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class StringLit(_Node):
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class NumberLit(_Node):
    """A plain number: unitless until it meets a field (`> 1000` against USD is USD)."""

    value: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class PercentLit(_Node):
    """`20%` holds percent=20; it means the ratio 0.20."""

    percent: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class DurationLit(_Node):
    """`500ms` holds amount=500, unit="ms"; it means 0.5 seconds."""

    amount: Decimal
    unit: DurationUnit


@dataclass(frozen=True, kw_only=True, slots=True)
class BoolLit(_Node):
    value: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Field(_Node):
    """A vocabulary name such as `order.product`; check.py refuses any other name."""

    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Negate(_Node):
    operand: "Expr"


@dataclass(frozen=True, kw_only=True, slots=True)
class Not(_Node):
    operand: "Expr"


@dataclass(frozen=True, kw_only=True, slots=True)
class Arithmetic(_Node):
    op: ArithOp
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison(_Node):
    op: CompareOp
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, kw_only=True, slots=True)
class Logical(_Node):
    """`a and b and c` is one node with three operands: a long chain stays shallow."""

    op: LogicalOp
    operands: tuple["Expr", ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class InList(_Node):
    """`x in [...]`, or `x not in [...]` when negated; the items are literals only."""

    subject: "Expr"
    items: tuple["LiteralExpr", ...]
    negated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Between(_Node):
    """`x between low and high`, inclusive at both ends."""

    subject: "Expr"
    low: "Expr"
    high: "Expr"


LiteralExpr: TypeAlias = StringLit | NumberLit | PercentLit | DurationLit | BoolLit
Expr: TypeAlias = (
    LiteralExpr | Field | Negate | Not | Arithmetic | Comparison | Logical | InList | Between
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Deny(_Node):
    message: str | None = None
    condition: Expr | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReduceOnly(_Node):
    """Fires when the order does not reduce the position."""

    message: str | None = None
    condition: Expr | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Require(_Node):
    """Fires when the order's boolean flag `field` is false."""

    field: RequireField
    message: str | None = None
    condition: Expr | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Halt(_Node):
    """Latches HALTED; check.py allows it in the core tier only."""

    message: str | None = None
    condition: Expr | None = None


Effect: TypeAlias = Deny | ReduceOnly | Require | Halt


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule(_Node):
    """One rule. Its tier (core, active, shadow) is where its file lives, not its text.

    `source_text` is the rule's own text as loaded and `content_sha256` its hex digest,
    for the audit log; neither takes part in `==`.
    """

    id: str
    name: str
    author: str
    created: date
    when: Expr | None
    effect: Effect
    source_text: str = field(default="", compare=False)
    content_sha256: str = field(default="", compare=False)


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `node`, left to right (literals and fields: none)."""
    match node:
        case Negate(operand=operand) | Not(operand=operand):
            return (operand,)
        case Arithmetic(left=left, right=right) | Comparison(left=left, right=right):
            return (left, right)
        case Logical(operands=operands):
            return operands
        case InList(subject=subject, items=items):
            return (subject, *items)
        case Between(subject=subject, low=low, high=high):
            return (subject, low, high)
        case _:
            return ()
