"""Strict JSON encoding and decoding of protocol messages.

Decoding runs in two passes. msgspec decodes into the typed message, refusing bad JSON,
invalid UTF-8, NaN/Infinity, unknown fields, wrong types and out-of-range integers. A
second pass over the raw JSON (small, since the first pass bounded its shape) refuses
what msgspec lets through: duplicate keys (msgspec keeps the last) and decimals sent
as JSON numbers or past their digit and exponent bounds. Every failure is one
ProtocolError subclass naming the field; nothing else escapes.

Encoding runs the same checks on its own output, so neither side can send a frame
the other would refuse.
"""

import json
import re
from collections import Counter
from decimal import Decimal
from typing import Final, NoReturn, TypeVar

import msgspec

from trading_contract.errors import (
    DuplicateKey,
    FrameTooLarge,
    MalformedJson,
    NumberOutOfBounds,
    ProtocolError,
    SchemaViolation,
    UnknownField,
)
from trading_contract.messages import AgentMessage, Error, GateMessage
from trading_contract.version import MAX_FRAME_BYTES

# Plain or scientific notation with bounded digits and a two-digit exponent at most:
# "1e999999" (a 9-byte denial of service once converted to int) never matches.
DECIMAL_PATTERN: Final = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,2})?")
MAX_DECIMAL_EXPONENT: Final = 40

_M = TypeVar("_M", AgentMessage, GateMessage, AgentMessage | GateMessage)

_encoder: Final = msgspec.json.Encoder()
_agent_decoder: Final = msgspec.json.Decoder(AgentMessage)
_gate_decoder: Final = msgspec.json.Decoder(GateMessage)
_any_decoder: Final = msgspec.json.Decoder(AgentMessage | GateMessage)

_AT_PATH: Final = re.compile(r" - at `(\$[^`]*)`$")
_UNKNOWN_FIELD: Final = re.compile(r"^Object contains unknown field `([^`]*)`")
_MISSING_FIELD: Final = re.compile(r"^Object missing required field `([^`]*)`")
_OWN_FIELD: Final = re.compile(r"^`([a-z_]+)`")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def decode_agent_message(body: bytes) -> AgentMessage:
    """Decode a frame body the agent sent.

    Raises:
        ProtocolError: one subclass per failure, naming the field (see errors.py).
    """
    return _decode(body, _agent_decoder)


def decode_gate_message(body: bytes) -> GateMessage:
    """Decode a frame body the gate sent.

    Raises:
        ProtocolError: one subclass per failure, naming the field (see errors.py).
    """
    return _decode(body, _gate_decoder)


def encode(message: AgentMessage | GateMessage) -> bytes:
    """Encode a message to its JSON frame body, checking it as the peer will.

    Raises:
        ProtocolError: the message breaks a bound or rule of the protocol (a bug in the
            caller: messages built in code are not validated on construction).
        FrameTooLarge: the body is over MAX_FRAME_BYTES.
    """
    try:
        body = _encoder.encode(message)
    except (msgspec.EncodeError, UnicodeEncodeError, TypeError) as exc:
        raise SchemaViolation(f"{type(message).__name__} cannot be encoded: {exc}") from exc
    _decode(body, _any_decoder)
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"encoded {type(message).__name__} is {len(body)} bytes")
    return body


def error_message(error: ProtocolError) -> Error:
    """The `Error` message that tells the peer about `error`."""
    text = _CONTROL.sub("?", str(error))[:500]
    field = None if error.field is None else _CONTROL.sub("?", error.field)[:500]
    return Error(code=error.code, message=text, field=field, fatal=error.fatal)


def _decode(body: bytes, decoder: msgspec.json.Decoder[_M]) -> _M:
    try:
        message = decoder.decode(body)
    except msgspec.ValidationError as exc:
        _raise_validation_error(str(exc), exc)
    except msgspec.DecodeError as exc:
        raise MalformedJson(str(exc)) from exc
    raw = json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
    _check_decimals(message, raw, "$")
    return message


def _raise_validation_error(text: str, cause: Exception) -> NoReturn:
    at = _AT_PATH.search(text)
    path = at.group(1) if at else "$"
    detail = text[: at.start()] if at else text
    error: ProtocolError
    if unknown := _UNKNOWN_FIELD.match(detail):
        error = UnknownField(detail, field=f"{path}.{unknown.group(1)}")
    elif missing := _MISSING_FIELD.match(detail):
        error = SchemaViolation(detail, field=f"{path}.{missing.group(1)}")
    elif detail.startswith("Integer value out of range"):
        error = NumberOutOfBounds(detail, field=path)
    elif own := _OWN_FIELD.match(detail):
        # A cross-field rule of messages.py; it names its field in backquotes.
        error = SchemaViolation(detail, field=f"{path}.{own.group(1)}")
    else:
        error = SchemaViolation(detail, field=path)
    raise error from cause


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        key = next(key for key, count in counts.items() if count > 1)
        raise DuplicateKey(f"key `{key}` appears more than once", field=f"$..{key}")
    return result


def _check_decimals(value: object, raw: object, path: str) -> None:
    match value:
        case Decimal():
            _check_decimal(value, raw, path)
        case msgspec.Struct():
            fields = raw if isinstance(raw, dict) else {}
            for name in value.__struct_fields__:
                _check_decimals(getattr(value, name), fields.get(name), f"{path}.{name}")
        case tuple():
            items = raw if isinstance(raw, list) else []
            for index, item in enumerate(value):
                _check_decimals(
                    item, items[index] if index < len(items) else None, f"{path}[{index}]"
                )
        case dict():
            entries = raw if isinstance(raw, dict) else {}
            for key, item in value.items():
                _check_decimals(item, entries.get(key), f"{path}.{key}")
        case _:
            pass


def _check_decimal(value: Decimal, raw: object, path: str) -> None:
    if not isinstance(raw, str):
        shown = "a JSON number" if isinstance(raw, int | float) else type(raw).__name__
        raise SchemaViolation(
            f'a decimal must be a JSON string such as "0.01", got {shown}', field=path
        )
    if len(raw) > 80 or not DECIMAL_PATTERN.fullmatch(raw):
        raise NumberOutOfBounds(
            f"{raw[:40]!r} is not a finite decimal of at most 30+30 digits and a 2-digit exponent",
            field=path,
        )
    exponent = value.as_tuple().exponent
    if (
        not isinstance(exponent, int)
        or exponent < -MAX_DECIMAL_EXPONENT
        or value.adjusted() > MAX_DECIMAL_EXPONENT
    ):
        raise NumberOutOfBounds(
            f"{raw!r} has an exponent beyond ±{MAX_DECIMAL_EXPONENT}", field=path
        )
