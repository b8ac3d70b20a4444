"""Strict YAML 1.2-ish: text into plain values, every problem reported with its line.

Two stages, knowing nothing of what the document means:

1. `compose`: text into a YAML node tree through `_StrictLoader`, which refuses anchors,
   aliases, tags and nesting past MAX_DEPTH, and resolves plain scalars YAML-1.2-style:
   `true`/`false`, `null`, plain integers and decimals; every YAML 1.1 trap (`yes`, `no`,
   `1e3`, `0x10`, `1_000`, `1:30`, `.inf`, dates) is a refusal, not a value. Text that
   is not YAML at all raises YamlSyntaxError.
2. `plain`: nodes into plain values (None, bool, int, Decimal, str, list, dict), refusing
   duplicate and merge keys and recording the line of every key in a `Walk`, which
   collects every problem rather than stopping at the first.
"""

import re
from decimal import Decimal
from typing import Final, TypeAlias

import msgspec
import yaml
from yaml.composer import ComposerError
from yaml.error import Mark
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "DIGITS",
    "MAX_DEPTH",
    "MAX_FRACTION_DIGITS",
    "MAX_INTEGER_DIGITS",
    "REFUSED",
    "Raw",
    "Refused",
    "Walk",
    "YamlProblem",
    "YamlSyntaxError",
    "compose",
    "describe",
    "join",
    "plain",
]

MAX_DEPTH: Final = 16
MAX_INTEGER_DIGITS: Final = 30
MAX_FRACTION_DIGITS: Final = 18
DIGITS: Final = (
    f"numbers may have at most {MAX_INTEGER_DIGITS} digits before the point and "
    f"{MAX_FRACTION_DIGITS} after it"
)

# ---------------------------------------------------------------- results and errors


class YamlProblem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One thing wrong with a document: where (dotted key path, 1-based line) and what.

    The path of the document itself is the empty string.
    """

    path: str
    line: int | None
    message: str


class YamlSyntaxError(Exception):
    """The text is not YAML at all; `line` is 1-based, None where unknown."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line
        self.message = message


# ---------------------------------------------------------------- stage 1: YAML nodes

_YAML: Final = "tag:yaml.org,2002:"
_NULL_TAG: Final = _YAML + "null"
_BOOL_TAG: Final = _YAML + "bool"
_INT_TAG: Final = _YAML + "int"
_STR_TAG: Final = _YAML + "str"
_DECIMAL_TAG: Final = "tag:trading-gate,2025:decimal"
_REFUSED_TAG: Final = "tag:trading-gate,2025:refused:"
_QUOTE_IT: Final = "; quote it if you mean text"
_WRITE_OUT: Final = "write the number out in plain digits, e.g. 1000 or 0.5"
_NO_ANCHORS: Final = (
    "anchors, aliases and merge keys are not allowed (they hide values and allow "
    "billion-laughs files); write each value out"
)

