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

import functools
import json
import re
from collections import Counter
from collections.abc import Hashable
from typing import Final, NoReturn, TypeVar, cast

import msgspec

from trading_contract.admin import AdminReply, AdminRequest
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
from trading_contract.wire_decimals import mirror_decoder

_AnyMessage = AgentMessage | GateMessage | AdminRequest | AdminReply

_M = TypeVar("_M", AgentMessage, GateMessage, AdminRequest, AdminReply, _AnyMessage)

_encoder: Final = msgspec.json.Encoder()
_agent_decoder: Final = msgspec.json.Decoder(AgentMessage)
_gate_decoder: Final = msgspec.json.Decoder(GateMessage)
_admin_request_decoder: Final = msgspec.json.Decoder(AdminRequest)
_admin_reply_decoder: Final = msgspec.json.Decoder(AdminReply)
# One union of every message of both protocols: their tags are disjoint, so encode can
# check any message without being told which protocol it belongs to.
_any_decoder: Final = msgspec.json.Decoder(_AnyMessage)

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


def decode_admin_request(body: bytes) -> AdminRequest:
    """Decode a frame body the console sent on the admin socket.

    Raises:
        ProtocolError: one subclass per failure, naming the field (see errors.py).
    """
    return _decode(body, _admin_request_decoder)


def decode_admin_reply(body: bytes) -> AdminReply:
    """Decode a frame body the gate sent on the admin socket.

    Raises:
        ProtocolError: one subclass per failure, naming the field (see errors.py).
    """
    return _decode(body, _admin_reply_decoder)


def encode(message: _AnyMessage) -> bytes:
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
    try:
        _mirror_for(cast(Hashable, decoder.type)).decode(body)
    except msgspec.ValidationError as exc:
        _raise_decimal_error(str(exc), exc)
    # The C scanner with a pairs hook: the only way to see a key the decoders collapsed.
    json.loads(body, object_pairs_hook=_refuse_duplicate_keys)
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


@functools.cache
def _mirror_for(tp: Hashable) -> msgspec.json.Decoder[object]:
    return mirror_decoder(tp)


def _raise_decimal_error(text: str, cause: Exception) -> NoReturn:
    # The first pass accepted the body, so the mirror can only object to a decimal.
    at = _AT_PATH.search(text)
    path = at.group(1) if at else "$"
    if "matching regex" in text:
        raise NumberOutOfBounds(
            "not a finite decimal of at most 30+30 digits and a 2-digit exponent", field=path
        ) from cause
    raise SchemaViolation('a decimal must be a JSON string such as "0.01"', field=path) from cause
