"""Typed ids, enums and bounded scalars shared by every message.

Bounds live in the types, so the decoder refuses an out-of-range value at the field
that holds it and names that field.
"""

from enum import StrEnum
from typing import Annotated, Final, NewType

from msgspec import Meta

# Ids: short, printable, no separators that could confuse logs or SQL.
_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
_IdMeta: Final = Meta(pattern=_ID_PATTERN, description="1-64 chars of [A-Za-z0-9._:-]")

IntentId = NewType("IntentId", str)
RequestId = NewType("RequestId", str)
ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
AgentId = NewType("AgentId", str)
GateId = NewType("GateId", str)
SessionId = NewType("SessionId", str)
StrategyId = NewType("StrategyId", str)
ProductId = NewType("ProductId", str)
Currency = NewType("Currency", str)

# Wire forms of the ids above, with their bounds.
WireIntentId = Annotated[IntentId, _IdMeta]
WireRequestId = Annotated[RequestId, _IdMeta]
WireClientOrderId = Annotated[ClientOrderId, _IdMeta]
WireVenueOrderId = Annotated[VenueOrderId, Meta(pattern=r"^[A-Za-z0-9._:\-]{1,128}$")]
WireTradeId = Annotated[TradeId, Meta(pattern=r"^[A-Za-z0-9._:\-]{1,128}$")]
WireAgentId = Annotated[AgentId, _IdMeta]
WireGateId = Annotated[GateId, _IdMeta]
WireSessionId = Annotated[SessionId, _IdMeta]
WireStrategyId = Annotated[StrategyId, Meta(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
# Coinbase product ids: BASE-QUOTE in upper case, e.g. BTC-USD.
WireProductId = Annotated[ProductId, Meta(pattern=r"^[A-Z0-9]{1,12}-[A-Z0-9]{1,12}$")]
WireCurrency = Annotated[Currency, Meta(pattern=r"^[A-Z0-9]{1,12}$")]

# Integer nanoseconds since the Unix epoch, UTC.
TimestampNs = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]
DurationMs = Annotated[int, Meta(ge=1, le=86_400_000)]

# Free text for people: bounded, and no control characters (no log injection).
_TEXT_PATTERN: Final = r"^[^\x00-\x1f\x7f]*$"
ShortText = Annotated[str, Meta(max_length=64, pattern=_TEXT_PATTERN)]
Text = Annotated[str, Meta(max_length=500, pattern=_TEXT_PATTERN)]
# A key into a bounded map of signal values or statistics.
SignalName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Capability = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_.]{0,31}$")]
Sha256Hex = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_LIMIT = "stop_limit"


class SizeUnit(StrEnum):
    """Whether `size` counts the base asset (BTC in BTC-USD) or the quote (USD)."""

    BASE = "base"
    QUOTE = "quote"


class TimeInForce(StrEnum):
    GTC = "gtc"
    GTD = "gtd"
    IOC = "ioc"
    FOK = "fok"


class StopDirection(StrEnum):
    """Coinbase STOP_DIRECTION_STOP_UP / _DOWN: the trigger fires at or past the stop."""

    UP = "up"
    DOWN = "down"


class OrderStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class TradingState(StrEnum):
    """ACTIVE: all checks apply. REDUCING: only risk-reducing orders and cancels.
    HALTED: cancels only; cleared by a human alone."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class QueryKind(StrEnum):
    POSITIONS = "positions"
    BALANCES = "balances"
    OPEN_ORDERS = "open_orders"
    GATE_STATE = "gate_state"
    LIMITS = "limits"


class RejectCode(StrEnum):
    """Why the gate refused a request. Stable: agents and dashboards key on these."""

    HALTED = "halted"
    REDUCING_ONLY = "reducing_only"
    NOT_READY = "not_ready"
    PRODUCT_NOT_ALLOWED = "product_not_allowed"
    INVALID_ORDER = "invalid_order"
    OFF_INCREMENT = "off_increment"
    SIZE_LIMIT = "size_limit"
    NOTIONAL_LIMIT = "notional_limit"
    NO_REFERENCE_PRICE = "no_reference_price"
    STALE_REFERENCE_PRICE = "stale_reference_price"
    PRICE_COLLAR = "price_collar"
    POSITION_LIMIT = "position_limit"
    EXPOSURE_LIMIT = "exposure_limit"
    OPEN_ORDERS_LIMIT = "open_orders_limit"
    ORDER_RATE_LIMIT = "order_rate_limit"
    CANCEL_RATE_LIMIT = "cancel_rate_limit"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    DRAWDOWN_LIMIT = "drawdown_limit"
    DUPLICATE_INTENT = "duplicate_intent"
    RULE_DENIED = "rule_denied"
    RULE_ERROR = "rule_error"
    UNKNOWN_ORDER = "unknown_order"
    EXCHANGE_REJECTED = "exchange_rejected"
    JOURNAL_FAILURE = "journal_failure"


class ErrorCode(StrEnum):
    """Protocol-level failures, sent in an `Error` message."""

    FRAME_TOO_LARGE = "frame_too_large"
    TRUNCATED_FRAME = "truncated_frame"
    MALFORMED_JSON = "malformed_json"
    DUPLICATE_KEY = "duplicate_key"
    UNKNOWN_FIELD = "unknown_field"
    SCHEMA_VIOLATION = "schema_violation"
    NUMBER_OUT_OF_BOUNDS = "number_out_of_bounds"
    VERSION_MISMATCH = "version_mismatch"
    HANDSHAKE_REQUIRED = "handshake_required"
    UNEXPECTED_MESSAGE = "unexpected_message"
    TOO_MANY_ERRORS = "too_many_errors"
    PEER_NOT_ALLOWED = "peer_not_allowed"
    ALREADY_CONNECTED = "already_connected"
    TIMEOUT = "timeout"
