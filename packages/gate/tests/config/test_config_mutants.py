"""Mutants of the shipped safety.yaml: each is refused, at the key path it broke.

The shipped file is read into an ordered tree of raw YAML texts, mutated one way at a
time, and written back out; the loader must refuse every mutant with a ConfigError
whose problems sit exactly at the expected paths. A second property runs the other
way: tightening any single limit still loads, and changes only that limit.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import TypeAlias

import msgspec
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trading_gate.config import MAX_CONFIG_BYTES, ConfigError, parse_config

SHIPPED = Path(__file__).resolve().parents[4] / "config" / "safety.yaml"


@dataclass(frozen=True)
class Leaf:
    """A scalar value as raw YAML text, e.g. `"100.00"` (quotes included) or `5`."""

    text: str


Tree: TypeAlias = list[tuple[str, "Leaf | Tree"]]
Parts: TypeAlias = tuple[str, ...]


def _read(node: yaml.Node) -> "Leaf | Tree":
    if isinstance(node, yaml.MappingNode):
        return [(key.value, _read(value)) for key, value in node.value]
    assert isinstance(node, yaml.ScalarNode)
    return Leaf(node.value if node.style is None else json.dumps(node.value))


def shipped_tree() -> Tree:
    root = yaml.compose(SHIPPED.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    assert root is not None
    tree = _read(root)
    assert isinstance(tree, list)
    return tree


def emit(tree: Tree) -> tuple[str, dict[str, int]]:
    """Block-style YAML for `tree`, and the 1-based line of every key path."""
    lines: list[str] = []
    where: dict[str, int] = {}

    def write(pairs: Tree, indent: int, prefix: str) -> None:
        for key, value in pairs:
            path = f"{prefix}.{key}" if prefix else key
            where.setdefault(path, len(lines) + 1)
            if isinstance(value, Leaf) or not value:
                # An emptied mapping stays a mapping: a bare `key:` would read as null.
                text = value.text if isinstance(value, Leaf) else "{}"
                lines.append(f"{' ' * indent}{key}: {text}")
            else:
                lines.append(f"{' ' * indent}{key}:")
                write(value, indent + 2, path)

    write(tree, 0, "")
    return "\n".join(lines) + "\n", where


def leaves(tree: Tree, prefix: Parts = ()) -> Iterator[tuple[Parts, Leaf]]:
    for key, value in tree:
        if isinstance(value, Leaf):
            yield (*prefix, key), value
        else:
            yield from leaves(value, (*prefix, key))


def mappings(tree: Tree, prefix: Parts = ()) -> Iterator[tuple[Parts, Tree]]:
    yield prefix, tree
    for key, value in tree:
        if not isinstance(value, Leaf):
            yield from mappings(value, (*prefix, key))


Edit: TypeAlias = Callable[[str, "Leaf | Tree"], Tree]


def edit(tree: Tree, parts: Parts, change: Edit) -> Tree:
    """A copy of `tree` with the pair at `parts` changed by `change`."""
    head, *rest = parts
    result: Tree = []
    for key, value in tree:
        if key != head:
            result.append((key, value))
        elif rest:
            assert not isinstance(value, Leaf)
            result.append((key, edit(value, tuple(rest), change)))
        else:
            result.extend(change(key, value))
    return result


def replace(tree: Tree, parts: Parts, value: "Leaf | Tree") -> Tree:
    return edit(tree, parts, lambda key, _: [(key, value)])


def drop(tree: Tree, parts: Parts) -> Tree:
    return edit(tree, parts, lambda _key, _value: [])


def rename(tree: Tree, parts: Parts, new_key: str) -> Tree:
    return edit(tree, parts, lambda _, value: [(new_key, value)])


def twice(tree: Tree, parts: Parts) -> Tree:
    return edit(tree, parts, lambda key, value: [(key, value), (key, value)])


def add(tree: Tree, parent: Parts, key: str, value: "Leaf | Tree") -> Tree:
    def append(name: str, pairs: "Leaf | Tree") -> Tree:
        assert not isinstance(pairs, Leaf)
        return [(name, [*pairs, (key, value)])]

    return edit(tree, parent, append) if parent else [*tree, (key, value)]


def dotted(parts: Parts) -> str:
    return ".".join(parts)


BASE = shipped_tree()
NOT_LIMITS = {("version",), ("on_halt", "cancel_all"), ("on_halt", "flatten"), ("keys", "key_file")}
LIMITS = [(parts, leaf) for parts, leaf in leaves(BASE) if parts not in NOT_LIMITS]
SECTIONS = [parts for parts, _ in mappings(BASE) if parts]

# Raw YAML texts no limit may take: signs, non-finite, YAML 1.1 traps, wrong types,
# digit bounds, and the anchor, alias and tag machinery.
BAD_LIMIT_VALUES = [
    "0",
    "-1",
    "-0",
    '"-1"',
    '"0"',
    '"NaN"',
    ".nan",
    ".inf",
    "-.inf",
    '"Infinity"',
    '"1e3"',
    "1e3",
    "1_000",
    "0x10",
    "010",
    "1:30",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "null",
    '""',
    "[]",
    "{}",
    "1" * 40,
    '"' + "1" * 40 + '"',
    '"0.0000000000000000001"',
    "2024-01-01",
    "!!int 5",
    "&a 5",
    "*a",
]
BAD_OTHER_VALUES = {
    ("version",): ["2", "0", '"1"', "1.0", "true", "null", "yes", "[]"],
    ("on_halt", "cancel_all"): ["false", "no", "off", "n", '"true"', "1", "null", "True", "[]"],
    ("on_halt", "flatten"): ["yes", "on", "1", '"false"', "null", "False", "[]"],
    ("keys", "key_file"): [
        '"relative/key.json"',
        '"~/key.json"',
        '""',
        '"/etc/key\\x00.json"',
        "null",
        "5",
        "yes",
        "[]",
        "!!binary aGk=",
    ],
}
UNIT_SWAPS = {
    "_usd": "_usdc",
    "_base": "_quote",
    "_bps": "_pct",
    "_pct": "_bps",
    "_ms": "_s",
    "_s": "_ms",
}
# (key as written, the path label the loader reports): bad product ids.
BAD_PRODUCT_IDS = [
    ("btc-usd", "btc-usd"),
    ("BTC-usd", "BTC-usd"),
    ("BTC-EUR", "BTC-EUR"),
    ("BTC-USDC", "BTC-USDC"),
    ("BTCUSD", "BTCUSD"),
    ("BTC_USD", "BTC_USD"),
    ("USD-USD", "USD-USD"),
    ("BTC-USD-X", "BTC-USD-X"),
    ("ABCDEFGHIJKLM-USD", "ABCDEFGHIJKLM-USD"),
    ('" BTC-USD"', " BTC-USD"),
    ('"123"', "123"),
    ("123", "123"),
    ("true", "true"),
    ("null", "null"),
    ("yes", "yes"),
    ("1e3", "1e3"),
]


@dataclass(frozen=True)
class Mutant:
    name: str
    text: str
    paths: frozenset[str]
    # The line the problem at the single expected path must name, when pinned.
    line: int | None = None


def _mutant(name: str, tree: Tree, *paths: str, pin_line: bool = False) -> Mutant:
    text, where = emit(tree)
    line = where[paths[0]] if pin_line else None
    return Mutant(name, text, frozenset(paths), line)


def _value_mutants() -> Iterator[Mutant]:
    for parts, _ in LIMITS:
        for text in BAD_LIMIT_VALUES:
            tree = replace(BASE, parts, Leaf(text))
            yield _mutant(f"{dotted(parts)}={text}", tree, dotted(parts), pin_line=True)
    for parts, texts in BAD_OTHER_VALUES.items():
        for text in texts:
            tree = replace(BASE, parts, Leaf(text))
            yield _mutant(f"{dotted(parts)}={text}", tree, dotted(parts), pin_line=True)


def _key_mutants() -> Iterator[Mutant]:
    for parts, _ in leaves(BASE):
        path = dotted(parts)
        yield _mutant(f"missing {path}", drop(BASE, parts), path)
        typo = parts[-1][:-1]
        yield _mutant(f"typo {path}", rename(BASE, parts, typo), path, dotted((*parts[:-1], typo)))
        for unit, other in UNIT_SWAPS.items():
            if parts[-1].endswith(unit):
                swapped = parts[-1].removesuffix(unit) + other
                new = dotted((*parts[:-1], swapped))
                yield _mutant(f"unit {path}->{swapped}", rename(BASE, parts, swapped), path, new)
                break
    for parts, _ in [*leaves(BASE), *((s, None) for s in SECTIONS)]:
        path = dotted(parts)
        yield _mutant(f"duplicate {path}", twice(BASE, parts), path, pin_line=False)
    for parent, _ in mappings(BASE):
        path = dotted((*parent, "surprise_limit_usd"))
        tree = add(BASE, parent, "surprise_limit_usd", Leaf('"1.00"'))
        yield _mutant(f"unknown {path}", tree, path, pin_line=True)


def _section_mutants() -> Iterator[Mutant]:
    for parts in SECTIONS:
        path = dotted(parts)
        if parts[0] != "products":
            # Dropping one product only shrinks the allowlist, which is valid.
            yield _mutant(f"missing {path}", drop(BASE, parts), path)
        for text in ["[]", "null", "5", '"text"', "yes", "!!python/object:os.system {}"]:
            yield _mutant(f"{path}={text}", replace(BASE, parts, Leaf(text)), path, pin_line=True)
    yield _mutant("products={}", replace(BASE, ("products",), Leaf("{}")), "products")
    for key, label in BAD_PRODUCT_IDS:
        tree = rename(BASE, ("products", "BTC-USD"), key)
        yield _mutant(f"product id {key}", tree, f"products.{label}")


def _document_mutants() -> Iterator[Mutant]:
    text, _ = emit(BASE)
    doc = frozenset({"<document>"})
    yield Mutant("empty file", "", doc)
    yield Mutant("empty document", "---\n", doc)
    yield Mutant("comment only", "# nothing\n", doc)
    yield Mutant("top-level list", "- 1\n", doc)
    yield Mutant("top-level scalar", "safety\n", doc)
    yield Mutant("two documents", text + "---\nversion: 1\n", doc)
    yield Mutant("unterminated quote", text + 'oops: "unterminated\n', doc)
    yield Mutant("tab indentation", text.replace("  max_open_orders", "\tmax_open_orders"), doc)
    yield Mutant("NUL character", text + "# \x00\n", doc)
    yield Mutant("control character", text.replace('"100.00"', '"100.\x0700"', 1), doc)
    yield Mutant("deep nesting", text + "deep: " + "[" * 100 + "]" * 100 + "\n", doc)
    yield Mutant("bad indentation", text.replace("\nproducts:\n", "\n products:\n"), doc)
    anchors = text.replace("  BTC-USD:\n", "  BTC-USD: &btc\n", 1)
    eth = dict(BASE)["products"]
    assert isinstance(eth, list)
    eth_block = emit([("products", [("ETH-USD", dict(eth)["ETH-USD"])])])[0].split("\n", 1)[1]
    reuse = anchors.replace(eth_block, "  ETH-USD: *btc\n", 1)
    yield Mutant("anchor and alias", reuse, frozenset({"products.BTC-USD", "products.ETH-USD"}))
    merge = text.replace("account:\n", "account:\n  <<: {max_open_orders: 1}\n", 1)
    yield Mutant("merge key", merge, frozenset({"account.<<"}))
    laughs = text + 'lol1: &a ["lol", "lol"]\nlol2: &b [*a, *a, *a]\nlol3: [*b, *b, *b]\n'
    # Anchored values are refused whole; the unanchored list reports each alias in it.
    expected = {"lol1", "lol2", "lol3", "lol3[0]", "lol3[1]", "lol3[2]"}
    yield Mutant("billion laughs", laughs, frozenset(expected))
    yield Mutant("tagged document", "!!map\n" + text, doc)


MUTANTS = [*_value_mutants(), *_key_mutants(), *_section_mutants(), *_document_mutants()]


def test_mutant_table_when_built_then_has_over_200_distinct_mutants() -> None:
    """The table is large and every mutant is a different file."""
    assert len(MUTANTS) >= 200
    assert len({mutant.text for mutant in MUTANTS}) == len(MUTANTS)


def test_emit_when_tree_unchanged_then_loads_like_shipped_file() -> None:
    """The tree round trip is faithful, so a refusal is the mutation's doing."""
    text, _ = emit(BASE)

    emitted = parse_config(text.encode(), "emitted")
    shipped = parse_config(SHIPPED.read_bytes(), "shipped")

    assert emitted.config == shipped.config


