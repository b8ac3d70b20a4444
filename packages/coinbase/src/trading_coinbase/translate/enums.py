"""The venue's vocabularies as enums: side, order kind, time in force, stop direction,
order status, candle granularity."""

from enum import Enum
from typing import Final

from trading_coinbase.errors import SchemaError

__all__ = [
    "MAX_CANDLES",
    "TERMINAL_STATUSES",
    "Granularity",
    "OrderKind",
    "Side",
    "StopDirection",
    "TimeInForce",
    "VenueOrderStatus",
    "order_status",
    "parse_side",
]


class Side(Enum):
    """Order side, as the venue spells it."""

    BUY = "BUY"
    SELL = "SELL"


def parse_side(text: str, field: str) -> Side:
    try:
        return Side(text.upper())
    except ValueError as exc:
        raise SchemaError(field, f"expected BUY or SELL, got {text!r}") from exc


class OrderKind(Enum):
    """What the order does at the book."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(Enum):
    """How long the order lives, with the venue's `time_in_force` spellings."""

    GOOD_UNTIL_CANCELLED = "GOOD_UNTIL_CANCELLED"
    GOOD_UNTIL_DATE_TIME = "GOOD_UNTIL_DATE_TIME"
    IMMEDIATE_OR_CANCEL = "IMMEDIATE_OR_CANCEL"
    FILL_OR_KILL = "FILL_OR_KILL"


class StopDirection(Enum):
    """Which way the stop price must be crossed to trigger."""

    STOP_UP = "STOP_DIRECTION_STOP_UP"
    STOP_DOWN = "STOP_DIRECTION_STOP_DOWN"


class VenueOrderStatus(Enum):
    """An order's venue status (§2.4). Anything unrecognised is UNKNOWN: indeterminate,
    never taken as cancelled."""

    PENDING = "PENDING"
    OPEN = "OPEN"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    QUEUED = "QUEUED"
    CANCEL_QUEUED = "CANCEL_QUEUED"
    EDIT_QUEUED = "EDIT_QUEUED"
    UNKNOWN = "UNKNOWN_ORDER_STATUS"


TERMINAL_STATUSES: Final = frozenset(
    {
        VenueOrderStatus.FILLED,
        VenueOrderStatus.CANCELLED,
        VenueOrderStatus.EXPIRED,
        VenueOrderStatus.FAILED,
    }
)

_STATUS_BY_WIRE: Final = {s.value: s for s in VenueOrderStatus}


def order_status(text: str) -> VenueOrderStatus:
    """The venue's status string as an enum; unknown strings are UNKNOWN (§2.4)."""
    return _STATUS_BY_WIRE.get(text.upper(), VenueOrderStatus.UNKNOWN)


class Granularity(Enum):
    """Candle bucket sizes (§2.5), valued by the venue's names."""

    ONE_MINUTE = "ONE_MINUTE"
    FIVE_MINUTE = "FIVE_MINUTE"
    FIFTEEN_MINUTE = "FIFTEEN_MINUTE"
    THIRTY_MINUTE = "THIRTY_MINUTE"
    ONE_HOUR = "ONE_HOUR"
    TWO_HOUR = "TWO_HOUR"
    FOUR_HOUR = "FOUR_HOUR"
    SIX_HOUR = "SIX_HOUR"
    ONE_DAY = "ONE_DAY"

    @property
    def seconds(self) -> int:
        """The bucket length in seconds."""
        return _GRANULARITY_S[self.value]


_GRANULARITY_S: Final = {
    "ONE_MINUTE": 60,
    "FIVE_MINUTE": 300,
    "FIFTEEN_MINUTE": 900,
    "THIRTY_MINUTE": 1800,
    "ONE_HOUR": 3600,
    "TWO_HOUR": 7200,
    "FOUR_HOUR": 14400,
    "SIX_HOUR": 21600,
    "ONE_DAY": 86400,
}

MAX_CANDLES: Final = 350
