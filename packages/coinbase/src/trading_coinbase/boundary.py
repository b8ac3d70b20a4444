"""The one place foreign errors become ours (see the tree in `errors`).

- `http_errors()`: httpx transport failures -> `TransportError`.
- `websocket_errors()`: websockets/OS/timeout failures -> `TransportError`.
- `decode_json()`: msgspec decode/validation failures -> `SchemaError` naming the path.
- `error_for_status()`: an HTTP error status and body -> the matching `VenueError`.

Each maps with `raise ... from exc` so the cause stays in the traceback. Nothing here
formats a request's headers, so no Authorization header or JWT reaches a message.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final, TypeVar

import httpx
import msgspec
import websockets.exceptions

from trading_coinbase.errors import (
    AuthError,
    BadRequest,
    NotFound,
    RateLimited,
    SchemaError,
    ServerError,
    TransportError,
    VenueError,
)
from trading_coinbase.schemas import ErrorBody, WsMessage

__all__ = [
    "decode_json",
    "decode_ws_message",
    "error_for_status",
    "http_errors",
    "websocket_errors",
]

T = TypeVar("T")

_PATH: Final = re.compile(r"^(?P<problem>.*?) - at `(?P<path>[^`]*)`$", re.DOTALL)
# An HTML 429/5xx page (§2.6) is cut to this much text in the message.
_MAX_TEXT: Final = 200


@contextmanager
def http_errors(method: str, path: str) -> Iterator[None]:
    """Turn httpx timeouts, resets and protocol failures into `TransportError`."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransportError(f"{method} {path}: timed out ({type(exc).__name__})") from exc
    except httpx.RequestError as exc:
        raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc


@contextmanager
def websocket_errors(url: str) -> Iterator[None]:
    """Turn websocket closes, handshake failures, OS errors and timeouts into ours."""
    try:
        yield
    except websockets.exceptions.ConnectionClosed as exc:
        raise TransportError(f"{url}: connection closed ({exc})") from exc
    except websockets.exceptions.WebSocketException as exc:
        raise TransportError(f"{url}: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise TransportError(f"{url}: timed out") from exc
    except OSError as exc:
        raise TransportError(f"{url}: {type(exc).__name__}: {exc}") from exc


def decode_json(data: bytes | str, type_: type[T], *, what: str) -> T:
    """`data` decoded as `type_`.

    Raises:
        SchemaError: not JSON, or not that shape; `path` names the field.
    """
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        problem, path = _split(str(exc))
        raise SchemaError(path, problem, what=what) from exc
    except msgspec.DecodeError as exc:
        raise SchemaError("$", f"not JSON: {exc}", what=what) from exc


def decode_ws_message(data: bytes | str, *, what: str) -> WsMessage:
    """A data frame decoded by its `channel` tag.

    Raises:
        SchemaError: not JSON, an unknown channel, or not that channel's shape.
    """
    try:
        return msgspec.json.decode(data, type=WsMessage)
    except msgspec.ValidationError as exc:
        problem, path = _split(str(exc))
        raise SchemaError(path, problem, what=what) from exc
    except msgspec.DecodeError as exc:
        raise SchemaError("$", f"not JSON: {exc}", what=what) from exc


def _split(message: str) -> tuple[str, str]:
    match = _PATH.match(message)
    if match is None:
        return message, "$"
    return match["problem"], match["path"]


def error_for_status(
    status: int, body: bytes, headers: Mapping[str, str], *, method: str, path: str
) -> VenueError:
    """The error for an HTTP error `status`, with the venue's error/message/details.

    A JSON body gives `error`, `message`, `error_details`; a plain-text 401 or an HTML
    429/5xx page becomes the message, cut short.
    """
    parsed = _error_body(body)
    if status == 429:
        return RateLimited(
            status,
            parsed.message,
            retry_after_s=_retry_after(headers),
            error=parsed.error,
            error_details=parsed.error_details,
            method=method,
            path=path,
        )
    kind = _status_class(status)
    return kind(
        status,
        parsed.message,
        error=parsed.error,
        error_details=parsed.error_details,
        method=method,
        path=path,
    )


def _status_class(status: int) -> type[VenueError]:
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFound
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return BadRequest
    return VenueError


def _error_body(body: bytes) -> ErrorBody:
    try:
        return msgspec.json.decode(body, type=ErrorBody)
    except (msgspec.ValidationError, msgspec.DecodeError):
        text = body.decode("utf-8", errors="replace").strip()
        return ErrorBody(message=text[:_MAX_TEXT])


def _retry_after(headers: Mapping[str, str]) -> float | None:
    # Only the delta-seconds form; an HTTP-date is ignored (backoff applies instead).
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None
