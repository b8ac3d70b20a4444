"""REST plumbing: the route table, the guard every request passes, and error bodies.

Every endpoint is an `Endpoint` (method, path below /api/v3/brokerage, private or
public, handler); `ENDPOINTS` in `rest_routes` lists them all, and a test walks that
table. Each request goes through `_guarded`, in this order, as a venue's front door:

1. the injected latency (fault);
2. a 429/5xx burst (fault): answered without touching anything;
3. `sync()`: the market catches up with the clock;
4. private only: the JWT (§1), else a bare 401 `Unauthorized`;
5. the client's token bucket (key name, or address for public calls), else 429;
6. the handler; an `ApiError` becomes Coinbase's error shape
   `{"error", "code", "message", "error_details"}` with its status.

429 and 5xx bodies are JSON, or HTML pages when `html_error_bodies` is on (§2.6).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, NamedTuple, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from trading_coinbase import schemas as w
from trading_sim.venue.auth import AuthRejected
from trading_sim.venue.exchange import Exchange
from trading_sim.venue.wire import encode

__all__ = [
    "API_PREFIX",
    "ApiError",
    "Endpoint",
    "Handler",
    "decode_body",
    "error_response",
    "json_response",
    "query_int",
    "query_list",
    "query_one",
    "routes",
]

API_PREFIX: Final = "/api/v3/brokerage"
T = TypeVar("T")

# gRPC-style codes as Coinbase's bodies carry them.
_CODES: Final = {
    400: ("INVALID_ARGUMENT", 3),
    401: ("UNAUTHENTICATED", 16),
    403: ("PERMISSION_DENIED", 7),
    404: ("NOT_FOUND", 5),
    429: ("RESOURCE_EXHAUSTED", 8),
    500: ("INTERNAL", 13),
    502: ("UNAVAILABLE", 14),
    503: ("UNAVAILABLE", 14),
    504: ("DEADLINE_EXCEEDED", 4),
}
_PHRASES: Final = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}


class ApiError(Exception):
    """An error status with Coinbase's body; raised by handlers, answered by the guard."""

    def __init__(self, status: int, message: str, *, details: str = "") -> None:
        self.status = status
        self.message = message
        self.details = details
        super().__init__(f"{status}: {message}")


Handler = Callable[[Exchange, Request], Awaitable[Response]]


class Endpoint(NamedTuple):
    """One REST endpoint: `path` is below API_PREFIX, in Starlette's `{param}` syntax."""

    method: str
    path: str
    private: bool
    handler: Handler


def json_response(value: object, status: int = 200) -> Response:
    """A schema Struct as a JSON response."""
    return Response(encode(value), status_code=status, media_type="application/json")


def error_response(status: int, message: str, *, details: str = "") -> Response:
    """Coinbase's error body for `status`."""
    error, code = _CODES.get(status, ("UNKNOWN", 2))
    body = w.ErrorBody(error=error, code=code, message=message, error_details=details)
    return json_response(body, status)


def status_response(exchange: Exchange, status: int, message: str) -> Response:
    """A 429/5xx as JSON, or as a gateway's HTML page when the fault says so."""
    if not exchange.faults.current.html_error_bodies:
        return error_response(status, message)
    phrase = _PHRASES.get(status, "Error")
    html = (
        f"<html><head><title>{status} {phrase}</title></head><body><h1>{phrase}</h1></body></html>"
    )
    return Response(html, status_code=status, media_type="text/html")


async def decode_body(request: Request, type_: type[T]) -> T:
    """The JSON body as a strict request Struct.

    Raises:
        ApiError: 400 with msgspec's words (which field, what is wrong).
    """
    try:
        return msgspec.json.decode(await request.body(), type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ApiError(400, f"invalid request body: {exc}") from None


def query_list(request: Request, name: str) -> list[str]:
    """Every value of a repeated query key (`?product_ids=A&product_ids=B`, §2)."""
    return request.query_params.getlist(name)


def query_one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    return values[-1] if values else None


def query_int(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """An integer query value in [low, high], or `default` when absent.

    Raises:
        ApiError: 400 naming the parameter.
    """
    text = query_one(request, name)
    if text is None or text == "":
        return default
    if not text.lstrip("-").isdigit():
        raise ApiError(400, f"{name} must be an integer, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be in [{low}, {high}], got {value}")
    return value


def routes(exchange: Exchange, endpoints: Sequence[Endpoint]) -> list[Route]:
    """Starlette routes for `endpoints`, each behind the guard."""
    return [Route(API_PREFIX + e.path, _guard(exchange, e), methods=[e.method]) for e in endpoints]


def _guard(exchange: Exchange, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        return await _guarded(exchange, endpoint, request)

    return guarded


async def _guarded(exchange: Exchange, endpoint: Endpoint, request: Request) -> Response:
    delay = exchange.faults.latency_s()
    if delay:
        await asyncio.sleep(delay)
    path = request.url.path.removeprefix(API_PREFIX)
    burst = exchange.faults.take_http_burst(path) or exchange.faults.take_http_burst(endpoint.path)
    if burst is not None:
        return status_response(exchange, burst, "sim fault: injected error")
    exchange.sync()
    client = _client(exchange, endpoint, request)
    if client is None:
        return PlainTextResponse("Unauthorized", status_code=401)
    buckets = exchange.private_buckets if endpoint.private else exchange.public_buckets
    if not buckets.admit(client, exchange.now_ns()):
        return _rate_limited(exchange, buckets.rate_per_s)
    try:
        return await endpoint.handler(exchange, request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, details=exc.details)


def _client(exchange: Exchange, endpoint: Endpoint, request: Request) -> str | None:
    """Who the request counts against: the key name (private) or the address (public)."""
    if not endpoint.private:
        return request.client.host if request.client else "unknown"
    verifier = exchange.verifier
    if verifier is None:
        exchange.auth_failures.append("no public key is configured: private calls are refused")
        return None
    try:
        return verifier.rest(
            request.headers.get("authorization"),
            method=request.method,
            host=request.headers.get("host", ""),
            path=request.url.path,
            now_s=exchange.now_s(),
        )
    except AuthRejected as exc:
        exchange.auth_failures.append(f"{request.method} {request.url.path}: {exc.reason}")
        return None


def _rate_limited(exchange: Exchange, rate_per_s: int) -> Response:
    response = status_response(exchange, 429, "Too many requests")
    response.headers["x-ratelimit-limit"] = str(rate_per_s)
    response.headers["x-ratelimit-remaining"] = "0"
    response.headers["x-ratelimit-reset"] = "1"
    return response