# Plain-scalar resolution, first match wins; anything unmatched is text. The values are
# YAML 1.2's core schema minus its ambiguities; the refusals are where YAML 1.1 and
# 1.2 (or a reader's eye) disagree.
_SCALAR_VALUES: Final = (
    (_NULL_TAG, r"~|null|Null|NULL|"),
    (_BOOL_TAG, r"true|false"),
    (_INT_TAG, r"-?(?:0|[1-9][0-9]*)"),
    (_DECIMAL_TAG, r"-?(?:0|[1-9][0-9]*)\.[0-9]+"),
)
_SCALAR_REFUSALS: Final = {
    "bool-case": (r"True|TRUE|False|FALSE", "write booleans as true or false, in lower case"),
    "yes-no": (
        r"(?i:y|n|yes|no|on|off)",
        "YAML 1.1 reads yes/no/on/off/y/n as booleans and YAML 1.2 as text; "
        "write true or false" + _QUOTE_IT,
    ),
    "non-finite": (
        r"[-+]?\.?(?i:inf|infinity|nan)",
        "not a finite number; every limit must be a finite number above 0",
    ),
    "exponent": (
        r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+",
        "exponent notation is not allowed (YAML 1.1 reads 1e3 as text, YAML 1.2 as a "
        "float); " + _WRITE_OUT,
    ),
    "radix": (
        r"[-+]?0(?:[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)",
        "hexadecimal, octal and binary numbers are not allowed; " + _WRITE_OUT,
    ),
    "sexagesimal": (
        r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
        "YAML 1.1 reads 1:30 as the base-60 number 90; " + _WRITE_OUT + _QUOTE_IT,
    ),
    "timestamp": (
        r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?",
        "dates and times are not converted" + _QUOTE_IT,
    ),
    "underscore": (
        r"(?=[^_]*_)[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?",
        "digit separators (_) are not allowed (YAML 1.1 reads 1_000 as 1000, YAML 1.2 as "
        "text); " + _WRITE_OUT,
    ),
    "leading-zero": (
        r"-?0[0-9]+(?:\.[0-9]*)?",
        "leading zeros are not allowed (YAML 1.1 reads 010 as the octal number 8); " + _WRITE_OUT,
    ),
    "plus-sign": (r"\+[0-9.]+", "write numbers without a + sign"),
    "bare-point": (
        r"-?\.[0-9]+|-?[0-9]+\.",
        "write a digit on both sides of the decimal point, e.g. 0.5 or 5.0",
    ),
}


# In PyYAML's own shape: first character (None: any) -> [(tag, regexp)], tried in order.
_RESOLVERS: Final = {
    None: [
        (tag, re.compile(rf"(?:{pattern})\Z"))
        for tag, pattern in (
            *_SCALAR_VALUES,
            *((_REFUSED_TAG + kind, rule[0]) for kind, rule in _SCALAR_REFUSALS.items()),
        )
    ]
}


class _StrictLoader(yaml.SafeLoader):
    # Only ours: none of SafeLoader's YAML 1.1 resolvers.
    yaml_implicit_resolvers = _RESOLVERS

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # id(node) -> why the node is refused; plain() reports it at the node's path.
        self.refused: dict[int, str] = {}
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # types-pyyaml leaves the two event accessors untyped.
        event: object = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            node: Node | None = ScalarNode(_NULL_TAG, "", _mark(event), None)
            self.refused[id(node)] = f"alias *{event.anchor} refused: {_NO_ANCHORS}"
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = _mark(event) if isinstance(event, NodeEvent) else None
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(event, NodeEvent) and event.anchor is not None:
            # Forget it so a second anchor of the same name is our refusal, not a crash.
            self.anchors.pop(event.anchor, None)
            self.refused[id(node)] = f"anchor &{event.anchor} refused: {_NO_ANCHORS}"
        elif isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag is not None:
            self.refused[id(node)] = (
                f"tag {event.tag} refused: YAML tags are not allowed; write plain values"
            )
        return node


def _mark(event: NodeEvent) -> Mark | None:
    # The pure-Python loader makes only yaml.error.Mark; the C one is never used here.
    return event.start_mark if isinstance(event.start_mark, Mark) else None


def compose(text: str) -> tuple[Node | None, dict[int, str]]:
    """The document's node tree (None if empty), and why each refused node is refused.

    Raises:
        YamlSyntaxError: the text is not YAML, or is nested deeper than MAX_DEPTH.
    """
    try:
        # The reader checks every character as it is built, so it belongs in the try.
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"character U+{code:04X} is not allowed in YAML; {exc.reason}"
        raise YamlSyntaxError(line, message) from exc
    try:
        return loader.get_single_node(), loader.refused
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = None if mark is None else mark.line + 1
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(at, f"not valid YAML: {what}") from exc
    finally:
        loader.dispose()


# ---------------------------------------------------------------- stage 2: plain values


class Refused:
    """Stands in for a value already reported, so later stages stay quiet about it."""


REFUSED: Final = Refused()

Raw: TypeAlias = bool | int | Decimal | str | list["Raw"] | dict[str, "Raw"] | Refused | None


