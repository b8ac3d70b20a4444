"""The canonical payload encoding and the row hash that chains the log.

``hash = SHA-256(tag, seq, times, event_type, prev_hash, payload)`` over a length-prefixed
encoding, from a genesis ``prev_hash`` of 64 zeros.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import msgspec

from trading_gate.audit.errors import InvalidAuditInput

__all__ = [
    "DOMAIN_TAG",
    "GENESIS_HASH",
    "INT64_MAX",
    "canonical_json",
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

    Allowed values: str, int (64-bit), bool, None, finite Decimal (as its string), lists
    and tuples (as lists), and mappings with str keys.

    Raises:
        InvalidAuditInput: a float (inexact money), a non-finite Decimal, a non-str key,
            two keys equal after NFC, a lone surrogate, nesting deeper than 32, or any
            other type. The message names the path, e.g. ``payload['fills'][0]``.
    """
    if not isinstance(payload, Mapping):
        raise InvalidAuditInput(f"payload: a mapping is required, not {type(payload).__name__}")
    return msgspec.json.encode(_canonical(payload, "payload", 0), order="sorted")


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
    sha = hashlib.sha256(_framed(DOMAIN_TAG))
    for number in (seq, ts_wall_ns, ts_mono_ns):
        sha.update(number.to_bytes(8, "big", signed=True))
    for part in (event_type, prev_hash, payload):
        sha.update(_framed(part))
    return sha.hexdigest().encode("ascii")


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data
