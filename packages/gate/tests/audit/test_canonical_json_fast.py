"""canonical_json's fast path: the same bytes, or the same error, as the reference walk."""

import dataclasses
import datetime
import decimal
import sys
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate_stubs import config, context, order
from trading_contract import Accepted, Decision
from trading_gate.audit import encoding
from trading_gate.audit.encoding import canonical_json, canonical_json_reference
from trading_gate.policy import decide


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    ONE = 1


@dataclasses.dataclass
class Point:
    x: int


class Tagged(msgspec.Struct):
    x: int


def _outcome(encode: Callable[[Any], bytes], payload: object) -> tuple[str, object]:
    try:
        return ("ok", encode(payload))
    except Exception as exc:  # noqa: BLE001 - the point is to compare whatever is raised
        return (type(exc).__name__, str(exc))


def _assert_same(payload: object) -> None:
    assert _outcome(canonical_json, payload) == _outcome(canonical_json_reference, payload)


# ---------------------------------------------------------------- strategies

# Pieces that compose, decompose, reorder or collide under NFC, plus a lone surrogate.
_TRICKY = [
    "e",
    "\u0301",
    "\u00e9",
    "A",
    "\u030a",
    "\u00c5",
    "\u212b",
    "n\u0303",
    "\u00f1",
    "\u0316",
    "\u1100\u1161",
    "\uac00",
    "\ufb01",
    "\u2028",
    "\x00",
    "\n",
    '"',
    "\\",
    "\U0001f600",
    "\ud800",
]
texts = (
    st.text(max_size=8)
    | st.lists(st.sampled_from(_TRICKY), max_size=4).map("".join)
    | st.text(alphabet="ab\u00e9\u00fc\u20ac", max_size=4)
)
keys = st.lists(st.sampled_from(["a", "b", "e", *_TRICKY]), max_size=3).map("".join) | texts
ints = (
    st.integers(min_value=-(2**64), max_value=2**64)
    | st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 0, -1])
    | st.integers(min_value=2**63 - 3, max_value=2**63 + 3)
    | st.integers(min_value=-(2**63) - 3, max_value=-(2**63) + 3)
)
decimals = (
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats(allow_nan=False).map(Decimal.from_float)
    | st.builds(
        lambda sign, digits, exp: Decimal((sign, tuple(digits), exp)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=30),
        st.integers(-40, 40),
    )
)
valid_scalars = st.none() | st.booleans() | ints | texts | decimals
invalid_scalars = st.one_of(
    st.floats(allow_nan=True),
    st.binary(max_size=4),
    st.sampled_from(
        [
            Colour.RED,
            Level.ONE,
            Point(1),
            Tagged(1),
            datetime.date(2025, 1, 1),
            frozenset({1}),
            {1, 2},
            bytearray(b"x"),
            object(),
            Decimal("sNaN"),
            OrderedDict(a=1),
            MappingProxyType({"a": 1}),
        ]
    ),
)
scalars = valid_scalars | invalid_scalars
odd_keys = st.one_of(
    st.integers(), st.none(), st.tuples(st.integers()), st.sampled_from([Colour.RED])
)


def _containers(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
        | st.dictionaries(keys | odd_keys, children, max_size=2)
    )


values = st.recursive(scalars, _containers, max_leaves=12)
valid_values = st.recursive(
    valid_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def deep(draw: st.DrawFn) -> object:
    """A value nested close to, at, or past the 32-level limit."""
    value = draw(valid_scalars | st.just([]) | st.just({}))
    for _ in range(draw(st.integers(28, 36))):
        kind = draw(st.sampled_from(["list", "tuple", "dict"]))
        value = [value] if kind == "list" else (value,) if kind == "tuple" else {"k": value}
    return value


payloads = st.dictionaries(keys | odd_keys, values | deep(), max_size=5)


def _containers_in(value: object) -> list[dict[Any, Any] | list[Any]]:
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers_in(item))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in _containers_in(item))]
    return []


@st.composite
def one_bad(draw: st.DrawFn) -> dict[Any, Any]:
    """A valid payload with exactly one bad value or key put somewhere inside it."""
    payload = draw(st.dictionaries(keys, valid_values, max_size=5))
    where = draw(st.sampled_from(_containers_in(payload)))
    if isinstance(where, list):
        where.insert(draw(st.integers(0, len(where))), draw(invalid_scalars))
    elif draw(st.booleans()):
        where[draw(keys)] = draw(invalid_scalars)
    else:
        where[draw(odd_keys)] = draw(valid_scalars)
    return payload


