"""The two bases of every wire Struct, and the venue's error body (see the package doc)."""

import msgspec

__all__ = [
    "ErrorBody",
    "Request",
    "Response",
]


# Every subclass repeats `frozen=True, kw_only=True`: msgspec applies kw_only per class,
# and mypy's dataclass view of Structs needs frozen spelled on each.


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """A payload the venue sends: unknown fields are ignored."""


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A payload we send: exactly the fields we mean, nothing unset."""


class ErrorBody(Response, frozen=True, kw_only=True):
    """An error status's JSON body (§2): `error` code, `message`, sometimes details."""

    error: str = ""
    code: int = 0
    message: str = ""
    error_details: str = ""
