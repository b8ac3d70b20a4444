"""The engine's own frozen values: market data, orders, fills, balances and events.

The simulated exchange is the outside world, so these types are its own and know
nothing of the gate's contract; the paper adapter translates in one place.
Prices and sizes are Decimal, times are integer nanoseconds since the Unix epoch.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Final

import msgspec

ZERO: Final = Decimal(0)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderKind(StrEnum):
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
    """UP fires when the market trades at or above the stop, DOWN at or below."""

    UP = "up"
    DOWN = "down"


class OrderStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


TERMINAL: Final = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class Reason(StrEnum):
    """Why an order was refused or ended early, in Coinbase's own vocabulary where it has one."""

    INVALID_PRODUCT_ID = "INVALID_PRODUCT_ID"
    INVALID_SIZE = "INVALID_SIZE"
    INVALID_SIZE_PRECISION = "INVALID_SIZE_PRECISION"
    INVALID_PRICE_PRECISION = "INVALID_PRICE_PRECISION"
    INVALID_LIMIT_PRICE = "INVALID_LIMIT_PRICE"
    INVALID_STOP_PRICE = "INVALID_STOP_PRICE"
    INVALID_END_TIME = "INVALID_END_TIME"
    UNSUPPORTED_ORDER_CONFIGURATION = "UNSUPPORTED_ORDER_CONFIGURATION"
    POST_ONLY_NOT_ALLOWED_WITH_FOK = "POST_ONLY_NOT_ALLOWED_WITH_FOK"
    INVALID_LIMIT_PRICE_POST_ONLY = "INVALID_LIMIT_PRICE_POST_ONLY"
    INSUFFICIENT_FUND = "INSUFFICIENT_FUND"
    INVALID_NO_LIQUIDITY = "INVALID_NO_LIQUIDITY"
    SIZE_TOO_SMALL = "SIZE_TOO_SMALL"
    USER_CANCELLED = "USER_CANCELLED"
    IOC_REMAINDER = "IOC_REMAINDER"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    UNKNOWN_CANCEL_ORDER = "UNKNOWN_CANCEL_ORDER"


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    """One OHLCV candle; `open_ns` is the bar's open, `close_ns` its end when known.

    Raises:
        ValueError: prices not positive, OHLC inconsistent, volume negative or times reversed.
    """

    product_id: str
    open_ns: int
    close_ns: int | None = None
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        problem = _bar_problem(self)
        if problem:
            raise ValueError(f"bad bar {self.product_id} at {self.open_ns}: {problem}")

    @property
    def end_ns(self) -> int:
        """When the bar's outcome is known: its close, or its open if no close is given."""
        return self.open_ns if self.close_ns is None else self.close_ns


def _bar_problem(bar: Bar) -> str:
    if not all(p.is_finite() and p > 0 for p in (bar.open, bar.high, bar.low, bar.close)):
        return "prices must be finite and positive"
    if not (bar.volume.is_finite() and bar.volume >= 0):
        return "volume must be finite and not negative"
    if bar.low > min(bar.open, bar.close) or bar.high < max(bar.open, bar.close):
        return "low <= open, close <= high does not hold"
    if bar.close_ns is not None and bar.close_ns <= bar.open_ns:
        return "close_ns must be after open_ns"
    return ""


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """Best bid and ask, used instead of the last close when a caller has them.

    Raises:
        ValueError: a price not positive, or the bid above the ask.
    """

    product_id: str
    bid: Decimal
    ask: Decimal

    def __post_init__(self) -> None:
        if not (self.bid > 0 and self.ask >= self.bid):
            raise ValueError(f"bad quote {self.product_id}: need 0 < bid <= ask")


class SimOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the simulated venue holds it; callers create it NEW with nothing filled.

    For a quote-sized order `size` counts quote currency and fills are bounded by
    `filled_value`; `filled_size` always counts the base asset. `fees` is the fee
    charged so far, `fee_accrued` the same before rounding (see `fees.charge`).
    """

    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    kind: OrderKind
    size: Decimal
    size_in: SizeUnit = SizeUnit.BASE
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_direction: StopDirection | None = None
    tif: TimeInForce
    end_ns: int | None = None
    post_only: bool = False
    created_ns: int
    status: OrderStatus = OrderStatus.NEW
    reason: str = ""
    accepted_ns: int | None = None
    # From when a resting order may make liquidity: acceptance, or a stop's trigger bar.
    active_ns: int | None = None
    triggered: bool = False
    maker_rate: Decimal = ZERO
    taker_rate: Decimal = ZERO
    filled_size: Decimal = ZERO
    filled_value: Decimal = ZERO
    average_price: Decimal | None = None
    fees: Decimal = ZERO
    fee_accrued: Decimal = ZERO
    fill_count: int = 0


class SimFill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution; `trade_id` is f"{order_id}-{n}" for the order's n-th fill."""

    trade_id: str
    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts_ns: int


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    """A currency's total and the part held for working orders."""

    currency: str
    total: Decimal
    hold: Decimal

    @property
    def available(self) -> Decimal:
        return self.total - self.hold


class OrderAccepted(msgspec.Struct, frozen=True, kw_only=True, tag="accepted"):
    ts_ns: int
    order: SimOrder


class OrderRejected(msgspec.Struct, frozen=True, kw_only=True, tag="rejected"):
    ts_ns: int
    order: SimOrder


class OrderTriggered(msgspec.Struct, frozen=True, kw_only=True, tag="triggered"):
    ts_ns: int
    order: SimOrder


class OrderFilled(msgspec.Struct, frozen=True, kw_only=True, tag="filled"):
    ts_ns: int
    order: SimOrder
    fill: SimFill


class OrderCancelled(msgspec.Struct, frozen=True, kw_only=True, tag="cancelled"):
    ts_ns: int
    order: SimOrder


class OrderExpired(msgspec.Struct, frozen=True, kw_only=True, tag="expired"):
    ts_ns: int
    order: SimOrder


class CancelRejected(msgspec.Struct, frozen=True, kw_only=True, tag="cancel_rejected"):
    """A cancel for an id the engine is not working (unknown or already done)."""

    ts_ns: int
    order_id: str
    reason: str


OrderEvent = (
    OrderAccepted | OrderRejected | OrderTriggered | OrderFilled | OrderCancelled | OrderExpired
)
SimEvent = OrderEvent | CancelRejected
