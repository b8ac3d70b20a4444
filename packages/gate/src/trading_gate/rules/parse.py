"""Rule text into `Rule` values, refusing anything over a limit before it gets costly.

Stages, each guarding the next: the file's size and NUL bytes; a pre-pass that splits
the file at each `rule` keyword and checks each rule's size and bracket depth; lark
(LALR, built once at import from grammar.lark) on each rule separately, so a syntax
error in one rule does not hide the others; then an explicit-stack walk from lark's
tree to the frozen AST that checks every literal and, last, the tree's depth and size.
Nothing is evaluated while parsing; names are checked by check.py.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib.resources import files
from importlib.util import find_spec
from typing import Final, get_args

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from trading_gate.rules import ast
from trading_gate.rules.errors import RuleLoadError, RuleProblem, line_text, position_of
from trading_gate.rules.limits import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_RULE_BYTES,
    MAX_STRING_CHARS,
    LimitExceeded,
    file_problem,
    measure,
    parse_number,
    scan,
)

__all__ = ["parse_partial", "parse_rules"]

# strict (conflicts and terminal collisions are errors) needs the `interegular` extra;
# without it lark refuses strict mode, and tests check the LALR table has no conflicts.
_PARSER: Final = Lark(
    files("trading_gate.rules").joinpath("grammar.lark").read_text(encoding="utf-8"),
    parser="lalr",
    start="rule",
    propagate_positions=True,
    maybe_placeholders=False,
    strict=find_spec("interegular") is not None,
)
_DURATION: Final = re.compile(r"([0-9.]+)(ms|s|m|h|d)")
_ESCAPE: Final = re.compile(r"\\([\"\\])")
_FRIENDLY: Final = {
    "STRING": "a string",
    "NUMBER": "a number",
    "PERCENT": "a percentage",
    "DURATION": "a duration",
    "DATE": "a date (YYYY-MM-DD)",
    "FIELD": "a name",
    "COMP_OP": "a comparison",
    "$END": "the end of the rule",
}
_REQUIRABLE: Final[tuple[ast.RequireField, ...]] = get_args(ast.RequireField)


@dataclass
class _Build:
    """Problems met while building one rule's AST (the build goes on, to find them all)."""

    source: str
    text: str
    problems: list[RuleProblem] = field(default_factory=list)

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(
            RuleProblem(
                source=self.source,
                line=line,
                column=column,
                message=message,
                line_text=line_text(self.text, line),
            )
        )

    def at_token(self, token: Token, message: str) -> None:
        self.problem(token.line or 0, token.column or 0, message)


def parse_rules(text: str, *, source: str) -> tuple[ast.Rule, ...]:
    """Every rule in `text` (the file named `source`), in file order.

    Raises:
        RuleLoadError: with every problem found: limits, syntax and literals.
    """
    rules, problems = parse_partial(text, source=source)
    if problems:
        raise RuleLoadError(problems)
    return rules


def parse_partial(
    text: str, *, source: str
) -> tuple[tuple[ast.Rule, ...], tuple[RuleProblem, ...]]:
    """The rules that parse, and the problems of those that do not (or of the whole
    file, which then yields no rules): so a loader can check the good rules too and
    report everything at once."""
    build = _Build(source=source, text=text)
    whole = file_problem(text)
    if whole is not None:
        offset, message = whole
        build.problem(*position_of(text, offset), message)
        return (), tuple(build.problems)
    split = scan(text)
    if split.stray_at is not None:
        build.problem(*position_of(text, split.stray_at), "expected `rule` to start a rule")
    rules = []
    for chunk in split.chunks:
        size = len(text[chunk.start : chunk.end].encode("utf-8"))
        if size > MAX_RULE_BYTES:
            message = f"rule is {size} bytes; the limit is {MAX_RULE_BYTES}"
            build.problem(*position_of(text, chunk.start), message)
        elif chunk.too_deep_at is not None:
            message = f"brackets nested deeper than {MAX_DEPTH}"
            build.problem(*position_of(text, chunk.too_deep_at), message)
        elif chunk.too_many_at is not None:
            message = f"more than {MAX_NODES} operators; a rule holds at most {MAX_NODES} nodes"
            build.problem(*position_of(text, chunk.too_many_at), message)
        else:
            rule = _parse_one(build, chunk.start, chunk.end)
            if rule is not None:
                rules.append(rule)
    return tuple(rules), tuple(build.problems)


