"""The canonical payload encoding and the row hash that chains the log.

``hash = SHA-256(tag, seq, times, event_type, prev_hash, payload)`` over a length-prefixed
encoding, from a genesis ``prev_hash`` of 64 zeros.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

import msgspec

from trading_gate.audit.errors import InvalidAuditInput

__all__ = [
    "DOMAIN_TAG",
    "GENESIS_HASH",
    "INT64_MAX",
    "canonical_json",
    "canonical_json_reference",
    "digest",
    "row_hash",
]

DOMAIN_TAG: Final = b"trading-gate/audit/v1"
GENESIS_HASH: Final = "0" * 64

_INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
# Deep nesting would otherwise surface as RecursionError (RELIABILITY.md finding 8).
_MAX_DEPTH: Final = 32


# ---------------------------------------------------------------- canonical encoding


def canonical_json(payload: Mapping[str, object]) -> bytes:
    """Encode a payload deterministically: sorted keys, no whitespace, NFC strings.

    The same bytes, and the same errors, as `canonical_json_reference`. A payload made
    only of plain ``dict``, ``list``, ``tuple``, ``str`` (already NFC), 64-bit ``int``,
    ``bool``, ``None`` and finite ``Decimal``, nested at most 32 deep, is encoded
    directly by msgspec; anything else (including every input that is refused) goes
    through the reference walk, which produces the output or the error.

    Allowed values: str, int (64-bit), bool, None, finite Decimal (as its string), lists
    and tuples (as lists), and mappings with str keys.

    Raises:
        InvalidAuditInput: a float (inexact money), a non-finite Decimal, a non-str key,
            two keys equal after NFC, a lone surrogate, nesting deeper than 32, or any
            other type. The message names the path, e.g. ``payload['fills'][0]``.
    """
    if type(payload) is dict and _plain_dict(payload, 0):
        out = _encode_plain(payload)
        # ASCII output means every key and string is ASCII, hence NFC: msgspec writes every
        # character from U+0080 up as its raw UTF-8, never as an escape.
        if out is not None and (out.isascii() or _text_is_nfc(payload)):
            return out
    return canonical_json_reference(payload)


def canonical_json_reference(payload: Mapping[str, object]) -> bytes:
    """`canonical_json` by a full walk that copies and checks every value.

    The reference for the fast path in `canonical_json`, and its fallback: whenever the
    fast path is unsure, this walk gives the bytes or raises the error.

    Raises:
        InvalidAuditInput: as `canonical_json`.
    """
    if not isinstance(payload, Mapping):
        raise InvalidAuditInput(f"payload: a mapping is required, not {type(payload).__name__}")
    return _encode(_canonical(payload, "payload", 0), order="sorted")


# ---------------------------------------------------------------- fast path
#
# `_plain_dict` answers one question: is this value built only from exact
# types that msgspec encodes exactly as the reference walk's copy of it would be encoded?
# Exact types only (``type(x) is``), so subclasses (StrEnum, IntEnum, OrderedDict, ...)
# and everything msgspec would encode on its own (bytes, sets, datetimes, dataclasses,
# Structs, enums, ...) take the reference walk. For a plain value the reference copy is
# the same tree: NFC strings are unchanged, distinct NFC keys cannot collide, ints are
# ints, a tuple and a list encode alike, and msgspec writes a Decimal as ``str(d)``,
# exactly as the reference does. The walk builds no paths and copies nothing.

_encode: Final = msgspec.json.encode
_is_normalized: Final = unicodedata.is_normalized


def _encode_plain(payload: dict[str, object]) -> bytes | None:
    try:
        return _encode(payload, order="sorted")
    except (msgspec.EncodeError, ValueError, TypeError, OverflowError):
        # e.g. a lone surrogate (UnicodeEncodeError): the reference walk says why.
        return None


def _plain_dict(value: dict[Any, Any], depth: int) -> bool:
    # ``value`` sits at ``depth``, so its items at depth + 1: the reference refuses any
    # value deeper than _MAX_DEPTH, so a non-empty container at _MAX_DEPTH is not plain.
    # Strings are only typed here; whether they are NFC is checked later.
    if depth >= _MAX_DEPTH and value:
        return False
    for key in value:
        if type(key) is not str:
            return False
    return _plain_values(value.values(), depth + 1)


def _plain_seq(value: list[Any] | tuple[Any, ...], depth: int) -> bool:
    if depth >= _MAX_DEPTH and value:
        return False
    return _plain_values(value, depth + 1)


def _plain_values(values: Iterable[Any], depth: int) -> bool:
    # `_plain_dict` and `_plain_seq` inlined for their items (this walk runs for every
    # audit row): the same tests, one call per container instead of two.
    for item in values:
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            if depth >= _MAX_DEPTH and item:
                return False
            for key in item:
                if type(key) is not str:
                    return False
            plain = _plain_values(item.values(), depth + 1)
        elif kind is int:
            plain = _INT64_MIN <= item <= INT64_MAX
        elif kind is list or kind is tuple:
            plain = not (depth >= _MAX_DEPTH and item) and _plain_values(item, depth + 1)
        else:
            plain = kind is Decimal and item.is_finite()
        if not plain:
            return False
    return True


def _text_is_nfc(value: Any) -> bool:
    """Every key and string in a plain value is NFC (only after `_plain_dict` passed)."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _is_normalized("NFC", value)
    if kind is dict:
        return all(_text_is_nfc(key) and _text_is_nfc(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(_text_is_nfc(item) for item in value)
    return True


# ---------------------------------------------------------------- reference walk


def _canonical(value: object, path: str, depth: int) -> object:
    if depth > _MAX_DEPTH:
        raise InvalidAuditInput(f"{path}: nested deeper than {_MAX_DEPTH}")
    match value:
        case Mapping():
            return _canonical_mapping(value, path, depth)
        case list() | tuple():
            return [_canonical(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        case _:
            return _canonical_scalar(value, path)


def _canonical_scalar(value: object, path: str) -> object:
    match value:
        case None | bool():
            return value
        case int():
            if not _INT64_MIN <= value <= INT64_MAX:
                raise InvalidAuditInput(f"{path}: int outside 64 bits; pass a Decimal")
            return int(value)
        case float():
            raise InvalidAuditInput(f"{path}: float {value!r} is inexact; pass a Decimal or int")
        case Decimal():
            if not value.is_finite():
                raise InvalidAuditInput(f"{path}: Decimal {value} is not finite")
            return str(value)
        case str():
            return _nfc(value, path)
        case _:
            raise InvalidAuditInput(f"{path}: {type(value).__name__} cannot be audited")


def _canonical_mapping(value: Mapping[object, object], path: str, depth: int) -> object:
    out: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidAuditInput(f"{path}: key {key!r} is not a str")
        name = _nfc(key, path)
        if name in out:
            raise InvalidAuditInput(f"{path}: keys {name!r} collide after NFC normalisation")
        out[name] = _canonical(item, f"{path}[{name!r}]", depth + 1)
    return out


def _nfc(value: str, path: str) -> str:
    # str.__str__ drops str subclasses (StrEnum and friends) to their plain text.
    text = unicodedata.normalize("NFC", str.__str__(value))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidAuditInput(f"{path}: {value!r} is not valid Unicode text") from exc
    return text


# ---------------------------------------------------------------- row hash


def row_hash(
    seq: int, ts_wall_ns: int, ts_mono_ns: int, event_type: str, prev_hash: str, payload: str
) -> str:
    """The SHA-256 hex digest that chains one row to the one before it."""
    return digest(
        seq, ts_wall_ns, ts_mono_ns, event_type.encode(), prev_hash.encode(), payload.encode()
    ).decode("ascii")


def digest(
    seq: int, ts_wall_ns: int, ts_mono_ns: int, event_type: bytes, prev_hash: bytes, payload: bytes
) -> bytes:
    """`row_hash` over the stored bytes, as ASCII hex bytes."""
    # Fixed-width integers and length-prefixed byte strings: no two different rows share an
    # encoding, whatever their payloads contain. Bytes in, so the verifier hashes exactly
    # what is stored even when it is not valid UTF-8.
    # One buffer, one hash call: the same bytes as framing and updating part by part.
    message = b"".join(
        (
            _FRAMED_TAG,
            seq.to_bytes(8, "big", signed=True),
            ts_wall_ns.to_bytes(8, "big", signed=True),
            ts_mono_ns.to_bytes(8, "big", signed=True),
            len(event_type).to_bytes(8, "big"),
            event_type,
            len(prev_hash).to_bytes(8, "big"),
            prev_hash,
            len(payload).to_bytes(8, "big"),
            payload,
        )
    )
    return hashlib.sha256(message).hexdigest().encode("ascii")


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


_FRAMED_TAG: Final = _framed(DOMAIN_TAG)
