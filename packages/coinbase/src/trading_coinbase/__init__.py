"""Coinbase Advanced Trade: wire schemas, JWT signing, REST and websocket clients.

Holds no keys: callers pass them in (`ApiKey`, `Signer`). Three parts speak this
venue format: the gate (private REST and the user channel), the agent (public market
data) and the simulator (the server side, encoding with `schemas`). The submodules
`schemas` (wire Structs) and `translate` (pure wire <-> domain conversion) are public
as modules; the most used names are re-exported here.
"""

from trading_coinbase import schemas, translate
from trading_coinbase.auth import ApiKey, Signer, build_jwt, rest_uri
from trading_coinbase.errors import (
    AuthError,
    BadRequest,
    CoinbaseError,
    InvalidOrderSpec,
    KeyFormatError,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    SchemaError,
    ServerError,
    SubscribeTimeout,
    TransportError,
    VenueError,
)
from trading_coinbase.ratelimit import (
    PRIVATE_LIMITS,
    PUBLIC_LIMITS,
    BucketLimits,
    CallKind,
    RateLimiter,
)
from trading_coinbase.rest import DEFAULT_BASE_URL, RestClient, RetryPolicy
from trading_coinbase.translate import (
    Granularity,
    OrderKind,
    OrderSpec,
    Side,
    StopDirection,
    TimeInForce,
    VenueOrderStatus,
)
from trading_coinbase.websocket import (
    MARKET_DATA_URL,
    USER_DATA_URL,
    FeedEvent,
    SequenceDuplicate,
    SequenceGap,
    SequenceOutOfOrder,
    Subscription,
    WebsocketFeed,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MARKET_DATA_URL",
    "PRIVATE_LIMITS",
    "PUBLIC_LIMITS",
    "USER_DATA_URL",
    "ApiKey",
    "AuthError",
    "BadRequest",
    "BucketLimits",
    "CallKind",
    "CoinbaseError",
    "FeedEvent",
    "Granularity",
    "InvalidOrderSpec",
    "KeyFormatError",
    "NotFound",
    "OrderKind",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "OrderSpec",
    "RateLimited",
    "RateLimiter",
    "RestClient",
    "RetryPolicy",
    "SchemaError",
    "SequenceDuplicate",
    "SequenceGap",
    "SequenceOutOfOrder",
    "ServerError",
    "Side",
    "Signer",
    "StopDirection",
    "SubscribeTimeout",
    "Subscription",
    "TimeInForce",
    "TransportError",
    "VenueError",
    "VenueOrderStatus",
    "WebsocketFeed",
    "build_jwt",
    "rest_uri",
    "schemas",
    "translate",
]
