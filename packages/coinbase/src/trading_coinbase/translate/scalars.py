"""Scalar parsing: exact decimals, RFC3339 times as epoch ns, venue integers.

Every parse names the field it failed on (`$.candles[0].open`) in a `SchemaError`.
"""

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Final

from trading_coinbase.errors import SchemaError

__all__ = [
    "NS_PER_S",
    "decimal_or_zero",
    "format_decimal",
    "format_rfc3339",
    "parse_decimal",
    "parse_optional_decimal",
    "parse_optional_rfc3339_ns",
    "parse_rfc3339_ns",
    "parse_wire_int",
]


NS_PER_S: Final = 1_000_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DECIMAL: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER: Final = re.compile(r"-?\d+")
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:\d{2})"
)


def parse_decimal(text: str, field: str) -> Decimal:
    """`text` as an exact, finite Decimal.

    Raises:
        SchemaError: not a plain decimal number (empty, NaN, spaces, ...); names `field`.
    """
    if not _DECIMAL.fullmatch(text):
        raise SchemaError(field, f"expected a decimal string, got {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise SchemaError(field, f"expected a decimal string, got {text!r}") from exc


def parse_optional_decimal(text: str | None, field: str) -> Decimal | None:
    """None for the venue's "not set" (`""` or null), else `parse_decimal`."""
    if text is None or text == "":
        return None
    return parse_decimal(text, field)


def decimal_or_zero(text: str, field: str) -> Decimal:
    value = parse_optional_decimal(text, field)
    return Decimal(0) if value is None else value


def format_decimal(value: Decimal) -> str:
    """A Decimal as the venue expects it: plain digits, never exponent notation."""
    return format(value, "f")


def parse_wire_int(value: int | str, field: str) -> int:
    """An integer the venue may send as a number or a string ([C13])."""
    if isinstance(value, int):
        return value
    if not _INTEGER.fullmatch(value):
        raise SchemaError(field, f"expected an integer, got {value!r}")
    return int(value)


def parse_rfc3339_ns(text: str, field: str) -> int:
    """An RFC3339 timestamp (up to 9 fractional digits) as integer epoch nanoseconds.

    Raises:
        SchemaError: not RFC3339 with a zone; names `field`.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise SchemaError(field, f"expected an RFC3339 time, got {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=_zone(match[8]))
    except ValueError as exc:
        raise SchemaError(field, f"not a valid time {text!r}: {exc}") from exc
    whole_s = (moment - _EPOCH) // timedelta(seconds=1)
    fraction = (match[7] or "").ljust(9, "0")
    return whole_s * NS_PER_S + int(fraction)


def _zone(designator: str) -> timezone:
    if designator in ("Z", "z"):
        return UTC
    sign = -1 if designator[0] == "-" else 1
    hours, minutes = int(designator[1:3]), int(designator[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_rfc3339(ns: int) -> str:
    """Epoch nanoseconds as RFC3339 UTC (`2026-04-07T00:28:58Z`, fraction only if any)."""
    whole_s, fraction = divmod(ns, NS_PER_S)
    text = (_EPOCH + timedelta(seconds=whole_s)).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def parse_optional_rfc3339_ns(text: str | None, field: str) -> int | None:
    return None if not text else parse_rfc3339_ns(text, field)
