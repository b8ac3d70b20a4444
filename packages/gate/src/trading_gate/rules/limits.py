"""The static limits that keep a hostile rule file cheap to refuse (RELIABILITY section 5).

Each limit is checked before the next stage can be slow: the file size and NUL bytes
before anything else, each rule's size and bracket depth before lark sees it, every
number literal by regex before `Decimal` does, and the syntax tree's depth and size
with an explicit stack, so no input can raise RecursionError anywhere in the package.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from typing import Final

from trading_gate.rules.ast import Expr, children

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_RULE_BYTES",
    "MAX_STRING_CHARS",
    "Chunk",
    "LimitExceeded",
    "Scan",
    "file_problem",
    "measure",
    "parse_number",
    "scan",
]

MAX_FILE_BYTES: Final = 64 * 1024
MAX_RULE_BYTES: Final = 4 * 1024
MAX_DEPTH: Final = 32
MAX_NODES: Final = 512
MAX_STRING_CHARS: Final = 256
MAX_DIGITS: Final = 30
MAX_EXPONENT: Final = 30

# prec 34 holds any 30-digit literal exactly; Inexact is trapped too, so a literal
# can never be rounded silently.
_LITERALS: Final = Context(prec=34, traps=[Overflow, InvalidOperation, DivisionByZero, Inexact])
_NUMBER: Final = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?")
# What the pre-pass must see to split a file into rules, count bracket depth and count
# operators: strings (a `rule`, a bracket or an operator inside one does not count),
# comments, brackets, the `rule` keyword as a whole word, and every operator token.
_KEYWORD: Final = r"(?<![A-Za-z0-9_.])(?:rule|and|or|not|in|between)(?![A-Za-z0-9_.])"
_LEXEMES: Final = re.compile(
    r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[()\[\]]|' + _KEYWORD + r"|==|!=|<=|>=|[-+*/<>]"
)
_OPERATORS: Final = frozenset({"and", "or", "not", "in", "between"})
# Every operator token stands for at least one node of its own (a binary operator its
# node, a flat and/or chain one more operand, `not in` and `between` several), so more
# than MAX_NODES of them prove the rule too large before lark parses it. Slack: the two
# hyphens of the `created` date are counted too.
_OPERATOR_SLACK: Final = 2
_BLANK: Final = re.compile(r"(?:\s+|#[^\n]*)*")


class LimitExceeded(ValueError):
    """A literal beyond a limit; parse.py turns it into a RuleProblem at its position."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One rule's text: offsets into the file, and where its bracket depth first
    passed MAX_DEPTH (None if it never did)."""

    start: int
    end: int
    too_deep_at: int | None
    too_many_at: int | None = None  # the operator token past MAX_NODES, if any


@dataclass(frozen=True, slots=True)
class Scan:
    """The file split at each `rule` keyword; `stray_at` is the offset of any text
    before the first rule that is neither blank nor a comment."""

    chunks: tuple[Chunk, ...]
    stray_at: int | None


def file_problem(text: str) -> tuple[int, str] | None:
    """(character offset, message) for a file too big or holding a NUL, else None."""
    # A character is at least one byte: the cheap test first, then the exact one.
    size = len(text) if len(text) > MAX_FILE_BYTES else len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        return 0, f"rule file is {size} bytes or more; the limit is {MAX_FILE_BYTES}"
    nul = text.find("\x00")
    if nul >= 0:
        byte = len(text[:nul].encode("utf-8"))
        return nul, f"NUL byte at byte offset {byte}; a rule file is text"
    return None


def scan(text: str) -> Scan:
    """Split `text` into rules and find each one's first bracket nested too deep."""
    starts: list[int] = []
    deep_at: list[int | None] = []
    many_at: list[int | None] = []
    depth = operators = 0
    for lexeme in _LEXEMES.finditer(text):
        piece = lexeme.group()
        if piece == "rule":
            starts.append(lexeme.start())
            deep_at.append(None)
            many_at.append(None)
            depth = operators = 0
        elif piece[0] in '"#':
            continue
        elif piece in _OPERATORS or piece[0] in "=!<>+-*/":
            operators += 1
            if operators > MAX_NODES + _OPERATOR_SLACK and many_at and many_at[-1] is None:
                many_at[-1] = lexeme.start()
        elif piece in "([":
            depth += 1
            if depth > MAX_DEPTH and deep_at and deep_at[-1] is None:
                deep_at[-1] = lexeme.start()
        elif piece in ")]":
            depth = max(depth - 1, 0)
    prefix_end = starts[0] if starts else len(text)
    blank_end = _BLANK.match(text, 0, prefix_end)
    stray = None if blank_end is None or blank_end.end() == prefix_end else blank_end.end()
    next_starts = [*starts[1:], len(text)] if starts else []
    ends = [_trimmed_end(text, s, e) for s, e in zip(starts, next_starts, strict=True)]
    chunks = tuple(
        Chunk(s, e, d, m) for s, e, d, m in zip(starts, ends, deep_at, many_at, strict=True)
    )
    return Scan(chunks=chunks, stray_at=stray)


def _trimmed_end(text: str, start: int, end: int) -> int:
    # Blank and comment-only lines after a rule introduce the next one: they do not
    # count towards this rule's size. Each line is looked at once, from the end.
    while end > start:
        line_start = max(text.rfind("\n", start, end) + 1, start)
        line = text[line_start:end]
        content = line.strip()
        if content and not content.startswith("#"):
            return line_start + len(line.rstrip())
        end = line_start - 1
    return start


def parse_number(text: str) -> Decimal:
    """A number literal as an exact Decimal, after checking its digits and exponent.

    Raises:
        LimitExceeded: more than MAX_DIGITS digits, or |exponent| above MAX_EXPONENT.
    """
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise LimitExceeded(f"malformed number {text[:40]!r}")
    whole, fraction, sign, exponent = match.groups()
    digits = len(whole) + len(fraction or "")
    if digits > MAX_DIGITS:
        raise LimitExceeded(f"number has {digits} digits; the limit is {MAX_DIGITS}")
    # Compared as text first: int() of a huge digit string is itself slow.
    if exponent is not None and (len(exponent.lstrip("0")) > 2 or int(exponent) > MAX_EXPONENT):
        shown = exponent if len(exponent) <= 12 else exponent[:12] + "..."
        raise LimitExceeded(f"exponent {sign}{shown} is beyond +/-{MAX_EXPONENT}")
    return _LITERALS.create_decimal(text)


def measure(roots: Iterable[Expr | None]) -> tuple[int, int]:
    """(depth, node count) of the expressions, stopping as soon as either passes its
    limit: an explicit stack, so any depth is safe to measure."""
    stack = [(root, 1) for root in roots if root is not None]
    deepest = count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH or count > MAX_NODES:
            break
        stack.extend((child, depth + 1) for child in children(node))
    return deepest, count