@pytest.mark.parametrize("mutant", MUTANTS, ids=[mutant.name for mutant in MUTANTS])
def test_parse_config_when_mutant_then_refused_at_its_path(mutant: Mutant) -> None:
    """Each mutant is refused, and the problems name exactly the broken key paths."""
    with pytest.raises(ConfigError) as refused:
        parse_config(mutant.text.encode(), mutant.name)

    problems = refused.value.problems
    assert {problem.path for problem in problems} == mutant.paths, str(refused.value)
    assert all(problem.message for problem in problems)
    if mutant.line is not None:
        assert {problem.line for problem in problems} == {mutant.line}, str(refused.value)


def test_parse_config_when_invalid_utf8_then_file_problem() -> None:
    """Bytes that are not UTF-8 are refused before YAML sees them."""
    text, _ = emit(BASE)

    with pytest.raises(ConfigError) as refused:
        parse_config(text.encode() + b"# \xff\xfe\n", "bad bytes")

    assert [problem.path for problem in refused.value.problems] == ["<file>"]


def test_parse_config_when_over_size_cap_then_file_problem() -> None:
    """A file over MAX_CONFIG_BYTES is refused without being parsed."""
    text, _ = emit(BASE)
    padded = text + "#" * MAX_CONFIG_BYTES + "\n"

    with pytest.raises(ConfigError) as refused:
        parse_config(padded.encode(), "huge")

    assert [problem.path for problem in refused.value.problems] == ["<file>"]


