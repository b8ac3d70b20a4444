"""canonical_json: one byte string per payload, and no inexact or ambiguous values."""

from decimal import Decimal
from enum import StrEnum

import pytest

from trading_gate.audit import InvalidAuditInput, canonical_json
from trading_gate.errors import GateBug


class Side(StrEnum):
    BUY = "buy"


def test_canonical_json_when_keys_in_any_order_then_same_sorted_bytes() -> None:
    """Insertion order does not matter: keys are sorted, and there is no whitespace."""
    one = canonical_json({"b": 1, "a": {"y": [1, 2], "x": None}})
    two = canonical_json({"a": {"x": None, "y": [1, 2]}, "b": 1})
    assert one == two == b'{"a":{"x":null,"y":[1,2]},"b":1}'


def test_canonical_json_when_scalars_then_json_types_kept() -> None:
    """bool stays bool (not 1), None is null, ints are ints, tuples become lists."""
    encoded = canonical_json({"t": True, "f": False, "n": None, "i": -7, "l": (1, "x")})
    assert encoded == b'{"f":false,"i":-7,"l":[1,"x"],"n":null,"t":true}'


def test_canonical_json_when_decimal_then_string_with_its_exponent() -> None:
    """A Decimal is written as its exact string: 1.50 stays 1.50, not 1.5."""
    encoded = canonical_json({"qty": Decimal("1.50"), "px": Decimal("-0.000001")})
    assert encoded == b'{"px":"-0.000001","qty":"1.50"}'


def test_canonical_json_when_decomposed_unicode_then_nfc() -> None:
    """Strings and keys are NFC-normalised, so 'e' + combining acute equals 'é'."""
    decomposed = canonical_json({"cafe\u0301": "re\u0301sume\u0301"})
    composed = canonical_json({"caf\u00e9": "r\u00e9sum\u00e9"})
    assert decomposed == composed == '{"café":"résumé"}'.encode()


def test_canonical_json_when_str_enum_then_plain_value() -> None:
    """A StrEnum member encodes as its value."""
    assert canonical_json({"side": Side.BUY}) == b'{"side":"buy"}'


def test_canonical_json_when_float_then_refused_naming_the_path() -> None:
    """A float anywhere is refused, and the error names where it is."""
    with pytest.raises(
        InvalidAuditInput, match=r"payload\['fills'\]\[1\]\['px'\]: float"
    ) as caught:
        canonical_json({"fills": [{"px": Decimal(1)}, {"px": 0.1}]})
    assert isinstance(caught.value, GateBug)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_canonical_json_when_non_finite_decimal_then_refused(value: Decimal) -> None:
    """NaN and infinities have no place in an audit row."""
    with pytest.raises(InvalidAuditInput, match="not finite"):
        canonical_json({"px": value})


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({1: "x"}, "is not a str"),
        ({"e\u0301": 1, "\u00e9": 2}, "collide after NFC"),
        ({"s": "\ud800"}, "not valid Unicode"),
        ({"b": b"raw"}, "bytes cannot be audited"),
        ({"s": {1, 2}}, "set cannot be audited"),
        ({"i": 2**63}, "outside 64 bits"),
        ({"i": -(2**63) - 1}, "outside 64 bits"),
    ],
)
def test_canonical_json_when_ambiguous_or_unknown_then_refused(
    payload: dict[object, object], match: str
) -> None:
    """Non-str keys, NFC collisions, lone surrogates, other types and huge ints are refused."""
    with pytest.raises(InvalidAuditInput, match=match):
        canonical_json(payload)  # type: ignore[arg-type]


def test_canonical_json_when_int64_bounds_then_accepted() -> None:
    """The extremes of a signed 64-bit int are still ints."""
    assert canonical_json({"hi": 2**63 - 1, "lo": -(2**63)}) == (
        b'{"hi":9223372036854775807,"lo":-9223372036854775808}'
    )


def test_canonical_json_when_nested_too_deep_then_refused() -> None:
    """Deep nesting is refused up front rather than exhausting the stack."""
    deep: list[object] = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(InvalidAuditInput, match="nested deeper"):
        canonical_json({"deep": deep})


def test_canonical_json_when_not_a_mapping_then_refused() -> None:
    """The top level is an object."""
    with pytest.raises(InvalidAuditInput, match="a mapping is required"):
        canonical_json([1, 2])  # type: ignore[arg-type]