def _parse_one(build: _Build, start: int, end: int) -> ast.Rule | None:
    # Padding with the blank lines and columns before the rule makes lark's positions
    # those of the whole file (whitespace is ignored).
    line, column = position_of(build.text, start)
    pad = "\n" * (line - 1) + " " * (column - 1)
    padded = pad + build.text[start:end]
    try:
        tree = _PARSER.parse(padded)
    except UnexpectedInput as exc:
        line, column = exc.line, exc.column
        if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
            # lark puts the end at the last token; the caret goes just after it.
            line, column = exc.token.end_line or line, exc.token.end_column or column
        build.problem(line, column, _syntax_message(exc))
        return None
    before = len(build.problems)
    rule = _rule(build, tree, start, start - len(pad))
    depth, count = measure((rule.when, rule.effect.condition))
    if depth > MAX_DEPTH:
        build.problem(rule.line, rule.column, f"expression nested deeper than {MAX_DEPTH}")
    elif count > MAX_NODES:
        build.problem(rule.line, rule.column, f"rule has more than {MAX_NODES} nodes")
    return rule if len(build.problems) == before else None


def _syntax_message(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedCharacters):
        if exc.char == '"':
            return "unterminated string, or a control character inside one"
        return f"unexpected character {exc.char!r}"
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        got = "end of rule" if token.type == "$END" else f"`{token.value[:40]}`"
        expected = sorted({_expected(name) for name in exc.expected})
        return f"unexpected {got}; expected {', '.join(expected[:10])}"
    return "syntax error"


def _as_tree(node: Tree[Token] | Token) -> Tree[Token]:
    if isinstance(node, Tree):
        return node
    raise TypeError(f"grammar.lark and parse.py disagree at {node!r}")


def _as_token(node: Tree[Token] | Token) -> Token:
    if isinstance(node, Token):
        return node
    raise TypeError(f"grammar.lark and parse.py disagree at {node.data!r}")


def _expected(terminal: str) -> str:
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    pattern = _PARSER.get_terminal(terminal).pattern
    return f"`{pattern.value}`" if pattern.type == "str" else terminal.lower()


def _rule(build: _Build, tree: Tree[Token], start: int, shift: int) -> ast.Rule:
    # rule: RULE STRING meta_id meta_author meta_created when? effect
    name_token, meta_id, meta_author, meta_created, *rest = tree.children[1:]
    when: ast.Expr | None = None
    if len(rest) == 2:
        when = _expr(build, _as_tree(rest[0]).children[-1])
    effect_tree = _as_tree(rest[-1])
    # lark's offsets are into the padded text: `shift` maps them back into the file.
    source_text = build.text[start : tree.meta.end_pos + shift]
    return ast.Rule(
        id=str(_token_of(meta_id)),
        name=_string(build, _as_token(name_token)),
        author=_string(build, _token_of(meta_author)),
        created=_date(build, _token_of(meta_created)),
        when=when,
        effect=_effect(build, effect_tree),
        source_text=source_text,
        content_sha256=hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
        line=tree.meta.line,
        column=tree.meta.column,
    )


def _token_of(node: Tree[Token] | Token) -> Token:
    # A metadata or literal node is `[keyword] value`: the value.
    return _as_token(_as_tree(node).children[-1])


def _effect(build: _Build, tree: Tree[Token]) -> ast.Effect:
    message: str | None = None
    condition: ast.Expr | None = None
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "message":
            message = _string(build, _token_of(child))
        elif isinstance(child, Tree) and child.data == "condition":
            condition = _expr(build, child.children[-1])
    line, column = tree.meta.line, tree.meta.column
    match tree.data:
        case "deny":
            return ast.Deny(message=message, condition=condition, line=line, column=column)
        case "reduce_only":
            return ast.ReduceOnly(message=message, condition=condition, line=line, column=column)
        case "halt":
            return ast.Halt(message=message, condition=condition, line=line, column=column)
        case _:
            flag = _as_token(tree.children[1])
            required = next(f for f in _REQUIRABLE if f == flag.value)
            return ast.Require(
                field=required, message=message, condition=condition, line=line, column=column
            )


def _string(build: _Build, token: Token) -> str:
    value = _ESCAPE.sub(r"\1", token.value[1:-1])
    if len(value) > MAX_STRING_CHARS:
        build.at_token(token, f"string of {len(value)} characters; the limit is {MAX_STRING_CHARS}")
    return value


def _date(build: _Build, token: Token) -> date:
    try:
        return date.fromisoformat(token.value)
    except ValueError:
        build.at_token(token, f"{token.value} is not a calendar date")
        return date.min


def _number(build: _Build, token: Token, text: str) -> Decimal:
    try:
        return parse_number(text)
    except LimitExceeded as exc:
        build.at_token(token, str(exc))
        return Decimal(0)