# ---------------------------------------------------------------- tightening property

# (the limit, its new raw YAML text, the value msgspec.to_builtins must then show)
Tightening: TypeAlias = tuple[Parts, str, object]


def _tighter_int(parts: Parts, current: int) -> st.SearchStrategy[Tightening]:
    return st.integers(1, current - 1).map(lambda n: (parts, str(n), n))


def _tighter_decimal(parts: Parts, current: Decimal) -> st.SearchStrategy[Tightening]:
    def top(places: int) -> int:
        scaled = (current * Decimal(10) ** places).to_integral_value(rounding=ROUND_CEILING)
        return int(scaled) - 1

    def below(places: int) -> st.SearchStrategy[Tightening]:
        values = st.integers(1, top(places)).map(lambda n: Decimal(n).scaleb(-places))
        return st.tuples(values, st.booleans()).map(
            # Quoted text or a plain YAML decimal: both must load to the same Decimal.
            lambda pair: (parts, f'"{pair[0]:f}"' if pair[1] else f"{pair[0]:f}", str(pair[0]))
        )

    return st.integers(0, 8).filter(lambda places: top(places) >= 1).flatmap(below)


def _tightenings() -> st.SearchStrategy[Tightening]:
    options: list[st.SearchStrategy[Tightening]] = []
    for parts, leaf in LIMITS:
        if leaf.text.startswith('"'):
            options.append(_tighter_decimal(parts, Decimal(json.loads(leaf.text))))
        elif int(leaf.text) > 1:
            options.append(_tighter_int(parts, int(leaf.text)))
    return st.one_of(options)


def _set(builtins: dict[str, object], parts: Parts, value: object) -> None:
    node = builtins
    for key in parts[:-1]:
        child = node[key]
        assert isinstance(child, dict)
        node = child
    node[parts[-1]] = value


BASE_BUILTINS = msgspec.to_builtins(parse_config(emit(BASE)[0].encode(), "base").config)


@given(_tightenings())
def test_parse_config_when_one_limit_tightened_then_loads_with_only_that_change(
    change: Tightening,
) -> None:
    """Lowering any single limit never turns a valid config into a refused one."""
    parts, text, shown = change
    expected = json.loads(json.dumps(BASE_BUILTINS))
    _set(expected, parts, shown)

    loaded = parse_config(emit(replace(BASE, parts, Leaf(text)))[0].encode(), "tightened")

    assert msgspec.to_builtins(loaded.config) == expected