# ---------------------------------------------------------------- properties


@settings(max_examples=600)
@given(payload=payloads)
def test_canonical_json_when_any_payload_then_same_as_reference(payload: dict[Any, Any]) -> None:
    """Valid or not: the same bytes, or the same exception type and message."""
    _assert_same(payload)


@settings(max_examples=400)
@given(payload=st.dictionaries(keys, valid_values, max_size=6))
def test_canonical_json_when_mostly_valid_payload_then_same_as_reference(
    payload: dict[str, Any],
) -> None:
    """Payloads that are mostly valid, so the fast path is taken and compared often."""
    _assert_same(payload)


@settings(max_examples=600)
@given(payload=one_bad())
def test_canonical_json_when_one_bad_value_in_a_valid_payload_then_same_as_reference(
    payload: dict[Any, Any],
) -> None:
    """One refused type, key or value anywhere: both refuse it, with the same message."""
    _assert_same(payload)


@settings(max_examples=300)
@given(payload=st.dictionaries(st.just("d"), deep(), min_size=1))
def test_canonical_json_when_nested_near_the_limit_then_same_as_reference(
    payload: dict[str, Any],
) -> None:
    """Depth 32 is accepted and 33 refused on both paths, whatever the container."""
    _assert_same(payload)


@given(payload=st.one_of(st.lists(scalars), st.integers(), st.none(), st.text()))
def test_canonical_json_when_not_a_dict_then_same_as_reference(payload: object) -> None:
    """A top level that is not a mapping is refused the same way."""
    _assert_same(payload)


# ---------------------------------------------------------------- the facts the fast path uses


def test_msgspec_writes_every_non_ascii_character_raw() -> None:
    """ASCII output implies ASCII strings: msgspec never escapes U+0080 and above."""
    text = "".join(chr(c) for c in range(0x80, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    assert msgspec.json.encode(text) == b'"' + text.encode("utf-8") + b'"'
    assert msgspec.json.encode({text: 1}) == b'"'.join([b"{", text.encode("utf-8"), b":1}"])


def test_is_normalized_agrees_with_normalize_for_every_character() -> None:
    """The NFC check and the reference's normalize agree, character by character."""
    for c in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= c <= 0xDFFF:
            continue
        for text in (chr(c), "e" + chr(c), chr(c) + "\u0301"):
            normal = unicodedata.normalize("NFC", text) == text
            assert unicodedata.is_normalized("NFC", text) == normal


def test_msgspec_writes_a_decimal_as_its_str_under_any_context() -> None:
    """msgspec's Decimal is str(d), even when the context writes a lower-case exponent."""
    payload = {"a": Decimal("1E+5"), "b": Decimal("-0.000"), "c": Decimal("123.4500")}
    with decimal.localcontext() as ctx:
        ctx.capitals = 0
        assert canonical_json(payload) == canonical_json_reference(payload)
        assert canonical_json(payload) == b'{"a":"1e+5","b":"-0.000","c":"123.4500"}'


def _accepted_payload() -> dict[str, object]:
    message = order()
    verdict = decide(message, context(), config())
    decision = Decision(
        request_id=message.request_id,
        intent_id=message.intent_id,
        verdict=Accepted(client_order_ids=("coid-1",)),
        decided_ns=1,
    )
    return {
        "request": msgspec.to_builtins(message),
        "decision": msgspec.to_builtins(decision),
        "checks": [msgspec.to_builtins(o) for o in verdict.outcomes],
        "config_sha256": "ab" * 32,
        "mode": "active",
    }


@pytest.mark.parametrize(
    "payload",
    [
        _accepted_payload(),
        {"caf\u00e9": ["r\u00e9sum\u00e9", Decimal("1.50"), (1, None, True)], "n": -(2**63)},
    ],
)
def test_canonical_json_when_plain_payload_then_fast_path_taken(
    payload: Mapping[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gate payload never reaches the reference walk, and still gives its bytes."""
    expected = canonical_json_reference(payload)

    def refuse(_: object) -> bytes:
        raise AssertionError("the reference walk was used")

    monkeypatch.setattr(encoding, "canonical_json_reference", refuse)
    assert canonical_json(payload) == expected