def _expr(build: _Build, root: Tree[Token] | Token) -> ast.Expr:
    """lark's expression tree as AST nodes, post-order on an explicit stack: lark's
    tree may be far deeper than MAX_DEPTH here (limits are checked on the result)."""
    work: list[tuple[Tree[Token] | Token, bool]] = [(root, False)]
    done: list[ast.Expr] = []
    while work:
        node, ready = work.pop()
        subtrees = _subtrees(node)
        if not ready and subtrees:
            work.append((node, True))
            work.extend((child, False) for child in reversed(subtrees))
            continue
        args = done[len(done) - len(subtrees) :] if subtrees else []
        if subtrees:
            del done[len(done) - len(subtrees) :]
        done.append(_node(build, node, args))
    return done[0]


def _subtrees(node: Tree[Token] | Token) -> list[Tree[Token] | Token]:
    if isinstance(node, Token) or node.data in ("literal", "field"):
        return []
    if node.data in ("in_list", "not_in_list"):
        return [node.children[0]]  # the list holds literals: built in place
    return [c for c in node.children if isinstance(c, Tree)]


def _node(build: _Build, leaf: Tree[Token] | Token, args: list[ast.Expr]) -> ast.Expr:
    node = _as_tree(leaf)
    tokens = [c for c in node.children if isinstance(c, Token)]
    line, column = node.meta.line, node.meta.column
    match node.data:
        case "literal":
            return _literal(build, tokens[0], negative=False)
        case "field":
            return ast.Field(name=str(tokens[0]), line=line, column=column)
        case "group":
            return args[0]
        case "neg":
            return ast.Negate(operand=args[0], line=line, column=column)
        case "not_op":
            return ast.Not(operand=args[0], line=line, column=column)
        case "or_expr" | "and_expr":
            return ast.Logical(
                op="or" if node.data == "or_expr" else "and",
                operands=tuple(args),
                line=line,
                column=column,
            )
        case "sum" | "product":
            return _chain(args, tokens)
        case "compare":
            return ast.Comparison(
                op=_compare_op(tokens[0]), left=args[0], right=args[1], line=line, column=column
            )
        case "between":
            return ast.Between(subject=args[0], low=args[1], high=args[2], line=line, column=column)
        case _:
            items = _list_items(build, node.children[-1])
            negated = node.data == "not_in_list"
            return ast.InList(
                subject=args[0], items=items, negated=negated, line=line, column=column
            )


def _chain(args: list[ast.Expr], operators: list[Token]) -> ast.Expr:
    # Left-associative: a - b - c is (a - b) - c. Each node sits at its operator.
    result = args[0]
    for operator, right in zip(operators, args[1:], strict=True):
        op = next(o for o in get_args(ast.ArithOp) if o == operator.value)
        line, column = operator.line or 0, operator.column or 0
        result = ast.Arithmetic(op=op, left=result, right=right, line=line, column=column)
    return result


def _compare_op(token: Token) -> ast.CompareOp:
    return next(o for o in get_args(ast.CompareOp) if o == token.value)


def _list_items(build: _Build, tree: Tree[Token] | Token) -> tuple[ast.LiteralExpr, ...]:
    items: list[ast.LiteralExpr] = []
    for item in _as_tree(tree).children:
        if not isinstance(item, Tree):
            continue  # brackets and commas
        negative = len(item.children) == 2
        value = item.children[-1]
        token = _token_of(value) if isinstance(value, Tree) else value
        items.append(_literal(build, token, negative=negative))
    return tuple(items)


def _literal(build: _Build, token: Token, *, negative: bool) -> ast.LiteralExpr:
    line, column = token.line or 0, token.column or 0
    match token.type:
        case "STRING":
            return ast.StringLit(value=_string(build, token), line=line, column=column)
        case "TRUE" | "FALSE":
            return ast.BoolLit(value=token.type == "TRUE", line=line, column=column)
        case "PERCENT":
            percent = _number(build, token, token.value[:-1])
            return ast.PercentLit(
                percent=-percent if negative else percent, line=line, column=column
            )
        case "DURATION":
            amount, unit = _split_duration(token.value)
            value = _number(build, token, amount)
            return ast.DurationLit(
                amount=-value if negative else value, unit=unit, line=line, column=column
            )
        case _:
            value = _number(build, token, token.value)
            return ast.NumberLit(value=-value if negative else value, line=line, column=column)


def _split_duration(text: str) -> tuple[str, ast.DurationUnit]:
    match = _DURATION.fullmatch(text)
    if match is None:
        raise TypeError(f"grammar.lark and parse.py disagree on the duration {text!r}")
    amount, unit = match.groups()
    return amount, next(u for u in get_args(ast.DurationUnit) if u == unit)
