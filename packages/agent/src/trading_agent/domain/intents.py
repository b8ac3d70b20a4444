"""What strategies say and what sizing turns it into.

A strategy emits a `Signal` (enter long, or exit). Sizing turns an entry into an
`OrderIntent` with an exact size; an exit sells the whole position. The engine sends
intents to the gate as `PlaceOrder` messages, and the signal values and regime travel
with them as the order's reason.
"""

from decimal import Decimal
from enum import StrEnum

import msgspec

__all__ = ["Action", "OrderIntent", "OrderKind", "Signal"]


class Action(StrEnum):
    ENTER_LONG = "enter_long"
    EXIT_LONG = "exit_long"


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's decision at the close of one candle.

    `stop_price` is where the trade is proven wrong (for an entry): sizing risks a fixed
    fraction of equity over the distance to it, and it defines one R for the learning
    loops. `values` are the signal values behind the decision, recorded as the reason.
    """

    strategy_id: str
    product_id: str
    action: Action
    decided_ns: int
    reference_price: Decimal
    order_kind: OrderKind = OrderKind.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    values: dict[str, float] = {}
    regime: str = ""
    note: str = ""


class OrderIntent(msgspec.Struct, frozen=True, kw_only=True):
    """An order the agent wants: exact size in base units, ready for the gate."""

    intent_id: str
    signal: Signal
    side: str  # "buy" | "sell"
    size_base: Decimal
    reduce_only: bool = False
