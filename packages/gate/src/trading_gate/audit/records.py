"""The log's row values: the head, one written row, and how the next row is built."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import msgspec

from trading_gate.audit.encoding import INT64_MAX, canonical_json, row_hash
from trading_gate.audit.errors import InvalidAuditInput

__all__ = ["AuditHead", "AuditRecord", "check_ns", "next_record"]

_EVENT_TYPE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
# Event types already matched: the gate writes a few dozen names over and over, so the
# regex runs once per name. Exact str only, and bounded, so nothing odd is remembered.
_KNOWN_EVENT_TYPES: Final[set[str]] = set()
_KNOWN_EVENT_TYPES_MAX: Final = 1024


class AuditHead(msgspec.Struct, frozen=True):
    """The last committed row: ``seq`` 0 and `GENESIS_HASH` for an empty log."""

    seq: int
    hash: str


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One row as written; ``payload`` is its canonical JSON text."""

    seq: int
    ts_wall_ns: int
    ts_mono_ns: int
    event_type: str
    payload: str
    prev_hash: str
    hash: str


def check_ns(name: str, value: int) -> None:
    """Refuse anything but a non-negative 64-bit int (a time or a seq).

    Raises:
        InvalidAuditInput: ``value`` is a bool, not an int, negative or over 64 bits.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidAuditInput(f"{name}: {value!r} is not a non-negative 64-bit int")


def next_record(
    head: AuditHead,
    event_type: str,
    payload: Mapping[str, object],
    ts_wall_ns: int,
    ts_mono_ns: int,
) -> AuditRecord:
    """Build the row that follows ``head``, hashed and chained to it.

    Raises:
        InvalidAuditInput: see `canonical_json`; also a bad event type or time.
    """
    if type(event_type) is not str or event_type not in _KNOWN_EVENT_TYPES:
        _check_event_type(event_type)
    check_ns("ts_wall_ns", ts_wall_ns)
    check_ns("ts_mono_ns", ts_mono_ns)
    body = canonical_json(payload).decode("utf-8")
    seq = head.seq + 1
    digest = row_hash(seq, ts_wall_ns, ts_mono_ns, event_type, head.hash, body)
    return AuditRecord(
        seq=seq,
        ts_wall_ns=ts_wall_ns,
        ts_mono_ns=ts_mono_ns,
        event_type=event_type,
        payload=body,
        prev_hash=head.hash,
        hash=digest,
    )


def _check_event_type(event_type: object) -> None:
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        raise InvalidAuditInput(f"event_type {event_type!r} is not a name like 'order.denied'")
    if type(event_type) is str and len(_KNOWN_EVENT_TYPES) < _KNOWN_EVENT_TYPES_MAX:
        _KNOWN_EVENT_TYPES.add(event_type)
