"""The frozen snapshot every check reads: the order's world at one instant.

The shell builds it from the journal, the market feed and the account; the checks
never look anywhere else, so a decision can be replayed from its audit row alone.
"""

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from trading_contract import ProductId, Side
from trading_gate.core.throttle import SlidingWindow
from trading_gate.core.trading_state import GateMode


class ReferenceMid(msgspec.Struct, frozen=True, kw_only=True):
    """The mid price the collar and notional checks use, and when it was observed."""

    mid: Decimal
    observed_ns: int


class LiveOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order that may still fill: open, partially filled, pending, pending cancel or
    unknown (exposure counts an unresolved order as live)."""

    product_id: ProductId
    side: Side
    remaining_base: Decimal
    # The limit price, or None for a market order (valued at the mid).
    limit_price: Decimal | None = None


class RecentOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order accepted recently, for the duplicate-order window."""

    product_id: ProductId
    side: Side
    size: Decimal
    limit_price: Decimal | None
    accepted_ns: int


class AccountState(msgspec.Struct, frozen=True, kw_only=True):
    """Equity now, at its peak, and at 00:00 UTC, in USD (realized plus unrealized)."""

    equity_usd: Decimal
    equity_peak_usd: Decimal
    day_start_equity_usd: Decimal


class ProductRules(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's trading rules for a product (Coinbase `GET /products/{id}`)."""

    base_increment: Decimal
    quote_increment: Decimal
    price_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    trading_disabled: bool = False
    cancel_only: bool = False
    limit_only: bool = False
    post_only: bool = False


class CheckContext(msgspec.Struct, frozen=True, kw_only=True):
    now_ns: int  # wall clock: reference-price ages and duplicate windows
    mode: GateMode
    positions_base: Mapping[ProductId, Decimal]  # signed: negative is short
    live_orders: tuple[LiveOrder, ...]
    mids: Mapping[ProductId, ReferenceMid]
    product_rules: Mapping[ProductId, ProductRules]
    account: AccountState
    order_window: SlidingWindow
    order_window_now_ns: int  # monotonic clock for the throttle window
    recent_orders: tuple[RecentOrder, ...] = ()