class Walk:
    """The problems found so far, and the line each key path was written on."""

    def __init__(self, refused: dict[int, str]) -> None:
        self.refused = refused
        self.problems: list[YamlProblem] = []
        self.lines: dict[str, int] = {}

    def add(self, path: str, line: int | None, message: str) -> None:
        self.problems.append(YamlProblem(path=path, line=line, message=message))

    def at(self, path: str, message: str) -> None:
        self.add(path, self.lines.get(path), message)


def plain(node: Node, path: str, walk: Walk) -> Raw:
    """The plain value of `node`, at key path `path`; its problems are added to `walk`."""
    line = node.start_mark.line + 1
    if (why := walk.refused.get(id(node))) is not None:
        walk.add(path, line, why)
        return REFUSED
    if isinstance(node, MappingNode):
        return _mapping(node, path, walk)
    if isinstance(node, SequenceNode):
        items: list[Node] = node.value
        return [plain(item, f"{path}[{index}]", walk) for index, item in enumerate(items)]
    if isinstance(node, ScalarNode):
        return _scalar(node, path, line, walk)
    raise TypeError(f"unexpected YAML node {type(node).__name__}")


def _mapping(node: MappingNode, path: str, walk: Walk) -> Raw:
    result: dict[str, Raw] = {}
    pairs: list[tuple[Node, Node]] = node.value
    for key_node, value_node in pairs:
        key_line = key_node.start_mark.line + 1
        label = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
        key = plain(key_node, join(path, label), walk)
        if not isinstance(key, str):
            if not isinstance(key, Refused):
                message = f"keys must be text, got {describe(key)}{_QUOTE_IT}"
                walk.add(join(path, label), key_line, message)
            continue
        child = join(path, key)
        if key == "<<":
            walk.add(child, key_line, f"merge key refused: {_NO_ANCHORS}")
        elif key in result:
            walk.add(
                child,
                key_line,
                f"duplicate key {_show(key)}, first set at line {walk.lines[child]}; "
                "YAML would silently keep only the last, so remove one",
            )
        else:
            walk.lines[child] = key_line
            result[key] = plain(value_node, child, walk)
    return result


def _scalar(node: ScalarNode, path: str, line: int, walk: Walk) -> Raw:
    text: str = node.value
    if node.tag == _STR_TAG:
        return text
    if node.tag == _NULL_TAG:
        return None
    if node.tag == _BOOL_TAG:
        return text == "true"
    if node.tag in (_INT_TAG, _DECIMAL_TAG):
        whole, _, fraction = text.removeprefix("-").partition(".")
        if len(whole) > MAX_INTEGER_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
            walk.add(path, line, f"{_show(text)} is refused: {DIGITS}")
            return REFUSED
        # Bounded above, so neither conversion can be made to take long.
        return int(text) if node.tag == _INT_TAG else Decimal(text)
    kind = node.tag.removeprefix(_REFUSED_TAG)
    if kind in _SCALAR_REFUSALS:
        walk.add(path, line, f"{_show(text)} is refused: {_SCALAR_REFUSALS[kind][1]}")
        return REFUSED
    raise TypeError(f"unexpected scalar tag {node.tag}")


# ---------------------------------------------------------------- describing values


def describe(raw: Raw) -> str:
    """`raw` as a problem message names it: "null", "the number 5", "the text 'x'"."""
    match raw:
        case None:
            return "null"
        case bool():
            return "true" if raw else "false"
        case int() | Decimal():
            return f"the number {raw}"
        case str():
            return f"the text {_show(raw)}"
        case list():
            return "a list"
        case dict():
            return "a mapping"
        case _:
            return "a refused value"


def _show(text: str) -> str:
    # File contents end up in logs and terminals: no control characters, bounded length.
    shown = text if text.isprintable() else repr(text)[1:-1]
    return f"'{shown[:60]}…'" if len(shown) > 60 else f"'{shown}'"


def join(path: str, key: str) -> str:
    """The dotted key path of `key` under `path` ("" is the document itself)."""
    # Keys come from the file: paths carry no control characters and stay short.
    label = key if key.isprintable() else repr(key)[1:-1]
    label = f"{label[:60]}…" if len(label) > 60 else label
    return f"{path}.{label}" if path else label
