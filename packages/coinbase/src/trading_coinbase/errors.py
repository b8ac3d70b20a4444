"""The library's error tree. Each class says what the caller does next.

    CoinbaseError                 anything this library raises on purpose
    ├── TransportError            connect/read timeouts, resets, closed or idle sockets,
    │   │                         a websocket `error` frame: retry (idempotent) or reconnect
    │   └── SubscribeTimeout      the websocket subscribes were not sent within the deadline
    ├── VenueError                an HTTP error status, with the venue's error/message/details
    │   ├── BadRequest            400 (and other 4xx): the request is wrong; never retried
    │   ├── AuthError             401/403: key, permission or clock; fix before trading
    │   ├── NotFound              404: no such order, account or product
    │   ├── RateLimited           429: wait `retry_after_s` (when the venue said) and retry
    │   └── ServerError           5xx: temporary; retried only when the call is idempotent
    ├── OrderRejected             create order answered success=false with a definitive reason
    ├── OrderOutcomeUnknown       create/edit sent but its fate is unknown: look the order up
    │                             by client order id before anything else (never resend blind)
    ├── SchemaError               a payload does not match the schema; names the field path
    │                             (also a ValueError)
    ├── InvalidOrderSpec          our own order spec breaks a venue rule before sending
    │                             (also a ValueError)
    └── KeyFormatError            the API secret is not an EC P-256 or Ed25519 key
                                  (also a ValueError; never shows the secret)

Foreign errors (httpx, websockets, msgspec, OSError) become these in one place,
`trading_coinbase.boundary`; this module imports nothing foreign so the pure
`translate` module can raise `SchemaError` without pulling in network libraries.
No message here ever carries a key, a JWT or an Authorization header.
"""

__all__ = [
    "AuthError",
    "BadRequest",
    "CoinbaseError",
    "InvalidOrderSpec",
    "KeyFormatError",
    "NotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "RateLimited",
    "SchemaError",
    "ServerError",
    "SubscribeTimeout",
    "TransportError",
    "VenueError",
]


class CoinbaseError(Exception):
    """Base of every error this library raises on purpose."""


class TransportError(CoinbaseError):
    """The connection failed, timed out or was closed: nothing definite was learned."""


class SubscribeTimeout(TransportError):
    """The subscribe messages were not all sent within the venue's deadline."""


class VenueError(CoinbaseError):
    """An HTTP error status from the venue, with what its body said (if it was JSON)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error: str = "",
        error_details: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.error_details = error_details
        self.method = method
        self.path = path
        parts = [f"{method} {path}".strip(), f"HTTP {status}", error, message, error_details]
        super().__init__(": ".join(p for p in parts if p))


class BadRequest(VenueError):
    """400 or another 4xx: the venue refused the request as written."""


class AuthError(VenueError):
    """401 or 403: the key, its permissions or the clock is wrong."""


class NotFound(VenueError):
    """404: the order, account or product does not exist (for this key's portfolio)."""


class RateLimited(VenueError):
    """429: too many requests; `retry_after_s` is the venue's hint, if it gave one."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after_s: float | None = None,
        error: str = "",
        error_details: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(
            status, message, error=error, error_details=error_details, method=method, path=path
        )
        self.retry_after_s = retry_after_s


class ServerError(VenueError):
    """5xx: the venue failed; temporary, but an order's fate is unknown after one."""


class OrderRejected(CoinbaseError):
    """Create order said success=false with a definitive reason: no order exists."""

    def __init__(self, client_order_id: str, reason: str, message: str = "") -> None:
        self.client_order_id = client_order_id
        self.reason = reason
        self.message = message
        detail = f": {message}" if message else ""
        super().__init__(f"order {client_order_id!r} rejected: {reason}{detail}")


class OrderOutcomeUnknown(CoinbaseError):
    """An order POST may or may not have taken effect: resolve it by looking it up.

    `client_order_id` is set for a create (look up with `find_order_by_client_id`),
    `order_id` for an edit (look up with `get_order`).
    """

    def __init__(
        self, reason: str, *, client_order_id: str | None = None, order_id: str | None = None
    ) -> None:
        self.reason = reason
        self.client_order_id = client_order_id
        self.order_id = order_id
        which = f"client order {client_order_id!r}" if client_order_id else f"order {order_id!r}"
        super().__init__(f"outcome of {which} unknown ({reason}): look it up before resending")


class SchemaError(CoinbaseError, ValueError):
    """A payload does not match the schema; `path` names the field (`$.candles[0].open`)."""

    def __init__(self, path: str, problem: str, *, what: str = "") -> None:
        self.path = path
        self.problem = problem
        self.what = what
        prefix = f"{what}: " if what else ""
        super().__init__(f"{prefix}{problem} at `{path}`")


class InvalidOrderSpec(CoinbaseError, ValueError):
    """An order spec that no allowed order configuration can express."""


class KeyFormatError(CoinbaseError, ValueError):
    """The API secret is not a usable EC P-256 (PEM) or Ed25519 key."""
