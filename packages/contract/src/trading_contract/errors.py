"""Typed protocol errors: each names what was wrong and where.

    ProtocolError               code, field (a JSON path such as `$.size`), detail
    ├── FramingError            the byte stream itself is broken: always fatal
    │   ├── FrameTooLarge       length header over MAX_FRAME_BYTES (body never read)
    │   └── TruncatedFrame      the stream ended inside a header or a body
    ├── MalformedJson           not JSON, not UTF-8, or NaN/Infinity literals
    ├── DuplicateKey            a key repeated in one object
    ├── UnknownField            a field the schema does not have
    ├── SchemaViolation         wrong type, missing field, bad value or combination
    ├── NumberOutOfBounds       an integer or decimal past its digit/exponent bounds
    ├── VersionMismatch         the peer speaks another protocol version: fatal
    └── HandshakeRequired       a connection did not open with Hello: fatal

A decoder raises exactly one of these and nothing else for any input.
"""

from typing import ClassVar

from trading_contract.types import ErrorCode


class ProtocolError(Exception):
    """A frame or message that does not satisfy protocol v1."""

    code: ClassVar[ErrorCode] = ErrorCode.SCHEMA_VIOLATION
    # Fatal errors leave the stream unusable or the peer incompatible: disconnect.
    fatal: ClassVar[bool] = False

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        where = f" at `{field}`" if field else ""
        super().__init__(f"{self.code.value}{where}: {detail}")


class FramingError(ProtocolError):
    fatal = True


class FrameTooLarge(FramingError):
    code = ErrorCode.FRAME_TOO_LARGE


class TruncatedFrame(FramingError):
    code = ErrorCode.TRUNCATED_FRAME


class MalformedJson(ProtocolError):
    code = ErrorCode.MALFORMED_JSON


class DuplicateKey(ProtocolError):
    code = ErrorCode.DUPLICATE_KEY


class UnknownField(ProtocolError):
    code = ErrorCode.UNKNOWN_FIELD


class SchemaViolation(ProtocolError):
    code = ErrorCode.SCHEMA_VIOLATION


class NumberOutOfBounds(ProtocolError):
    code = ErrorCode.NUMBER_OUT_OF_BOUNDS


class VersionMismatch(ProtocolError):
    code = ErrorCode.VERSION_MISMATCH
    fatal = True


class HandshakeRequired(ProtocolError):
    """The first frame of a connection was not a Hello."""

    code = ErrorCode.HANDSHAKE_REQUIRED
    fatal = True
